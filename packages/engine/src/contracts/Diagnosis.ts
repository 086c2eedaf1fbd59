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

/** Where a cluster's label came from: the members' own words (offline), or a language model asked for one. */
export const LabelSource = Schema.Literals(["offline", "model"])
export type LabelSource = typeof LabelSource.Type

/** Why a model's label was not used and the offline label kept (`clustering/ModelLabeller.ts`). */
export const LabelRejection = Schema.Struct({
  reason: Schema.Literals(["empty", "too_long", "not_a_phrase", "off_topic", "model_failed", "budget_exhausted", "call_cap", "no_model"]),
  detail: Schema.String
})
export type LabelRejection = typeof LabelRejection.Type

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
  segments: Schema.Record(Schema.String, NonNegativeInt),
  /** Where `label` came from; absent in clusters stored before labels had a source (offline). */
  labelSource: Schema.optionalKey(LabelSource),
  /** The offline label, when `label` is the model's. */
  offlineLabel: Schema.optionalKey(Schema.String),
  /** Why the model's label was not used, when one was asked for and `label` is the offline one. */
  labelRejection: Schema.optionalKey(LabelRejection)
})
export type FailureCluster = typeof FailureCluster.Type

/** A failing trace whose explanation could not be clustered (`clustering/ExplanationScreen.ts`). */
export const SkippedExplanation = Schema.Struct({
  traceId: Schema.String,
  /** Position among the diagnosis's failing traces. */
  index: NonNegativeInt,
  reason: Schema.Literals(["empty", "whitespace_only", "no_content"]),
  detail: Schema.String
})
export type SkippedExplanation = typeof SkippedExplanation.Type

/** A failing trace clustered on a cleaned or truncated explanation. */
export const AdjustedExplanation = Schema.Struct({
  traceId: Schema.String,
  index: NonNegativeInt,
  adjustments: Schema.Array(Schema.Literals(["truncated", "lone_surrogates_replaced", "control_characters_removed", "undecodable_characters"])),
  /** UTF-16 code units as the judge wrote it, and as clustered. */
  originalChars: NonNegativeInt,
  keptChars: NonNegativeInt
})
export type AdjustedExplanation = typeof AdjustedExplanation.Type

/**
 * How a workspace's scans diagnose (`Workspace.diagnosis`). `labeller`: "offline" (default) labels
 * clusters from their members' words only; "model" also asks a language model for a short
 * root-cause label from each cluster's representative explanations, validated against the members'
 * words, with the offline label kept on any rejection or error. `labelModel`: the provider and model
 * asked (default: the baseline's first final agent's). `maxLabelCalls`: model calls one diagnosis
 * may make for labels (default 8), each also charged to the scan's budget ledger.
 */
export const DiagnosisSettings = Schema.Struct({
  labeller: Schema.optionalKey(Schema.Literals(["offline", "model"])),
  labelModel: Schema.optionalKey(Schema.Struct({ provider: Schema.NonEmptyString, model: Schema.NonEmptyString })),
  maxLabelCalls: Schema.optionalKey(NonNegativeInt)
})
export type DiagnosisSettings = typeof DiagnosisSettings.Type

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
  failingCount: NonNegativeInt,
  /** Failing traces left out of every cluster, with the reason (empty, whitespace-only, no content). */
  skippedExplanations: Schema.optionalKey(Schema.Array(SkippedExplanation)),
  /** Failing traces clustered on a cleaned or truncated explanation. */
  adjustedExplanations: Schema.optionalKey(Schema.Array(AdjustedExplanation))
})
export type Diagnosis = typeof Diagnosis.Type
