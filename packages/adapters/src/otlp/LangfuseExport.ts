/**
 * Langfuse trace exports (`{trace, observations}`) as OTLP/JSON requests. Langfuse keeps each
 * observation's original OpenTelemetry span attributes in `metadata.attributes` (and resource and
 * scope beside them), so an export converts back to the spans the SDK sent: observation id -> span
 * id, parentObservationId -> parent, start/end times, level ERROR -> status error, and the
 * prompt/completion Langfuse lifted into `input`/`output` back as `input.value`/`output.value`. This lets
 * `spectral ingest` read real framework traces captured by Langfuse as well as OTLP/JSON files.
 */
import { parseJsonText } from "@spectral/engine"

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

export const isLangfuseExport = (value: unknown): value is { observations: ReadonlyArray<unknown> } =>
  isObject(value) && Array.isArray(value.observations) && !("resourceSpans" in value)

const anyValue = (value: unknown): Json => {
  if (typeof value === "string") return { stringValue: value }
  if (typeof value === "boolean") return { boolValue: value }
  if (typeof value === "number") return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }
  if (value === null || value === undefined) return { stringValue: "" }
  return { stringValue: JSON.stringify(value) }
}

const keyValues = (record: unknown): Array<Json> =>
  isObject(record) ? Object.entries(record).map(([key, value]) => ({ key, value: anyValue(value) })) : []

const nanosOf = (iso: unknown): string | undefined => {
  if (typeof iso !== "string") return undefined
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? (BigInt(ms) * 1_000_000n).toString() : undefined
}

const hexId = (id: unknown, bytes: number): string => {
  const text = typeof id === "string" ? id.replace(/-/g, "") : ""
  return /^[0-9a-fA-F]+$/.test(text) ? text.toLowerCase().padStart(bytes * 2, "0").slice(-bytes * 2) : text
}

/** The export as one OTLP/JSON `ExportTraceServiceRequest` (one resourceSpans per observation). */
export const langfuseToOtlpJson = (exported: { observations: ReadonlyArray<unknown> }): Json => ({
  resourceSpans: exported.observations.filter(isObject).map((o) => {
    const metadata = typeof o.metadata === "string" ? parseJsonText(o.metadata) : o.metadata
    const md = isObject(metadata) ? metadata : {}
    const attributes = typeof md.attributes === "string" ? parseJsonText(md.attributes) : md.attributes
    const scope = isObject(md.scope) ? md.scope : {}
    const start = nanosOf(o.startTime)
    const end = nanosOf(o.endTime) ?? start
    return {
      resource: { attributes: keyValues(md.resourceAttributes) },
      scopeSpans: [{
        scope: { name: typeof scope.name === "string" ? scope.name : "" },
        spans: [{
          traceId: hexId(o.traceId, 16),
          spanId: hexId(o.id, 8),
          ...(o.parentObservationId == null ? {} : { parentSpanId: hexId(o.parentObservationId, 8) }),
          name: typeof o.name === "string" ? o.name : "",
          kind: 1,
          ...(start === undefined ? {} : { startTimeUnixNano: start }),
          ...(end === undefined ? {} : { endTimeUnixNano: end }),
          // Langfuse lifts prompt and completion out of the span attributes into input/output.
          attributes: keyValues({
            ...(o.input == null ? {} : { "input.value": o.input }),
            ...(o.output == null ? {} : { "output.value": o.output }),
            ...(isObject(attributes) ? attributes : {})
          }),
          status: o.level === "ERROR" ? { code: 2, message: typeof o.statusMessage === "string" ? o.statusMessage : "" } : {}
        }]
      }]
    }
  })
})
