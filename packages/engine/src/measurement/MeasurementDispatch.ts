/**
 * Where a measurement's stimuli are measured: in this process (the default), or in chunks handed to
 * whichever processes a host runs (`spectral runner`: each chunk a child workflow of the scan,
 * spread over the runners by the hash of its key — `workflow/MeasureChunkWorkflow.ts`).
 *
 * A chunk is a slice of the measurement's stimuli (every epoch of each) with the same team,
 * framework and arm. Its process runs the team on it, scores it with both authorities, writes its
 * traces and eval results (idempotent on trace id), and hands back the runs and what its calls
 * spent. The scan's ledger holds the chunk's worst case as a block while it is out
 * (`BudgetLedger.reserveBlock`) and settles it, once per chunk key, at what was really spent — so
 * the hard budget holds across processes, and a chunk replayed after a crash is not charged twice.
 */
import { Context, type Effect, Schema } from "effect"
import { RunMeasurement } from "../contracts/PhaseOutputs.ts"
import { SpendFigures } from "../contracts/Scan.ts"
import type { BudgetExhausted } from "../agents/BudgetLedger.ts"
import type { StorageError } from "../ports/StorageError.ts"
import type { MeasureRequest } from "./MeasureRequest.ts"

/** Which limit of a budget ran out. */
export const BudgetLimit = Schema.Literals(["calls", "tokens", "usd"])

/** What a chunk's calls spent, by purpose of the call (`agent:<id>`, `judge`). */
export const ChunkSpend = Schema.Record(Schema.String, SpendFigures)
export type ChunkSpend = typeof ChunkSpend.Type

/** What measuring a chunk elsewhere came back with. */
export const ChunkOutcome = Schema.Union([
  Schema.TaggedStruct("Measured", {
    /** One run per stimulus and epoch, in the chunk's order. */
    runs: Schema.Array(RunMeasurement),
    spend: ChunkSpend,
    /** The provider's error of the first run that failed for infrastructure reasons, if one did. */
    infraError: Schema.optionalKey(Schema.String)
  }),
  /** The chunk's share of the budget ran out (on `limit`): what it spent before is still charged. */
  Schema.TaggedStruct("BudgetExhausted", { message: Schema.String, spend: ChunkSpend, limit: Schema.optionalKey(BudgetLimit) })
])
export type ChunkOutcome = typeof ChunkOutcome.Type

export interface MeasurementChunk {
  /** Unique within the scan: `<phase>/<arm>/<index>/<digest of the chunk's stimuli>`. */
  readonly key: string
  /** The measurement, with `samples` the chunk's. */
  readonly request: MeasureRequest
}

export interface MeasurementDispatcher {
  /** Stimuli per chunk; a measurement of no more stimuli than this runs here. */
  readonly chunkSize: number
  /** Chunks of one measurement out at once. */
  readonly inFlight: number
  /**
   * Measure a chunk elsewhere, its worst case held against the scan's ledger while it is out and
   * settled at what it spent (a chunk whose share ran out fails with `BudgetExhausted`, charged).
   */
  readonly measure: (chunk: MeasurementChunk) => Effect.Effect<Extract<ChunkOutcome, { readonly _tag: "Measured" }>, BudgetExhausted | StorageError>
}

/** The dispatcher of the scan on this fiber; absent: every stimulus is measured in this process. */
export const MeasurementDispatch = Context.Reference<MeasurementDispatcher | undefined>("@spectral/engine/measurement/MeasurementDispatch", {
  defaultValue: () => undefined
})

/**
 * What a measurement tells a provider check about runs measured elsewhere (Observe's guard: too
 * many infrastructure failures and no further chunk is sent). Absent: nothing checks.
 */
export interface ChunkGuard {
  readonly tripped: Effect.Effect<boolean>
  readonly record: (infraFailures: number, firstError: string | undefined) => Effect.Effect<void>
}

export const MeasurementGuard = Context.Reference<ChunkGuard | undefined>("@spectral/engine/measurement/MeasurementGuard", {
  defaultValue: () => undefined
})
