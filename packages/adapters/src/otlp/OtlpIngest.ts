/**
 * The ingest path every entry point shares (HTTP receiver, `ingestOtlp`, `spectral ingest`): decode,
 * validate each span, map the valid ones to Traces, append them (idempotent on trace id + span id)
 * and start their retention tracking. Invalid spans are counted and described, never stored; valid
 * spans of the same batch are stored. A bounded number of batches run at once: past it, ingest
 * fails with `IngestOverloaded` at once (the receiver answers 503 with Retry-After) rather than
 * accepting work it would drop.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { type ModelPrice, PriceTable, RetentionRepo, type StorageError, TraceRepo, trackIngested } from "@spectral/engine"
import type { Trace } from "@spectral/engine/contracts"
import { spanProblem, toTrace } from "./GenAiMapping.ts"
import { decodeJsonRequest } from "./OtlpJson.ts"
import { OtlpDecodeError, type OtlpTraceRequest } from "./OtlpModel.ts"
import { decodeProtobufRequest } from "./OtlpProtobuf.ts"

export class IngestOverloaded extends Schema.TaggedError<IngestOverloaded>()("IngestOverloaded", {
  retryAfterSeconds: Schema.Number
}) {}

export interface IngestResult {
  readonly accepted: number
  readonly rejected: number
  /** Newly stored spans (accepted minus spans already stored before). */
  readonly stored: number
  readonly errorMessage: string
  readonly traceIds: ReadonlyArray<string>
}

/** Validate and map every span; the invalid ones are counted with their first few reasons. */
export const mapRequest = (
  workspaceId: string,
  request: OtlpTraceRequest,
  prices: ReadonlyMap<string, ModelPrice>
): { readonly traces: Array<Trace>; readonly rejected: number; readonly errorMessage: string } => {
  const traces: Array<Trace> = []
  const reasons: Array<string> = []
  let rejected = 0
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const problem = spanProblem(span)
        if (problem !== undefined) {
          rejected++
          if (reasons.length < 5) reasons.push(`span ${span.spanId || "(no id)"}: ${problem}`)
          continue
        }
        traces.push(toTrace(span, { workspaceId, resource: rs.resource, scopeName: ss.scopeName, prices }))
      }
    }
  }
  const more = rejected > reasons.length ? `; and ${rejected - reasons.length} more` : ""
  return { traces, rejected, errorMessage: rejected === 0 ? "" : `${rejected} span(s) rejected: ${reasons.join("; ")}${more}` }
}

export type OtlpEncoding = "json" | "protobuf"

/** Decode a body in either encoding (JSON as text or already parsed). */
export const decodeOtlp = (encoding: OtlpEncoding, body: Uint8Array | string | unknown): Effect.Effect<OtlpTraceRequest, OtlpDecodeError> =>
  Effect.suspend(() => {
    if (encoding === "protobuf") {
      const decoded = decodeProtobufRequest(body as Uint8Array)
      return "error" in decoded ? Effect.fail(new OtlpDecodeError({ encoding, message: decoded.error })) : Effect.succeed(decoded.request)
    }
    const parsed = body instanceof Uint8Array || typeof body === "string"
      ? Effect.try({
        try: () => JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body)) as unknown,
        catch: (error) => new OtlpDecodeError({ encoding, message: `not valid JSON: ${String(error)}` })
      })
      : Effect.succeed(body)
    return Effect.flatMap(parsed, (json) => {
      const decoded = decodeJsonRequest(json)
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
      const run = Effect.fnUntraced(function*(workspaceId: string, request: OtlpTraceRequest) {
        const prices = yield* PriceTable
        const { traces, rejected, errorMessage } = mapRequest(workspaceId, request, prices)
        const stored = traces.length === 0 ? 0 : yield* traceRepo.append(workspaceId, traces)
        const traceIds = [...new Set(traces.map((t) => t.traceId))]
        yield* trackIngested(workspaceId, traceIds).pipe(Effect.provideService(RetentionRepo, retention))
        return { accepted: traces.length, rejected, stored, errorMessage, traceIds } satisfies IngestResult
      })
      const ingest = (workspaceId: string, request: OtlpTraceRequest): Effect.Effect<IngestResult, StorageError | IngestOverloaded> =>
        Effect.suspend((): Effect.Effect<IngestResult, StorageError | IngestOverloaded> => {
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
