/**
 * What each phase of a scan hands to the next, as persisted at the phase boundary: the Schemas a
 * stored phase output is decoded with when a scan resumes (or when a host reads a finished scan's
 * result), so a row that was tampered with, written by an older engine or cut short is a typed
 * `StoredStateInvalid` naming the phase and the field, never a value cast into shape.
 *
 * The large arrays of an output (the eval set's samples, every arm's runs: `PhaseOutputParts`) are
 * stored apart from its row, in chunks; the row keeps a `PhaseOutputPartRef` in their place, and a
 * phase's durable step (the workflow Activity) replies with a `PhaseOutputReference` only.
 */
import { Schema } from "effect"
import { AgentPerformanceCard } from "./Card.ts"
import { AgentVersion, DecisionLogEntry } from "./ChangeSet.ts"
import { CompositeScore, RubricDivergenceRecord } from "./Composite.ts"
import { Diagnosis } from "./Diagnosis.ts"
import { EvalSet } from "./EvalSet.ts"
import { InvariantViolation } from "./EvalSetProvider.ts"
import { OptimizationVector } from "./EvaluationFramework.ts"
import { CalibrationRecord, PhaseName, RunStatus, ScanReadinessObservation } from "./Scan.ts"
import { VerdictResult } from "./Verdict.ts"

const Scores = Schema.Record(Schema.String, Schema.Finite)

/** One run of the team on one stimulus (one epoch), as the gates and the diagnosis read it. */
export const RunMeasurement = Schema.Struct({
  stimulusId: Schema.String,
  epoch: Schema.Int,
  traceId: Schema.String,
  status: RunStatus,
  worldModel: Schema.optionalKey(Schema.Finite),
  rubric: Schema.optionalKey(Schema.Finite),
  blended: Schema.optionalKey(Schema.Finite),
  passed: Schema.Boolean,
  agents: Scores,
  /** The world-model authority's per-dimension scores (ground truth). */
  worldDimensions: Scores,
  /** The rubric authority's per-dimension scores (the judge); empty when it did not score. */
  rubricDimensions: Scores,
  judgeFailure: Schema.optionalKey(Schema.String),
  explanation: Schema.optionalKey(Schema.String),
  output: Schema.optionalKey(Schema.String),
  agentOutputs: Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Unknown)),
  truncatedAgents: Schema.Array(Schema.String),
  parseFailedAgent: Schema.optionalKey(Schema.String),
  costUsd: Schema.Finite,
  latencyMs: Schema.Finite
})
export type RunMeasurement = typeof RunMeasurement.Type

/** Every run of one arm (a team configuration) of a scan. */
export const ArmMeasurement = Schema.Struct({
  arm: Schema.String,
  runs: Schema.Array(RunMeasurement)
})
export type ArmMeasurement = typeof ArmMeasurement.Type

/** A configuration a strategy proposed. */
export const Candidate = Schema.Struct({
  id: Schema.String,
  strategy: Schema.String,
  rationale: Schema.String,
  agents: Schema.Array(AgentVersion),
  /** The agents this candidate changes. */
  changed: Schema.Array(Schema.String),
  /** Working-set evidence the strategy already gathered (search strategies), for the decision log. */
  evidence: Schema.optionalKey(Schema.String)
})
export type Candidate = typeof Candidate.Type

export const VectorValue = Schema.Struct({
  vector: Schema.String,
  kind: OptimizationVector.fields.kind,
  direction: OptimizationVector.fields.direction,
  weight: Schema.Finite,
  baseline: Schema.Finite,
  candidate: Schema.Finite
})
export type VectorValue = typeof VectorValue.Type

/** A finalist of the tournament's last rung, with its vectors, objective and Pareto standing. */
export const FinalistRecord = Schema.Struct({
  candidateId: Schema.String,
  strategy: Schema.String,
  workingDelta: Schema.Finite,
  objective: Schema.Finite,
  onParetoFront: Schema.Boolean,
  vectors: Schema.Array(VectorValue)
})
export type FinalistRecord = typeof FinalistRecord.Type

