/**
 * What Diagnose produces: quarantined runs and FailureClusters (with severity variants and
 * per-agent blame).
 */
import { Effect, Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { NonNegative, NonNegativeInt } from "./Measure.ts"

export const ClusterVariant = Schema.Struct({
  /** The concrete text that differs between variants (for example "30s" vs "5s"). */
  pattern: Schema.String,
  memberTraceIds: Schema.Array(Schema.String)
})
export type ClusterVariant = typeof ClusterVariant.Type

export const FailureCluster = Schema.Struct({
  id: Schema.NonEmptyString,
  scanId: Schema.String,
  workspaceId: WorkspaceId,
  label: Schema.String,
  topTerms: Schema.Array(Schema.String),
  memberTraceIds: Schema.Array(Schema.String),
  variants: Schema.Array(ClusterVariant),
  /** The label's varying quantity per value, as a line ("15s ×12, 30s ×4"); absent when it has none. */
  severitySummary: Schema.optionalKey(Schema.String),
  /** Share of all evaluated traces of the arm, 0–100. */
  frequencyPct: NonNegative,
  /** Mean score gap, in points (0–100), between members and passing traces. */
  effectSize: Schema.Finite,
  actionable: Schema.Boolean,
  representativeExplanations: Schema.Array(Schema.String),
  /** Share of members each agent is blamed for (0–1). */
  agentBlame: Schema.Record(Schema.String, NonNegative),
  /** Stratification tags shared by the members (opaque segment tags, never rule ids). */
  segments: Schema.Record(Schema.String, NonNegativeInt)
})
export type FailureCluster = typeof FailureCluster.Type

export const Quarantine = Schema.Struct({
  infraFailures: Schema.Array(Schema.String),
  parseFailures: Schema.Array(Schema.String),
  /** Traces the team answered but the judge could not score (with the reason on the trace's EvalResult). */
  judgeFailures: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
})
export type Quarantine = typeof Quarantine.Type

/** A pattern that only shows across traces and agents (rate limiting, correlated failures, latency cliffs). */
export const SystemicSignalRecord = Schema.Struct({
  kind: Schema.String,
  agents: Schema.Array(Schema.String),
  description: Schema.String,
  /** The stimuli involved, when the signal is about stimuli (correlated failures, failure-rate steps). */
  stimuli: Schema.optionalKey(Schema.Array(Schema.String))
})
export type SystemicSignalRecord = typeof SystemicSignalRecord.Type

export const Diagnosis = Schema.Struct({
  quarantine: Quarantine,
  /** Reported beside the clusters; absent when the diagnosis did not look for them. */
  systemicSignals: Schema.optionalKey(Schema.Array(SystemicSignalRecord)),
  clusters: Schema.Array(FailureCluster),
  /**
   * Traces the world model fails and the judge passes: failures a lenient judge would hide. Kept
   * apart from the clusters (which the rubric authority alone chooses) and reported beside them.
   */
  missedByJudge: Schema.Array(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  evaluatedCount: NonNegativeInt,
  failingCount: NonNegativeInt
})
export type Diagnosis = typeof Diagnosis.Type
