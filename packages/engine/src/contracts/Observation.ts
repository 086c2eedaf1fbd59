/**
 * Observation primitives: Trace (an immutable raw observation), Sample (references a trace, never
 * copies it; becomes historical when the trace is purged) and SampleSet (versioned, working/holdout).
 */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { Instant, NonNegative, NonNegativeInt, PositiveInt } from "./Measure.ts"

export const Trace = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  traceId: Schema.NonEmptyString,
  spanId: Schema.NonEmptyString,
  parentSpanId: Schema.optionalKey(Schema.String),
  name: Schema.String,
  agentName: Schema.optionalKey(Schema.String),
  startTime: Instant,
  endTime: Instant,
  attributes: Schema.Record(Schema.String, Schema.Unknown),
  input: Schema.optionalKey(Schema.String),
  output: Schema.optionalKey(Schema.String),
  costUsd: Schema.optionalKey(NonNegative),
  inputTokens: Schema.optionalKey(NonNegativeInt),
  outputTokens: Schema.optionalKey(NonNegativeInt)
})
export type Trace = typeof Trace.Type

export const SampleState = Schema.Literals(["active", "historical", "archived"])
export type SampleState = typeof SampleState.Type

export const TraceReference = Schema.Union([
  Schema.TaggedStruct("Live", { traceId: Schema.String }),
  Schema.TaggedStruct("Tombstone", { traceId: Schema.String, removedAt: Instant, reason: Schema.String })
])
export type TraceReference = typeof TraceReference.Type

export const EvaluationHistoryEntry = Schema.Struct({
  scanId: Schema.String,
  changeSetVersion: Schema.optionalKey(PositiveInt),
  score: Schema.Finite,
  at: Instant
})
export type EvaluationHistoryEntry = typeof EvaluationHistoryEntry.Type

export const Sample = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  state: SampleState,
  traceRef: TraceReference,
  structuralMetadata: Schema.Record(Schema.String, Schema.String),
  stratification: Schema.Record(Schema.String, Schema.String),
  groundTruth: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  evaluationHistory: Schema.Array(EvaluationHistoryEntry),
  createdAt: Instant
})
export type Sample = typeof Sample.Type

export const SampleSet = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  version: PositiveInt,
  working: Schema.Array(Schema.String),
  holdout: Schema.Array(Schema.String),
  createdAt: Instant
})
export type SampleSet = typeof SampleSet.Type
