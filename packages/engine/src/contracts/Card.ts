/** The AgentPerformanceCard (rendered to Markdown, HTML and JSON by the engine's cards module). */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { EvaluationAuthorityRef } from "./EvalSet.ts"
import { Measure, NonNegativeInt } from "./Measure.ts"
import { GateCheck, Interval, Outcome } from "./Verdict.ts"

/** Exactly this footer is on every rendered card (seeds/future-considerations.txt). */
export const ALPHA_FOOTER = "Alpha preview — not for regulated use"

export const AgentCardEntry = Schema.Struct({
  agentId: Schema.String,
  name: Schema.String,
  version: NonNegativeInt,
  changed: Schema.Boolean,
  baselineScore: Measure,
  candidateScore: Measure,
  change: Schema.NullOr(Interval),
  passRate: Measure,
  /** pass^k across epochs: the share of stimuli that pass in every run. */
  consistency: Measure
})
export type AgentCardEntry = typeof AgentCardEntry.Type

export const AgentPerformanceCard = Schema.Struct({
  workspaceId: WorkspaceId,
  workspaceName: Schema.String,
  scanId: Schema.String,
  changeSetId: Schema.String,
  changeSetVersion: NonNegativeInt,
  changeSetStatus: Schema.String,
  generatedAt: Schema.String,
  authority: Schema.NullOr(EvaluationAuthorityRef),
  verdict: Schema.Struct({
    outcome: Outcome,
    checksPassed: NonNegativeInt,
    checksTotal: NonNegativeInt,
    delta: Schema.NullOr(Interval)
  }),
  scores: Schema.Struct({ worldModel: Measure, rubric: Measure, blended: Measure, convergenceDelta: Measure }),
  agents: Schema.Array(AgentCardEntry),
  clusters: Schema.Array(Schema.Struct({ label: Schema.String, severitySummary: Schema.optionalKey(Schema.String), members: NonNegativeInt, frequencyPct: Schema.Finite, failureRateBefore: Schema.optionalKey(Schema.Finite), failureRateAfter: Schema.optionalKey(Schema.Finite) })),
  gates: Schema.Array(GateCheck),
  summary: Schema.String,
  footer: Schema.Literal(ALPHA_FOOTER)
})
export type AgentPerformanceCard = typeof AgentPerformanceCard.Type