/** With `framework.sequential` on: how much of the winner's holdout was measured, and why measuring stopped. */
export const SequentialHoldout = Schema.Struct({
  measured: Schema.Int,
  available: Schema.Int,
  observed: Schema.Int,
  batch: Schema.Int,
  looks: Schema.Int,
  stopped: Schema.Literals(["better", "worse", "exhausted", "budget"]),
  level: Schema.Finite,
  low: Schema.Finite,
  high: Schema.Finite
})
export type SequentialHoldout = typeof SequentialHoldout.Type

export const ObserveOutput = Schema.Struct({ evalSet: EvalSet, baseline: ArmMeasurement })
export type ObserveOutput = typeof ObserveOutput.Type

export const EvaluateOutput = Schema.Struct({ composite: CompositeScore, divergence: RubricDivergenceRecord })
export type EvaluateOutput = typeof EvaluateOutput.Type

export const OptimizeWinner = Schema.Struct({ candidate: Candidate, measurement: ArmMeasurement, workingDelta: Schema.Finite })

export const OptimizeOutput = Schema.Struct({
  winner: Schema.NullOr(OptimizeWinner),
  decisionLog: Schema.Array(DecisionLogEntry),
  budgetExhausted: Schema.Boolean,
  finalists: Schema.optionalKey(Schema.Array(FinalistRecord)),
  budgetNote: Schema.optionalKey(Schema.String),
  sequentialHoldout: Schema.optionalKey(SequentialHoldout)
})
export type OptimizeOutput = typeof OptimizeOutput.Type

export const SafetyOutput = Schema.Struct({ checked: Schema.Boolean, violations: Schema.Array(InvariantViolation) })
export type SafetyOutput = typeof SafetyOutput.Type

export const VerdictOutput = Schema.Struct({ verdict: VerdictResult, composite: CompositeScore })
export type VerdictOutput = typeof VerdictOutput.Type

export const CompleteOutput = Schema.Struct({ changeSetId: Schema.NullOr(Schema.String), card: AgentPerformanceCard })
export type CompleteOutput = typeof CompleteOutput.Type

/** The Schema each phase's stored output decodes with. */
export const PhaseOutputSchemas = {
  preflight: ScanReadinessObservation,
  observe: ObserveOutput,
  calibrate: CalibrationRecord,
  diagnose: Diagnosis,
  evaluate: EvaluateOutput,
  optimize: OptimizeOutput,
  safety: SafetyOutput,
  verdict: VerdictOutput,
  complete: CompleteOutput
} as const satisfies Record<PhaseName, Schema.Codec<unknown, unknown>>

export type PhaseOutputSchemas = typeof PhaseOutputSchemas

/**
 * The arrays of a phase's output stored apart from its row, in chunks, by dotted path (the path is
 * the part's name). Every item of each is an object of its own stimulus or of none (an EvalSet
 * sample, a run), so a stimulus's content is redacted in a chunk exactly as in the whole output.
 */
export const PhaseOutputParts: { readonly [P in PhaseName]?: ReadonlyArray<string> } = {
  observe: ["evalSet.samples", "baseline.runs"],
  optimize: ["winner.measurement.runs"]
}

/**
 * What a stored phase output holds in place of a part: its name, how many items it has and in how
 * many chunks. Read back with a chunk missing or short, a storage driver returns it with
 * `unresolved` saying what is wrong (never a partial array).
 */
export const PhaseOutputPartRef = Schema.TaggedStruct("PhaseOutputPart", {
  part: Schema.String,
  items: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  chunks: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  unresolved: Schema.optionalKey(Schema.String)
})
export type PhaseOutputPartRef = typeof PhaseOutputPartRef.Type

/**
 * What a phase's durable step replies (the workflow Activity's result, which the workflow engine
 * stores): the phase and how many items each of its parts had. The output itself is read back from
 * the phase output the step saved; it must have exactly these parts.
 */
export const PhaseOutputReference = Schema.Struct({
  phase: PhaseName,
  parts: Schema.Array(Schema.Struct({ part: Schema.String, items: Schema.Int }))
})
export type PhaseOutputReference = typeof PhaseOutputReference.Type
/** What phase `P` hands on. */
export type PhaseOutput<P extends PhaseName> = PhaseOutputSchemas[P]["Type"]
