/**
 * The usage ledger: one record per logical model call (not per HTTP attempt), with tokens, cost,
 * latency, attempts and whether the answer came from the response cache. Cache hits are counted
 * apart and cost nothing, so dollar totals stay true on re-runs. Calls that reached the provider
 * and were billed but could not be used (unparseable output) are recorded with their cost.
 *
 * Owns: the record shape, the totals, the service and its in-memory layer. Not here: persistence
 * (a host can provide its own layer that writes to its store).
 */
import { Context, Effect, Layer } from "effect"
import type { ModelPhase } from "@spectral/engine"

export type ModelOperation = "chat" | "chat-repair" | "embedding"

/** How a logical call ended: `parse_failure` was billed, `failed` never produced output. */
export type ModelCallOutcome = "success" | "parse_failure" | "failed"

export interface ModelCallRecord {
  readonly operation: ModelOperation
  readonly workspaceId: string
  readonly phase: ModelPhase
  readonly purpose: string
  readonly model: string
  readonly cached: boolean
  readonly outcome: ModelCallOutcome
  /** The `AiError` reason tag when the call failed. */
  readonly errorTag?: string | undefined
  readonly inputTokens: number
  readonly outputTokens: number
  /** Dollars billed for this call; zero on a cache hit. */
  readonly costUsd: number
  /** What the cached answer cost when it was first produced (cache hits only). */
  readonly savedUsd: number
  /** HTTP attempts made (zero on a cache hit). */
  readonly attempts: number
  readonly latencyMs: number
}

export interface UsageTotals {
  /** Logical calls that went to the provider (cache hits excluded). */
  readonly calls: number
  readonly cacheHits: number
  readonly failures: number
  readonly attempts: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
  readonly savedUsd: number
}

export const emptyTotals: UsageTotals = {
  calls: 0,
  cacheHits: 0,
  failures: 0,
  attempts: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  savedUsd: 0
}

export const addRecord = (totals: UsageTotals, record: ModelCallRecord): UsageTotals => ({
  calls: totals.calls + (record.cached ? 0 : 1),
  cacheHits: totals.cacheHits + (record.cached ? 1 : 0),
  failures: totals.failures + (record.outcome === "success" ? 0 : 1),
  attempts: totals.attempts + record.attempts,
  inputTokens: totals.inputTokens + (record.cached ? 0 : record.inputTokens),
  outputTokens: totals.outputTokens + (record.cached ? 0 : record.outputTokens),
  costUsd: totals.costUsd + record.costUsd,
  savedUsd: totals.savedUsd + record.savedUsd
})

export class UsageLedger extends Context.Service<UsageLedger, {
  readonly record: (record: ModelCallRecord) => Effect.Effect<void>
  readonly records: Effect.Effect<ReadonlyArray<ModelCallRecord>>
  /** Totals, optionally for one workspace. */
  readonly totals: (workspaceId?: string) => Effect.Effect<UsageTotals>
}>()("@spectral/adapters/llm/UsageLedger") {
  static readonly layerMemory: Layer.Layer<UsageLedger> = Layer.sync(UsageLedger, () => makeMemory())
}

export const makeMemory = (): UsageLedger["Service"] => {
  const entries: Array<ModelCallRecord> = []
  return UsageLedger.of({
    record: (record) => Effect.sync(() => void entries.push(record)),
    records: Effect.sync(() => entries.slice()),
    totals: (workspaceId) =>
      Effect.sync(() =>
        entries
          .filter((record) => workspaceId === undefined || record.workspaceId === workspaceId)
          .reduce(addRecord, emptyTotals)
      )
  })
}
