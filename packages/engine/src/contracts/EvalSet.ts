/**
 * The EvalSet: the sole data carrier from a world model into a scan (seeds/adr-030). Stimuli with
 * ground truth, scoring dimensions and `stimulus_weight`, a two-layer holdout, and the attribution
 * envelope. Stratification tags are opaque to the engine: they never name rules.
 */
import { Schema } from "effect"
import { NonNegative, PositiveInt } from "./Measure.ts"

/**
 * Identity of the authority that produced an EvalSet: world model id + version + a deterministic
 * hash of the version's rule set. The version is metadata: nothing in the engine branches on it.
 */
export const EvaluationAuthorityRef = Schema.Struct({
  worldModelId: Schema.NonEmptyString,
  worldModelVersion: Schema.NonEmptyString,
  ruleSetHash: Schema.NonEmptyString
})
export type EvaluationAuthorityRef = typeof EvaluationAuthorityRef.Type

export const AttributionEnvelope = Schema.Struct({
  worldModelId: Schema.NonEmptyString,
  worldModelVersion: Schema.NonEmptyString,
  authority: EvaluationAuthorityRef,
  generatedAt: Schema.String,
  seed: Schema.Int
})
export type AttributionEnvelope = typeof AttributionEnvelope.Type

/** How one dimension of the team's final answer is compared with the ground truth. */
export const ScoringDimension = Schema.Struct({
  id: Schema.NonEmptyString,
  /** The output field of the team's final answer this dimension reads. */
  field: Schema.NonEmptyString,
  comparison: Schema.Literals(["exact", "numeric_tolerance", "set_equal"]),
  /** For numeric_tolerance: absolute tolerance. */
  tolerance: Schema.optionalKey(NonNegative),
  weight: Schema.Finite.check(Schema.isGreaterThan(0))
})
export type ScoringDimension = typeof ScoringDimension.Type

export const HoldoutLayer = Schema.Literals(["working", "segment_holdout", "random_holdout"])
export type HoldoutLayer = typeof HoldoutLayer.Type

export const Provenance = Schema.Literals(["rule_grounded", "exploratory_probe", "conformance_sample"])
export type Provenance = typeof Provenance.Type

export const GroundTruthValue = Schema.Union([Schema.String, Schema.Finite, Schema.Boolean, Schema.Array(Schema.String)])
export type GroundTruthValue = typeof GroundTruthValue.Type

export const EvalSetSample = Schema.Struct({
  id: Schema.NonEmptyString,
  /** The stimulus as the agents see it (natural language). */
  input: Schema.String,
  /** Expected values of the team's final answer, by output field. */
  expected: Schema.Record(Schema.String, GroundTruthValue),
  /**
   * Intermediate ground truth keyed by an opaque key (for example `facts`) that a workspace agent
   * may declare as its `groundTruthKey`; used for blame across the agent graph.
   */
  intermediate: Schema.Record(Schema.String, Schema.Record(Schema.String, GroundTruthValue)),
  dimensions: Schema.Array(ScoringDimension).check(Schema.isMinLength(1)),
  stimulusWeight: Schema.Finite.check(Schema.isGreaterThan(0)),
  /** Opaque segment label (a stratum); whole segments may be held out. */
  segment: Schema.NonEmptyString,
  stratification: Schema.Record(Schema.String, Schema.String),
  holdoutLayer: HoldoutLayer,
  provenance: Provenance
})
export type EvalSetSample = typeof EvalSetSample.Type

/** Declared bounds a change set must respect (checked again by the world's conformity check). */
export const HyperparameterBounds = Schema.Struct({
  temperature: Schema.Struct({ min: NonNegative, max: NonNegative }),
  maxTokens: Schema.Struct({ min: PositiveInt, max: PositiveInt })
})
export type HyperparameterBounds = typeof HyperparameterBounds.Type

export const EvalSet = Schema.Struct({
  id: Schema.NonEmptyString,
  samples: Schema.Array(EvalSetSample).check(Schema.isMinLength(1)),
  holdout: Schema.Struct({
    heldOutSegments: Schema.Array(Schema.String),
    randomShare: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
  }),
  hyperparameterBounds: HyperparameterBounds,
  attribution: AttributionEnvelope
})
export type EvalSet = typeof EvalSet.Type
