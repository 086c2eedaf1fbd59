/**
 * The OTLP/JSON decoder for `ExportTraceServiceRequest`, tolerant where the specification says so:
 * ids are case-insensitive hex, 64-bit integers arrive as strings or numbers, unknown fields are
 * ignored, enum values may be integers. Shape errors at the request level fail the request, and so
 * does an attribute nested past the depth limit; anything else wrong inside one span is left for
 * per-span validation. Attribute keys are own properties (`__proto__` included).
 */
import { AttributeTooDeep, defaultMaxAttributeDepth, setAttribute } from "./AttributeValues.ts"
import type { DecodeOptions, OtlpEvent, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpTraceRequest } from "./OtlpModel.ts"

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)
const arrayOf = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])
const str = (value: unknown): string => (typeof value === "string" ? value : "")

/** A 64-bit unsigned integer from a decimal string or a number; undefined when neither. */
export const nanos = (value: unknown): bigint | undefined => {
  if (typeof value === "string" && /^\d{1,20}$/.test(value)) return BigInt(value)
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  return undefined
}

const intValue = (value: unknown): number | string | null => {
  if (typeof value === "number") return Number.isFinite(value) ? value : null
  if (typeof value === "string" && /^-?\d+$/.test(value)) {
    const n = Number(value)
    return Number.isSafeInteger(n) ? n : value
  }
  return null
}

/**
 * An OTLP/JSON AnyValue as a plain value. `depth` counts the arrays and key-value lists around it;
 * past `maxDepth` the request is malformed (`AttributeTooDeep` is thrown, and caught at
 * `decodeJsonRequest`).
 */
export const anyValueJson = (value: unknown, maxDepth = defaultMaxAttributeDepth, depth = 0): unknown => {
  if (!isObject(value)) return null
  if ("stringValue" in value) return str(value.stringValue)
  if ("boolValue" in value) return value.boolValue === true
  if ("intValue" in value) return intValue(value.intValue)
  if ("doubleValue" in value) {
    const d = value.doubleValue
    return typeof d === "number" ? d : typeof d === "string" ? Number(d) : null
  }
  if ("arrayValue" in value) {
    if (depth >= maxDepth) throw new AttributeTooDeep(maxDepth)
    return arrayOf(isObject(value.arrayValue) ? value.arrayValue.values : undefined).map((item) => anyValueJson(item, maxDepth, depth + 1))
  }
  if ("kvlistValue" in value) {
    if (depth >= maxDepth) throw new AttributeTooDeep(maxDepth)
    return attributesJson(isObject(value.kvlistValue) ? value.kvlistValue.values : undefined, maxDepth, depth + 1)
  }
  if ("bytesValue" in value) return str(value.bytesValue)
  return null
}

/** A list of OTLP/JSON KeyValues as a record of own properties (`__proto__` is an ordinary key). */
export const attributesJson = (list: unknown, maxDepth = defaultMaxAttributeDepth, depth = 0): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const kv of arrayOf(list)) {
    if (!isObject(kv) || typeof kv.key !== "string") continue
    setAttribute(out, kv.key, anyValueJson(kv.value, maxDepth, depth))
  }
  return out
}

/** Hex ids are case-insensitive; some exporters send base64 (the proto3 JSON default for bytes). */
const idJson = (value: unknown, bytes: number): string => {
  if (typeof value !== "string" || value === "") return ""
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase()
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const decoded = Buffer.from(value, "base64")
    if (decoded.length === bytes) return decoded.toString("hex")
  }
  return value.toLowerCase()
}

const spanKind = (value: unknown): number => {
  if (typeof value === "number") return value
  if (typeof value === "string") {
    const kinds = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"]
    const index = kinds.indexOf(value)
    return index >= 0 ? index : 0
  }
  return 0
}

const statusCode = (value: unknown): number => {
  if (typeof value === "number") return value
  if (value === "STATUS_CODE_OK") return 1
  if (value === "STATUS_CODE_ERROR") return 2
  return 0
}

const spanJson = (s: Json, maxDepth: number): OtlpSpan => {
  const status = isObject(s.status) ? s.status : {}
  return {
    traceId: idJson(s.traceId, 16),
    spanId: idJson(s.spanId, 8),
    parentSpanId: idJson(s.parentSpanId, 8),
    name: str(s.name),
    kind: spanKind(s.kind),
    startTimeUnixNano: nanos(s.startTimeUnixNano),
    endTimeUnixNano: nanos(s.endTimeUnixNano),
    attributes: attributesJson(s.attributes, maxDepth),
    events: arrayOf(s.events).filter(isObject).map((e): OtlpEvent => ({
      name: str(e.name),
      timeUnixNano: nanos(e.timeUnixNano) ?? 0n,
      attributes: attributesJson(e.attributes, maxDepth)
    })),
    statusCode: statusCode(status.code),
    statusMessage: str(status.message)
  }
}

/** Decode a parsed OTLP/JSON body; `{ error }` when it is not an ExportTraceServiceRequest. */
export const decodeJsonRequest = (
  body: unknown,
  options: DecodeOptions = {}
): { readonly request: OtlpTraceRequest } | { readonly error: string } => {
  const maxDepth = options.maxAttributeDepth ?? defaultMaxAttributeDepth
  if (!isObject(body)) return { error: "the body is not a JSON object" }
  if (body.resourceSpans !== undefined && !Array.isArray(body.resourceSpans)) return { error: "resourceSpans is not an array" }
  const resourceSpans: Array<OtlpResourceSpans> = []
  // A value nested past the limit is thrown from deep inside; this is the one place it is caught.
  try {
    for (const rs of arrayOf(body.resourceSpans)) {
      if (!isObject(rs)) return { error: "a resourceSpans entry is not an object" }
      const scopes: Array<OtlpScopeSpans> = []
      // `instrumentationLibrarySpans` is the pre-1.0 name some old exporters still send.
      for (const ss of [...arrayOf(rs.scopeSpans), ...arrayOf(rs.instrumentationLibrarySpans)]) {
        if (!isObject(ss)) return { error: "a scopeSpans entry is not an object" }
        const scope = isObject(ss.scope) ? ss.scope : isObject(ss.instrumentationLibrary) ? ss.instrumentationLibrary : {}
        scopes.push({
          scopeName: str(scope.name),
          // A span that is not even an object is kept as an empty span, so validation counts it as rejected.
          spans: arrayOf(ss.spans).map((s) => spanJson(isObject(s) ? s : {}, maxDepth))
        })
      }
      resourceSpans.push({ resource: attributesJson(isObject(rs.resource) ? rs.resource.attributes : undefined, maxDepth), scopeSpans: scopes })
    }
  } catch (error) {
    if (error instanceof AttributeTooDeep) return { error: error.message }
    throw error
  }
  return { request: { resourceSpans } }
}
