/**
 * EvalSetProvider: the one synchronous path from a scan into a world model (contract here,
 * implemented by `@spectral/worlds`). It answers the preflight question, hands Observe an attributed
 * EvalSet, and checks a proposed change against the world's structural invariants for Safety.
 */
import { Context, type Effect, Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { EvalSet, EvaluationAuthorityRef } from "./EvalSet.ts"
import { EvaluationFramework } from "./EvaluationFramework.ts"
import { AgentVersion } from "./ChangeSet.ts"

export const EvalSetRequest = Schema.Struct({
  workspaceId: WorkspaceId,
  worldModelId: Schema.String,
  framework: EvaluationFramework,
  seed: Schema.Int,
  size: Schema.Int
})
export type EvalSetRequest = typeof EvalSetRequest.Type

export const EvalSetAvailability = Schema.Struct({
  available: Schema.Boolean,
  reason: Schema.String,
  authority: Schema.optionalKey(EvaluationAuthorityRef)
})
export type EvalSetAvailability = typeof EvalSetAvailability.Type

export const ConformityRequest = Schema.Struct({
  workspaceId: WorkspaceId,
  worldModelId: Schema.String,
  baseline: Schema.Array(AgentVersion),
  proposed: Schema.Array(AgentVersion)
})
export type ConformityRequest = typeof ConformityRequest.Type

export const InvariantViolation = Schema.Struct({
  invariant: Schema.String,
  /** The rule (or bound) the change would break. */
  rule: Schema.String,
  agentId: Schema.String,
  message: Schema.String
})
export type InvariantViolation = typeof InvariantViolation.Type

export class EvalSetUnavailable extends Schema.TaggedError<EvalSetUnavailable>()("EvalSetUnavailable", {
  worldModelId: Schema.String,
  reason: Schema.String
}) {}

export class EvalSetProvider extends Context.Service<EvalSetProvider, {
  readonly availability: (request: EvalSetRequest) => Effect.Effect<EvalSetAvailability>
  readonly evalSet: (request: EvalSetRequest) => Effect.Effect<EvalSet, EvalSetUnavailable>
  readonly conformity: (request: ConformityRequest) => Effect.Effect<ReadonlyArray<InvariantViolation>, EvalSetUnavailable>
}>()("@spectral/engine/contracts/EvalSetProvider") {}
