/**
 * The OTLP trace request as both decoders (JSON and protobuf) produce it: ids as lower-case hex,
 * times as nanosecond bigints, attribute values as plain JSON-safe values. Decoding never throws on
 * a single bad span: span-level problems are left to validation, so one bad span does not cost the
 * batch. A body that is not an OTLP request at all is an `OtlpDecodeError`.
 */
import { Schema } from "effect"

export interface OtlpEvent {
  readonly name: string
  readonly timeUnixNano: bigint
  readonly attributes: Record<string, unknown>
}

export interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  /** Undefined when the field is missing or not a valid integer. */
  readonly startTimeUnixNano: bigint | undefined
  readonly endTimeUnixNano: bigint | undefined
  readonly attributes: Record<string, unknown>
  readonly events: ReadonlyArray<OtlpEvent>
  readonly statusCode: number
  readonly statusMessage: string
}

export interface OtlpScopeSpans {
  readonly scopeName: string
  readonly spans: ReadonlyArray<OtlpSpan>
}

export interface OtlpResourceSpans {
  readonly resource: Record<string, unknown>
  readonly scopeSpans: ReadonlyArray<OtlpScopeSpans>
}

export interface OtlpTraceRequest {
  readonly resourceSpans: ReadonlyArray<OtlpResourceSpans>
}

/** Limits both decoders apply. */
export interface DecodeOptions {
  /** How deeply arrays and key-value lists may nest inside an attribute (default 32). */
  readonly maxAttributeDepth?: number | undefined
}

export class OtlpDecodeError extends Schema.TaggedError<OtlpDecodeError>()("OtlpDecodeError", {
  encoding: Schema.Literals(["json", "protobuf"]),
  message: Schema.String
}) {}

export const spanCount = (request: OtlpTraceRequest): number => {
  let n = 0
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length
  return n
}

const hexDigits = "0123456789abcdef"
export const bytesToHex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += hexDigits[bytes[i]! >> 4]! + hexDigits[bytes[i]! & 15]!
  return out
}
