/**
 * Encode an OTLP `ExportTraceServiceRequest` as protobuf without the OpenTelemetry SDK, so tests
 * and the benchmark can send bodies the receiver must decode (including ones the SDK never makes).
 */
import type { OtlpTraceRequest } from "../otlp/OtlpModel.ts"
import { Writer } from "../otlp/ProtobufWriter.ts"

const hexToBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16))

const encodeAnyValue = (value: unknown): Uint8Array => {
  const w = new Writer()
  if (typeof value === "string") w.stringField(1, value)
  else if (typeof value === "boolean") w.tag(2, 0).varint(value ? 1 : 0)
  else if (typeof value === "number" && Number.isInteger(value)) w.tag(3, 0).varint(value)
  else if (typeof value === "number") {
    w.tag(4, 1)
    const buf = new Uint8Array(8)
    new DataView(buf.buffer).setFloat64(0, value, true)
    for (const b of buf) w.chunks.push(b)
  } else if (Array.isArray(value)) {
    const arr = new Writer()
    for (const v of value) arr.bytesField(1, encodeAnyValue(v))
    w.bytesField(5, arr.finish())
  }
  return w.finish()
}

const encodeKeyValue = (key: string, value: unknown): Uint8Array =>
  new Writer().stringField(1, key).bytesField(2, encodeAnyValue(value)).finish()

/** Encode a request (used by the benchmark and tests to produce protobuf bodies without the SDK). */
export const encodeProtobufRequest = (request: OtlpTraceRequest): Uint8Array => {
  const top = new Writer()
  for (const rs of request.resourceSpans) {
    const rw = new Writer()
    const res = new Writer()
    for (const [k, v] of Object.entries(rs.resource)) res.bytesField(1, encodeKeyValue(k, v))
    rw.bytesField(1, res.finish())
    for (const ss of rs.scopeSpans) {
      const sw = new Writer()
      sw.bytesField(1, new Writer().stringField(1, ss.scopeName).finish())
      for (const s of ss.spans) {
        const w = new Writer()
        w.bytesField(1, hexToBytes(s.traceId)).bytesField(2, hexToBytes(s.spanId))
        if (s.parentSpanId !== "") w.bytesField(4, hexToBytes(s.parentSpanId))
        w.stringField(5, s.name).tag(6, 0).varint(s.kind)
        if (s.startTimeUnixNano !== undefined) w.fixed64Field(7, s.startTimeUnixNano)
        if (s.endTimeUnixNano !== undefined) w.fixed64Field(8, s.endTimeUnixNano)
        for (const [k, v] of Object.entries(s.attributes)) w.bytesField(9, encodeKeyValue(k, v))
        for (const e of s.events) {
          const ew = new Writer().fixed64Field(1, e.timeUnixNano).stringField(2, e.name)
          for (const [k, v] of Object.entries(e.attributes)) ew.bytesField(3, encodeKeyValue(k, v))
          w.bytesField(11, ew.finish())
        }
        if (s.statusCode !== 0 || s.statusMessage !== "") {
          const st = new Writer()
          if (s.statusMessage !== "") st.stringField(2, s.statusMessage)
          st.tag(3, 0).varint(s.statusCode)
          w.bytesField(15, st.finish())
        }
        sw.bytesField(2, w.finish())
      }
      rw.bytesField(2, sw.finish())
    }
    top.bytesField(1, rw.finish())
  }
  return top.finish()
}
