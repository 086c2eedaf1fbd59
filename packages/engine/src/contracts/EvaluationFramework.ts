/**
 * The EvaluationFramework: rubrics with weighted dimensions, the objective, hard constraints,
 * economic parameters, the verdict thresholds and the (optional) sequential verdict. Thresholds
 * outside their domain fail at decode time, naming the field.
 */
import { Effect, Schema } from "effect"
import { NonNegative, NonNegativeInt, PositiveInt, UnitInterval } from "./Measure.ts"

export const RubricDimension = Schema.Struct({
  id: Schema.NonEmptyString,
  name: Schema.String,
  description: Schema.String,
  weight: Schema.Finite.check(Schema.isGreaterThan(0))
})
export type RubricDimension = typeof RubricDimension.Type

export const Rubric = Schema.Struct({
  id: Schema.NonEmptyString,
  name: Schema.String,
  dimensions: Schema.Array(RubricDimension).check(Schema.isMinLength(1))
})
export type Rubric = typeof Rubric.Type

/** An axis the optimizer trades off (seeds/future-considerations.txt, configurable optimization vectors). */
export const OptimizationVector = Schema.Struct({
  name: Schema.NonEmptyString,
  kind: Schema.Literals(["quality", "cost", "latency", "safety", "compliance", "custom"]),
  direction: Schema.Literals(["maximize", "minimize"]),
  weight: NonNegative,
  /** Restrict the vector to some agents; all agents when absent. */
  agents: Schema.optionalKey(Schema.Array(Schema.String))
})
export type OptimizationVector = typeof OptimizationVector.Type

export const Objective = Schema.Struct({
  /** Weight of the world-model authority in the blended score; the rubric gets `1 - worldModelWeight`. */
  worldModelWeight: UnitInterval,
  vectors: Schema.Array(OptimizationVector)
})
export type Objective = typeof Objective.Type

export const HardConstraint = Schema.Struct({
  metric: Schema.Literals(["cost_usd_per_stimulus", "latency_ms_p95", "parse_failure_rate", "world_model_score"]),
  op: Schema.Literals(["<=", ">="]),
  value: Schema.Finite
})
export type HardConstraint = typeof HardConstraint.Type

export const Economics = Schema.Struct({
  /** Hard budget for one scan, across every phase. */
  maxCallsPerScan: PositiveInt,
  maxTokensPerScan: PositiveInt,
  maxUsdPerScan: NonNegative,
  /** What one failed stimulus costs the business, for the card's narrative. */
  costPerFailureUsd: NonNegative
})
export type Economics = typeof Economics.Type

export const VerdictThresholds = Schema.Struct({
  /** Two-sided level of the paired bootstrap interval is `1 - alpha`. */
  alpha: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 0.5, exclusiveMinimum: true })),
  /** Smallest blended-score delta (0..1 scale) worth shipping. */
  minDelta: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  maxHoldoutGap: NonNegative,
  maxAgentRegression: NonNegative,
  maxDimensionRegression: NonNegative,
  /** Deltas above this are "too good to be true" and downgrade go to caution. */
  sanityMaxDelta: UnitInterval,
  maxInfraFailureRate: UnitInterval,
  maxParseFailureRate: UnitInterval,
  /** Share of stimuli whose judge failed on every run (no rubric score) above which go becomes caution; above half, no_go. */
  maxJudgeFailureRate: UnitInterval.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.05))),
  /** Judge calibration: the least pass/fail agreement with ground truth, per rubric dimension that shares a world-model dimension's id, before caution. */
  minJudgeAgreement: UnitInterval.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.7))),
  /** With epochs > 1: the largest significant drop of pass^k (stimuli passing in every run) before the verdict fails. */
  maxConsistencyRegression: UnitInterval.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.05))),
  minSamples: PositiveInt,
  /** Output similarity: a candidate whose outputs differ from baseline on fewer than `minChangedShare` (or more than `maxChangedShare`) of stimuli is flagged. */
  minChangedShare: UnitInterval,
  maxChangedShare: UnitInterval,
  /** Convergence gate: largest mean per-sample |rubric − world model| on conformance samples before caution. */
  maxConvergenceDelta: UnitInterval
}).check(Schema.makeFilter((t) => {
  // Cross-field domain: a band that is empty, or a minimum above the "too good to be true"
  // ceiling, would make go impossible without saying why.
  const issues: Array<Schema.FilterIssue> = []
  if (t.minChangedShare > t.maxChangedShare) {
    issues.push({ path: ["minChangedShare"], issue: `minChangedShare (${t.minChangedShare}) must not exceed maxChangedShare (${t.maxChangedShare})` })
  }
  if (t.minDelta > t.sanityMaxDelta) {
    issues.push({ path: ["minDelta"], issue: `minDelta (${t.minDelta}) must not exceed sanityMaxDelta (${t.sanityMaxDelta})` })
  }
  return issues
}))
export type VerdictThresholds = typeof VerdictThresholds.Type

