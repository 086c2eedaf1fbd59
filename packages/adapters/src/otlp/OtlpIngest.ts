/**
 * The ingest path every entry point shares (HTTP receiver, `ingestOtlp`, `spectral ingest`): decode,
 * validate each span, map the valid ones to Traces, append them (idempotent on trace id + span id)
 * and start their retention tracking. Invalid spans are counted and described, never stored; valid
 * spans of the same batch are stored, a value PostgreSQL cannot store (NUL, a lone surrogate)
 * escaped and said so in the message; a span the store still refuses (for a reason a retry would not
 * change) is rejected alone, the rest of its batch stored. A bounded number of batches run at once: past it, ingest
 * fails with `IngestOverloaded` at once (the receiver answers 503 with Retry-After) rather than
 * accepting work it would drop.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { type ModelPrice, PriceTable, RetentionRepo, StorageError, TraceRepo, trackIngested } from "@spectral/engine"
import { isWorkspaceId, type Trace } from "@spectral/engine/contracts"
import { escapeUnstorable, storableTrace } from "./AttributeValues.ts"
import { spanProblem, toTrace } from "./GenAiMapping.ts"
import { decodeJsonRequest } from "./OtlpJson.ts"
import { type DecodeOptions, OtlpDecodeError, type OtlpTraceRequest } from "./OtlpModel.ts"
import { decodeProtobufRequest } from "./OtlpProtobuf.ts"

export class IngestOverloaded extends Schema.TaggedError<IngestOverloaded>()("IngestOverloaded", {
  retryAfterSeconds: Schema.Number
}) {}

export interface IngestResult {
  readonly accepted: number
  readonly rejected: number
  /** Newly stored spans (accepted minus spans already stored before). */
  readonly stored: number
  /** Accepted spans stored with a value escaped (a NUL or a lone surrogate, which PostgreSQL cannot store). */
  readonly escaped: number
  /** Why spans were rejected, and which were stored escaped; empty when neither happened. */
  readonly errorMessage: string
  readonly traceIds: ReadonlyArray<string>
}

const firstFew = 5

/** `n span(s) <what>: <first few>; and m more`, or "" when there is nothing to say. */
const summarize = (count: number, what: string, details: ReadonlyArray<string>): string => {
  if (count === 0) return ""
  const more = count > details.length ? `; and ${count - details.length} more` : ""
  return `${count} span(s) ${what}: ${details.join("; ")}${more}`
}

const spanLabel = (spanId: string) => `span ${escapeUnstorable(spanId) || "(no id)"}`

/** Validate and map every span; the invalid ones are counted with their first few reasons. */
export const mapRequest = (
  workspaceId: string,
  request: OtlpTraceRequest,
  prices: ReadonlyMap<string, ModelPrice>
): {
  readonly traces: Array<Trace>
  readonly rejected: number
  readonly reasons: ReadonlyArray<string>
  /** Ids of the traces stored with a value escaped, and the first few places. */
  readonly escapedIds: ReadonlySet<string>
  readonly escapes: ReadonlyArray<string>
} => {
  const traces: Array<Trace> = []
  const reasons: Array<string> = []
  const escapes: Array<string> = []
  const escapedIds = new Set<string>()
  let rejected = 0
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const problem = spanProblem(span)
        if (problem !== undefined) {
          rejected++
          if (reasons.length < firstFew) reasons.push(`${spanLabel(span.spanId)}: ${escapeUnstorable(problem)}`)
          continue
        }
        const stored = storableTrace(toTrace(span, { workspaceId, resource: rs.resource, scopeName: ss.scopeName, prices }))
        if (stored.escaped.length > 0) {
          escapedIds.add(stored.trace.id)
          if (escapes.length < firstFew) escapes.push(`${spanLabel(span.spanId)}: ${stored.escaped.slice(0, 3).join(", ")}`)
        }
        traces.push(stored.trace)
      }
    }
  }
  return { traces, rejected, reasons, escapedIds, escapes }
}

/** The `partialSuccess.errorMessage`: rejected spans first, then the escaped ones (a warning). */
const errorMessageOf = (rejected: number, reasons: ReadonlyArray<string>, escaped: number, escapes: ReadonlyArray<string>): string =>
  [
    summarize(rejected, "rejected", reasons),
    summarize(escaped, "stored with NUL characters or lone surrogates escaped as \\uXXXX (PostgreSQL stores neither)", escapes)
  ].filter((part) => part !== "").join("; ")

export type OtlpEncoding = "json" | "protobuf"

/** Why a body is not JSON, without quoting it (V8's message quotes the text it choked on). */
const jsonProblem = (error: unknown): string => {
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : "")
  return position === null ? "not valid JSON" : `not valid JSON (at position ${position[1]})`
}

/** Decode a body in either encoding (JSON as text or already parsed). */
export const decodeOtlp = (
  encoding: OtlpEncoding,
  body: Uint8Array | string | unknown,
  options: DecodeOptions = {}
): Effect.Effect<OtlpTraceRequest, OtlpDecodeError> =>
  Effect.suspend(() => {
    if (encoding === "protobuf") {
      const decoded = decodeProtobufRequest(body as Uint8Array, options)
      return "error" in decoded ? Effect.fail(new OtlpDecodeError({ encoding, message: decoded.error })) : Effect.succeed(decoded.request)
    }
    const parsed = body instanceof Uint8Array || typeof body === "string"
      ? Effect.try({
        try: () => JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body)) as unknown,
        catch: (error) => new OtlpDecodeError({ encoding, message: jsonProblem(error) })
      })
      : Effect.succeed(body)
    return Effect.flatMap(parsed, (json) => {
      const decoded = decodeJsonRequest(json, options)
      return "error" in decoded ? Effect.fail(new OtlpDecodeError({ encoding, message: decoded.error })) : Effect.succeed(decoded.request)
    })
  })

