/**
 * The five events a scan publishes, with typed payloads, and their envelope. Every envelope carries
 * its workspace; a payload whose workspace disagrees with the envelope is rejected on decode.
 */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { Outcome } from "./Verdict.ts"
import { EvaluationAuthorityRef } from "./EvalSet.ts"
import { Instant, Measure, NonNegative, NonNegativeInt } from "./Measure.ts"

export const FailureClusterDetected = Schema.Struct({
  workspaceId: WorkspaceId,
  scanId: Schema.String,
  clusterId: Schema.String,
  label: Schema.String,
  frequencyPct: NonNegative,
  effectSize: Schema.Finite,
  actionable: Schema.Boolean,
  memberCount: NonNegativeInt,
  segments: Schema.Record(Schema.String, NonNegativeInt),
  representativeExplanations: Schema.Array(Schema.String),
  authority: EvaluationAuthorityRef
})
export type FailureClusterDetected = typeof FailureClusterDetected.Type

export const RubricDivergence = Schema.Struct({
  workspaceId: WorkspaceId,
  scanId: Schema.String,
  worldModelScore: Measure,
  rubricScore: Measure,
  divergence: Measure,
  disagreementRate: Measure,
  stimuliCount: NonNegativeInt,
  authority: EvaluationAuthorityRef
})
export type RubricDivergence = typeof RubricDivergence.Type

export const VerdictIssued = Schema.Struct({
  workspaceId: WorkspaceId,
  scanId: Schema.String,
  verdictId: Schema.String,
  outcome: Outcome,
  checksPassed: NonNegativeInt,
  checksTotal: NonNegativeInt,
  changeSetId: Schema.NullOr(Schema.String)
})
export type VerdictIssued = typeof VerdictIssued.Type

export const ScanConvergenceDelta = Schema.Struct({
  workspaceId: WorkspaceId,
  scanId: Schema.String,
  convergenceDelta: Measure
})
export type ScanConvergenceDelta = typeof ScanConvergenceDelta.Type

export const ScanCompleted = Schema.Struct({
  workspaceId: WorkspaceId,
  scanId: Schema.String,
  changeSetId: Schema.NullOr(Schema.String),
  outcome: Outcome,
  authority: EvaluationAuthorityRef
})
export type ScanCompleted = typeof ScanCompleted.Type

const envelope = <const T extends string, P extends Schema.Top>(type: T, payload: P) =>
  Schema.Struct({
    id: Schema.NonEmptyString,
    type: Schema.Literal(type),
    version: Schema.Literal(1),
    workspaceId: WorkspaceId,
    occurredAt: Instant,
    payload
  })

export const FailureClusterDetectedEvent = envelope("platform.failure_cluster.detected", FailureClusterDetected)
export const RubricDivergenceEvent = envelope("rubric.divergence", RubricDivergence)
export const VerdictIssuedEvent = envelope("verdict.issued", VerdictIssued)
export const ScanConvergenceDeltaEvent = envelope("scan.convergence.delta", ScanConvergenceDelta)
export const ScanCompletedEvent = envelope("scan.completed", ScanCompleted)

export const SpectralEvent = Schema.Union([
  FailureClusterDetectedEvent,
  RubricDivergenceEvent,
  VerdictIssuedEvent,
  ScanConvergenceDeltaEvent,
  ScanCompletedEvent
]).check(
  Schema.makeFilter((event) =>
    event.payload.workspaceId === event.workspaceId
      ? undefined
      : `payload workspace ${event.payload.workspaceId} disagrees with envelope workspace ${event.workspaceId}`
  )
)
export type SpectralEvent = typeof SpectralEvent.Type
export type EventType = SpectralEvent["type"]
export type PayloadOf<T extends EventType> = Extract<SpectralEvent, { type: T }>["payload"]

export const eventTypes: ReadonlyArray<EventType> = [
  "platform.failure_cluster.detected",
  "rubric.divergence",
  "verdict.issued",
  "scan.convergence.delta",
  "scan.completed"
]