/** The thresholds a verdict uses where a framework (or a `spectral verdict` case) leaves them out. */
export const DEFAULT_THRESHOLDS: VerdictThresholds = {
  alpha: 0.05,
  minDelta: 0,
  maxHoldoutGap: 0.05,
  maxAgentRegression: 0.02,
  maxDimensionRegression: 0.03,
  sanityMaxDelta: 0.5,
  maxInfraFailureRate: 0.05,
  maxParseFailureRate: 0.1,
  maxJudgeFailureRate: 0.05,
  minJudgeAgreement: 0.7,
  maxConsistencyRegression: 0.05,
  minSamples: 30,
  minChangedShare: 0.02,
  maxChangedShare: 0.95,
  maxConvergenceDelta: 0.15
}

/**
 * The sequential verdict (off by default): a tournament winner's holdout is measured in batches of
 * `batch` stimuli in a seeded order, and after each batch an anytime-valid confidence sequence at
 * level 1 − α (the verdict's α) on the paired blended delta is updated (stats/ConfidenceSequence.ts);
 * measuring stops as soon as it lies above zero (clearly better) or below it (clearly worse), and
 * otherwise runs to the end of the holdout, where the fixed-n verdict decides as without it. The
 * gates then judge the stimuli measured. Looking starts once minSamples / 2 holdout stimuli are
 * comparable. A stored framework without it decodes with it off; a partial one gets the defaults.
 */
export const SequentialVerdict = Schema.Struct({
  enabled: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /** Holdout stimuli measured between looks. */
  batch: PositiveInt.pipe(Schema.withDecodingDefaultKey(Effect.succeed(20)))
})
export type SequentialVerdict = typeof SequentialVerdict.Type

export const EvaluationFramework = Schema.Struct({
  id: Schema.NonEmptyString,
  version: PositiveInt,
  /** The global template this instance was forked from (merge tracking). */
  parent: Schema.optionalKey(Schema.Struct({ id: Schema.String, version: PositiveInt })),
  rubrics: Schema.Array(Rubric).check(Schema.isMinLength(1)),
  objective: Objective,
  hardConstraints: Schema.Array(HardConstraint),
  economics: Economics,
  verdict: VerdictThresholds,
  /** Score at or above which a stimulus counts as passing. */
  passThreshold: UnitInterval,
  /** How many times each stimulus is run (epochs); intervals resample stimuli, never runs. */
  epochs: PositiveInt,
  /** Size of the eval set requested from the world. */
  evalSetSize: PositiveInt,
  optimization: Schema.Struct({
    maxCandidates: PositiveInt,
    maxRounds: NonNegativeInt
  }),
  /** Measure a tournament winner's holdout sequentially (`SequentialVerdict`); off when absent. */
  sequential: Schema.optionalKey(SequentialVerdict)
})
export type EvaluationFramework = typeof EvaluationFramework.Type
