/**
 * Where Diagnose's counterfactual re-runs are made: in this process (the default), or in chunks of
 * failing runs handed to whichever processes a host runs (`spectral runner`: each chunk a child
 * workflow of the scan, spread over the runners by the hash of its key —
 * `workflow/BlameChunkWorkflow.ts`).
 *
 * A chunk is a slice of the failing runs with what deciding their blame needs: the team re-run, the
 * stimuli of the runs and the passing runs of those stimuli (whose outputs stand in for an upstream
 * agent's when its intermediate ground truth is missing). Its process makes the same per-run
 * decision the in-process path makes (`Diagnose.makeRunBlame`) and hands back each run's shares and
 * what its calls spent. The scan's ledger holds the chunk's worst case as a block while it is out
 * and settles it once per chunk key, as for measurement chunks (`MeasurementDispatch.ts`).
 *
 * This module owns the request, the outcome and the dispatcher's port; not how a chunk is carried.
 */
import { Context, type Effect, Schema } from "effect"
import { AgentVersion, EvalSetSample, WorkspaceAgent } from "../contracts/index.ts"
import { RunMeasurement } from "../contracts/PhaseOutputs.ts"
import type { BudgetExhausted } from "../agents/BudgetLedger.ts"
import { BudgetLimit, ChunkSpend } from "./MeasurementDispatch.ts"

/** Per-agent shares of the blame for one failing run (they sum to 1; agents with none left out). */
export const RunShares = Schema.Record(Schema.String, Schema.Finite)

/** What deciding the blame of some failing runs needs (the runs and everything they are compared with). */
export const BlameRequest = Schema.Struct({
  workspaceId: Schema.String,
  scanId: Schema.String,
  /** The team's agents in topological order. */
  agents: Schema.Array(WorkspaceAgent),
  finalAgentIds: Schema.Array(Schema.String),
  /** The versions re-run: the scan's baseline. */
  team: Schema.Array(AgentVersion),
  passThreshold: Schema.Finite,
  /** The failing runs whose blame is decided. */
  runs: Schema.Array(RunMeasurement),
  /** The stimuli of those runs (a run whose stimulus is missing is blamed on the final agents). */
  samples: Schema.Array(EvalSetSample),
  /** The passing runs of those stimuli, in the measurement's order. */
  passing: Schema.Array(RunMeasurement),
  /** Runs decided at once (the scan's concurrency). */
  concurrency: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1024 }))
})
export type BlameRequest = typeof BlameRequest.Type

/** What deciding a chunk's blame elsewhere came back with. */
export const BlameChunkOutcome = Schema.Struct({
  /** Each run's shares, by trace id. */
  shares: Schema.Record(Schema.String, RunShares),
  spend: ChunkSpend,
  /** The chunk's block ran out: some runs were blamed without their re-runs (`blameOf`). */
  exhausted: Schema.Boolean,
  /** The limit that ran out, when it did. */
  limit: Schema.optionalKey(BudgetLimit)
})
export type BlameChunkOutcome = typeof BlameChunkOutcome.Type

export interface BlameChunk {
  /** Unique within the scan: `diagnose/blame/<index>/<digest of the chunk's trace ids>`. */
  readonly key: string
  readonly request: BlameRequest
}

export interface BlameDispatcher {
  /** Failing runs per chunk; a diagnosis with no more failing runs than this decides them here. */
  readonly chunkSize: number
  /** Chunks of one diagnosis out at once. */
  readonly inFlight: number
  /**
   * Decide a chunk's blame elsewhere, its worst case held against the scan's ledger while it is out
   * and settled at what it spent. Fails with `BudgetExhausted` when nothing is left to hold.
   */
  readonly blame: (chunk: BlameChunk) => Effect.Effect<BlameChunkOutcome, BudgetExhausted>
}

/** The dispatcher of the scan on this fiber; absent: every counterfactual re-run is made in this process. */
export const BlameDispatch = Context.Reference<BlameDispatcher | undefined>("@spectral/engine/measurement/BlameDispatch", {
  defaultValue: () => undefined
})
