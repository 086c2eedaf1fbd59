/**
 * A protobuf wire decoder for `ExportTraceServiceRequest` (opentelemetry/proto trace v1) and the
 * encoder for its response. No protobuf library is installed, and the messages are small: varints,
 * length-delimited fields, fixed32/fixed64. Unknown fields are skipped by wire type, as protobuf
 * requires; a truncated or impossible wire structure, or an attribute nested past the depth limit,
 * fails the whole request. Attribute keys are own properties (`__proto__` included).
 */
import { AttributeTooDeep, defaultMaxAttributeDepth, setAttribute } from "./AttributeValues.ts"
import { bytesToHex, type DecodeOptions, type OtlpEvent, type OtlpResourceSpans, type OtlpScopeSpans, type OtlpSpan, type OtlpTraceRequest } from "./OtlpModel.ts"
import { Writer } from "./ProtobufWriter.ts"

class WireError {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false })

class Reader {
  pos: number
  readonly end: number
  readonly buf: Uint8Array
  readonly view: DataView
  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf
    this.pos = pos
    this.end = end
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  varint(): number {
    // Fast path for values below 2^28; larger ones go through bigint-free float math (exact to 2^53).
    let result = 0
    let shift = 0
    let multiplier = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("truncated varint")
      const byte = this.buf[this.pos++]!
      if (shift < 28) result |= (byte & 0x7f) << shift
      else result += (byte & 0x7f) * multiplier
      multiplier *= 128
      shift += 7
      if ((byte & 0x80) === 0) return shift <= 28 ? result >>> 0 : result
    }
    throw new WireError("varint too long")
  }
  varintBig(): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("truncated varint")
      const byte = this.buf[this.pos++]!
      result |= BigInt(byte & 0x7f) << shift
      shift += 7n
      if ((byte & 0x80) === 0) return BigInt.asIntN(64, result)
    }
    throw new WireError("varint too long")
  }
  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new WireError("truncated fixed64")
    const value = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    return value
  }
  double(): number {
    if (this.pos + 8 > this.end) throw new WireError("truncated double")
    const value = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return value
  }
  /** A length-delimited field: returns [start, end) and moves past it. */
  bytes(): [number, number] {
    const length = this.varint()
    const start = this.pos
    const end = start + length
    if (end > this.end) throw new WireError("length-delimited field runs past its message")
    this.pos = end
    return [start, end]
  }
  string(): string {
    const [start, end] = this.bytes()
    return utf8.decode(this.buf.subarray(start, end))
  }
  sub(): Reader {
    const [start, end] = this.bytes()
    return new Reader(this.buf, start, end)
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint()
        return
      case 1:
        if (this.pos + 8 > this.end) throw new WireError("truncated fixed64")
        this.pos += 8
        return
      case 2:
        this.bytes()
        return
      case 5:
        if (this.pos + 4 > this.end) throw new WireError("truncated fixed32")
        this.pos += 4
        return
      default:
        throw new WireError(`unsupported wire type ${wireType}`)
    }
  }
  more(): boolean {
    return this.pos < this.end
  }
}

const int64Value = (value: bigint): number | string =>
  value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()

/** Arrays and key-value lists may nest `limit` levels inside an attribute; `depth` is how many are around. */
interface Nesting {
  readonly limit: number
  readonly depth: number
}

const deeper = (nesting: Nesting): Nesting => {
  if (nesting.depth >= nesting.limit) throw new AttributeTooDeep(nesting.limit)
  return { limit: nesting.limit, depth: nesting.depth + 1 }
}

const anyValue = (r: Reader, nesting: Nesting): unknown => {
  let value: unknown = null
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === 2) value = r.string()
    else if (field === 2 && wire === 0) value = r.varint() !== 0
    else if (field === 3 && wire === 0) value = int64Value(r.varintBig())
    else if (field === 4 && wire === 1) value = r.double()
    else if (field === 5 && wire === 2) value = arrayValue(r.sub(), deeper(nesting))
    else if (field === 6 && wire === 2) value = keyValues(r.sub(), {}, deeper(nesting))
    else if (field === 7 && wire === 2) {
      const [start, end] = r.bytes()
      value = Buffer.from(r.buf.subarray(start, end)).toString("base64")
    } else r.skip(wire)
  }
  return value
}

const arrayValue = (r: Reader, nesting: Nesting): Array<unknown> => {
  const values: Array<unknown> = []
  while (r.more()) {
    const tag = r.varint()
    if (tag >>> 3 === 1 && (tag & 7) === 2) values.push(anyValue(r.sub(), nesting))
    else r.skip(tag & 7)
  }
  return values
}

/** Reads repeated KeyValue entries (a KeyValueList body) into `into`. */
const keyValues = (r: Reader, into: Record<string, unknown>, nesting: Nesting): Record<string, unknown> => {
  while (r.more()) {
    const tag = r.varint()
    if (tag >>> 3 === 1 && (tag & 7) === 2) keyValue(r.sub(), into, nesting)
    else r.skip(tag & 7)
  }
  return into
}

const keyValue = (r: Reader, into: Record<string, unknown>, nesting: Nesting): void => {
  let key = ""
  let value: unknown = null
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === 2) key = r.string()
    else if (field === 2 && wire === 2) value = anyValue(r.sub(), nesting)
    else r.skip(wire)
  }
  setAttribute(into, key, value)
}

const idHex = (r: Reader): string => {
  const [start, end] = r.bytes()
  return bytesToHex(r.buf.subarray(start, end))
}

