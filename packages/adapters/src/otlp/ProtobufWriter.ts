/**
 * A minimal protobuf wire writer: varints, tags, length-delimited and fixed64 fields. The receiver
 * uses it for its responses; `@spectral/adapters/testing` uses it to encode requests.
 */
export class Writer {
  readonly chunks: Array<number> = []
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value))
    while (v > 0x7fn) {
      this.chunks.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.chunks.push(Number(v))
    return this
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire)
  }
  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, 2).varint(bytes.length)
    for (const b of bytes) this.chunks.push(b)
    return this
  }
  stringField(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value))
  }
  fixed64Field(field: number, value: bigint): this {
    this.tag(field, 1)
    const buf = new Uint8Array(8)
    new DataView(buf.buffer).setBigUint64(0, BigInt.asUintN(64, value), true)
    for (const b of buf) this.chunks.push(b)
    return this
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks)
  }
}
