/**
 * The ChangeSet: the unit of change management. Versioned, pointing at its baseline, the framework
 * snapshot and the sample set it was measured on; each agent carries its own version.
 */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { EvaluationAuthorityRef } from "./EvalSet.ts"
import { Instant, PositiveInt } from "./Measure.ts"
import { Interval } from "./Verdict.ts"
import { Hyperparameters, PromptTemplate } from "./Workspace.ts"

export const ChangeSetStatus = Schema.Literals(["proposed", "accepted", "superseded", "validated", "rejected"])
export type ChangeSetStatus = typeof ChangeSetStatus.Type

export const AgentVersion = Schema.Struct({
  agentId: Schema.NonEmptyString,
  version: PositiveInt,
  template: PromptTemplate,
  hyperparameters: Hyperparameters
})
export type AgentVersion = typeof AgentVersion.Type

export const DecisionLogEntry = Schema.Struct({
  strategy: Schema.String,
  candidateId: Schema.String,
  outcome: Schema.Literals(["won", "lost", "rejected_by_safety", "over_budget", "no_candidate"]),
  reason: Schema.String,
  workingDelta: Schema.optionalKey(Schema.Finite)
})
export type DecisionLogEntry = typeof DecisionLogEntry.Type

export const ClusterOutcome = Schema.Struct({
  clusterId: Schema.String,
  label: Schema.String,
  failureRateBefore: Schema.Finite,
  failureRateAfter: Schema.Finite,
  change: Schema.NullOr(Interval)
})
export type ClusterOutcome = typeof ClusterOutcome.Type

export const Explainability = Schema.Struct({
  summary: Schema.String,
  reasoning: Schema.Array(Schema.String),
  decisionLog: Schema.Array(DecisionLogEntry),
  clusterOutcomes: Schema.Array(ClusterOutcome)
})
export type Explainability = typeof Explainability.Type

export const ChangeSet = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  version: PositiveInt,
  /** The change set this one was evaluated against; null for the first. */
  baselineId: Schema.NullOr(Schema.String),
  framework: Schema.Struct({ id: Schema.String, version: PositiveInt }),
  sampleSet: Schema.Struct({ id: Schema.String, version: PositiveInt }),
  agents: Schema.Array(AgentVersion),
  explainability: Explainability,
  status: ChangeSetStatus,
  scanId: Schema.String,
  /** Stamped by the scan-completed handler. */
  authority: Schema.NullOr(EvaluationAuthorityRef),
  /** Intent recorded by the autonomy mode that handled it (recommend, bounded_auto, …). */
  autonomyIntent: Schema.optionalKey(Schema.String),
  createdAt: Instant,
  updatedAt: Instant
})
export type ChangeSet = typeof ChangeSet.Type

/**
 * One entry of a change set's audit trail (append-only, `ChangeSetRepo.appendAudit`): who did what
 * to it and the status it moved from and to (null where the action moved none).
 */
export const ChangeSetAuditEntry = Schema.Struct({
  id: Schema.String,
  workspaceId: Schema.String,
  changeSetId: Schema.String,
  action: Schema.String,
  actor: Schema.String,
  from: Schema.NullOr(ChangeSetStatus),
  to: Schema.NullOr(ChangeSetStatus),
  detail: Schema.String,
  at: Schema.String
})
export type ChangeSetAuditEntry = typeof ChangeSetAuditEntry.Type