const event = (r: Reader, nesting: Nesting): OtlpEvent => {
  let name = ""
  let time = 0n
  const attributes: Record<string, unknown> = {}
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === 1) time = r.fixed64()
    else if (field === 2 && wire === 2) name = r.string()
    else if (field === 3 && wire === 2) keyValue(r.sub(), attributes, nesting)
    else r.skip(wire)
  }
  return { name, timeUnixNano: time, attributes }
}

const span = (r: Reader, nesting: Nesting): OtlpSpan => {
  let traceId = ""
  let spanId = ""
  let parentSpanId = ""
  let name = ""
  let kind = 0
  let start: bigint | undefined
  let end: bigint | undefined
  const attributes: Record<string, unknown> = {}
  const events: Array<OtlpEvent> = []
  let statusCode = 0
  let statusMessage = ""
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    switch (field) {
      case 1:
        if (wire === 2) traceId = idHex(r)
        else r.skip(wire)
        break
      case 2:
        if (wire === 2) spanId = idHex(r)
        else r.skip(wire)
        break
      case 4:
        if (wire === 2) parentSpanId = idHex(r)
        else r.skip(wire)
        break
      case 5:
        if (wire === 2) name = r.string()
        else r.skip(wire)
        break
      case 6:
        if (wire === 0) kind = r.varint()
        else r.skip(wire)
        break
      case 7:
        if (wire === 1) start = r.fixed64()
        else r.skip(wire)
        break
      case 8:
        if (wire === 1) end = r.fixed64()
        else r.skip(wire)
        break
      case 9:
        if (wire === 2) keyValue(r.sub(), attributes, nesting)
        else r.skip(wire)
        break
      case 11:
        if (wire === 2) events.push(event(r.sub(), nesting))
        else r.skip(wire)
        break
      case 15:
        if (wire === 2) {
          const s = r.sub()
          while (s.more()) {
            const t = s.varint()
            if (t >>> 3 === 2 && (t & 7) === 2) statusMessage = s.string()
            else if (t >>> 3 === 3 && (t & 7) === 0) statusCode = s.varint()
            else s.skip(t & 7)
          }
        } else r.skip(wire)
        break
      default:
        r.skip(wire)
    }
  }
  return { traceId, spanId, parentSpanId, name, kind, startTimeUnixNano: start, endTimeUnixNano: end, attributes, events, statusCode, statusMessage }
}

const scopeSpans = (r: Reader, nesting: Nesting): OtlpScopeSpans => {
  let scopeName = ""
  const spans: Array<OtlpSpan> = []
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === 2) {
      const s = r.sub()
      while (s.more()) {
        const t = s.varint()
        if (t >>> 3 === 1 && (t & 7) === 2) scopeName = s.string()
        else s.skip(t & 7)
      }
    } else if (field === 2 && wire === 2) spans.push(span(r.sub(), nesting))
    else r.skip(wire)
  }
  return { scopeName, spans }
}

const resourceSpans = (r: Reader, nesting: Nesting): OtlpResourceSpans => {
  const resource: Record<string, unknown> = {}
  const scopes: Array<OtlpScopeSpans> = []
  while (r.more()) {
    const tag = r.varint()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === 2) {
      const s = r.sub()
      while (s.more()) {
        const t = s.varint()
        if (t >>> 3 === 1 && (t & 7) === 2) keyValue(s.sub(), resource, nesting)
        else s.skip(t & 7)
      }
    } else if (field === 2 && wire === 2) scopes.push(scopeSpans(r.sub(), nesting))
    else r.skip(wire)
  }
  return { resource, scopeSpans: scopes }
}

/**
 * Decode a protobuf `ExportTraceServiceRequest`; a malformed wire structure, or an attribute nested
 * past `maxAttributeDepth`, is `{ error }`.
 */
export const decodeProtobufRequest = (
  body: Uint8Array,
  options: DecodeOptions = {}
): { readonly request: OtlpTraceRequest } | { readonly error: string } => {
  const r = new Reader(body, 0, body.length)
  const out: Array<OtlpResourceSpans> = []
  const nesting: Nesting = { limit: options.maxAttributeDepth ?? defaultMaxAttributeDepth, depth: 0 }
  // Protobuf throws on malformed input deep in recursion; the one boundary where it is caught.
  try {
    while (r.more()) {
      const tag = r.varint()
      if (tag >>> 3 === 1 && (tag & 7) === 2) out.push(resourceSpans(r.sub(), nesting))
      else r.skip(tag & 7)
    }
  } catch (error) {
    if (error instanceof AttributeTooDeep) return { error: error.message }
    if (error instanceof WireError) return { error: `malformed protobuf: ${error.message}` }
    return { error: "malformed protobuf" }
  }
  return { request: { resourceSpans: out } }
}

// ---------------------------------------------------------------- encoding (responses)

/** `ExportTraceServiceResponse { partial_success { rejected_spans, error_message } }`. */
export const encodeProtobufResponse = (rejectedSpans: number, errorMessage: string): Uint8Array => {
  if (rejectedSpans === 0 && errorMessage === "") return new Uint8Array(0)
  const partial = new Writer()
  if (rejectedSpans > 0) partial.tag(1, 0).varint(rejectedSpans)
  if (errorMessage !== "") partial.stringField(2, errorMessage)
  return new Writer().bytesField(1, partial.finish()).finish()
}

/** `google.rpc.Status { code, message }`, the body of a failed OTLP/HTTP protobuf request. */
export const encodeProtobufStatus = (code: number, message: string): Uint8Array =>
  new Writer().tag(1, 0).varint(code).stringField(2, message).finish()