export interface OtlpIngestOptions {
  /** Batches processed at once before new ones are refused as overloaded (default 16). */
  readonly maxConcurrentBatches?: number
  readonly retryAfterSeconds?: number
}

export class OtlpIngest extends Context.Service<OtlpIngest, {
  readonly ingest: (workspaceId: string, request: OtlpTraceRequest) => Effect.Effect<IngestResult, StorageError | IngestOverloaded>
}>()("@spectral/adapters/otlp/OtlpIngest") {
  static readonly make = (options: OtlpIngestOptions = {}) =>
    Effect.gen(function*() {
      const traceRepo = yield* TraceRepo
      const retention = yield* RetentionRepo
      const maxBatches = options.maxConcurrentBatches ?? 16
      const retryAfterSeconds = options.retryAfterSeconds ?? 2
      let inFlight = 0
      /** One span on its own: stored (how many new rows), or the store's reason for refusing it. */
      const appendOne = (workspaceId: string, trace: Trace) =>
        traceRepo.append(workspaceId, [trace]).pipe(
          Effect.map((stored) => ({ trace, stored, refused: undefined })),
          Effect.catchIf(
            (error) => error.reason._tag !== "Unavailable",
            (error) => Effect.succeed({ trace, stored: 0, refused: `${spanLabel(trace.spanId)}: could not be stored: ${escapeUnstorable(error.message)}` })
          )
        )

      /**
       * Store the batch in one call; when the store refuses it for a reason a retry would not change
       * (not `Unavailable`), store it span by span, so only the spans it refuses are lost.
       */
      const append = (workspaceId: string, traces: ReadonlyArray<Trace>) =>
        traceRepo.append(workspaceId, traces).pipe(
          Effect.map((stored) => ({ stored, kept: traces, refused: [] as ReadonlyArray<string> })),
          Effect.catchIf(
            (error) => error.reason._tag !== "Unavailable" && traces.length > 1,
            () =>
              Effect.map(Effect.forEach(traces, (trace) => appendOne(workspaceId, trace)), (results) => ({
                stored: results.reduce((total, result) => total + result.stored, 0),
                kept: results.flatMap((result) => result.refused === undefined ? [result.trace] : []),
                refused: results.flatMap((result) => result.refused === undefined ? [] : [result.refused])
              }))
          )
        )

      const run = Effect.fnUntraced(function*(workspaceId: string, request: OtlpTraceRequest) {
        const prices = yield* PriceTable
        const mapped = mapRequest(workspaceId, request, prices)
        const { stored, kept, refused } = mapped.traces.length === 0
          ? { stored: 0, kept: [], refused: [] }
          : yield* append(workspaceId, mapped.traces)
        const traceIds = [...new Set(kept.map((t) => t.traceId))]
        yield* trackIngested(workspaceId, traceIds).pipe(Effect.provideService(RetentionRepo, retention))
        const rejected = mapped.rejected + refused.length
        const reasons = [...mapped.reasons, ...refused].slice(0, firstFew)
        const escaped = kept.filter((trace) => mapped.escapedIds.has(trace.id)).length
        return {
          accepted: kept.length,
          rejected,
          stored,
          escaped,
          errorMessage: errorMessageOf(rejected, reasons, escaped, mapped.escapes),
          traceIds
        } satisfies IngestResult
      })
      const ingest = (workspaceId: string, request: OtlpTraceRequest): Effect.Effect<IngestResult, StorageError | IngestOverloaded> =>
        Effect.suspend((): Effect.Effect<IngestResult, StorageError | IngestOverloaded> => {
          if (!isWorkspaceId(workspaceId)) return Effect.fail(StorageError.refused("trace", "(batch)", "the empty workspace id names no workspace"))
          if (inFlight >= maxBatches) return Effect.fail(new IngestOverloaded({ retryAfterSeconds }))
          inFlight++
          return run(workspaceId, request).pipe(Effect.ensuring(Effect.sync(() => void inFlight--)))
        })
      return OtlpIngest.of({ ingest })
    })

  /** Needs TraceRepo and RetentionRepo (for example `MemoryStorage.layer`). */
  static readonly layer = (options: OtlpIngestOptions = {}) => Layer.effect(OtlpIngest, OtlpIngest.make(options))
}

/**
 * The library call: ingest one OTLP body for a workspace the caller has already authenticated.
 * `body` is protobuf bytes, JSON text, or parsed JSON.
 */
export const ingestOtlp = Effect.fn("OtlpIngest.ingestOtlp")(function*(
  workspaceId: string,
  encoding: OtlpEncoding,
  body: Uint8Array | string | unknown
) {
  const request = yield* decodeOtlp(encoding, body)
  const service = yield* OtlpIngest
  return yield* service.ingest(workspaceId, request)
})
