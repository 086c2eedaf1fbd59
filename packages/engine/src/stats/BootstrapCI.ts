/**
 * Bootstrap confidence intervals for mean-type statistics: validation of the input into a
 * `ResamplePlan`, the estimate, degenerate cases, and turning a bootstrap distribution into a
 * percentile, basic or BCa interval (scipy.stats.bootstrap's definitions). `bootstrapCI` is the
 * plain, synchronous, single-threaded API returning a `Result`; `BootstrapWorkers.bootstrapCIEffect`
 * adds worker threads with identical results. Does not draw numbers itself (see `ResampleKernel`).
 */
import { Result, Schema } from "effect"
import { normalCdf, normalQuantile } from "./NormalDistribution.ts"
import { blockCount, fillBootstrapBlocks } from "./ResampleKernel.ts"
import {
  type Acceleration,
  categorize,
  jackknifeAcceleration,
  planEstimate,
  type ResamplePlan,
  type ResampleSample
} from "./ResamplePlan.ts"
import { linearQuantiles } from "./Selection.ts"

export const BootstrapStatistic = Schema.Literals([
  "mean",
  "weighted_mean",
  "mean_diff_paired",
  "mean_diff_independent",
  "ratio_of_means"
])
export type BootstrapStatistic = typeof BootstrapStatistic.Type

export const BootstrapMethod = Schema.Literals(["percentile", "basic", "bca"])
export type BootstrapMethod = typeof BootstrapMethod.Type

/** What was wrong with a bootstrap input; `field` names the offending input field. */
export const BootstrapInputProblem = Schema.Literals([
  "EmptySample",
  "NonFiniteValue",
  "LengthMismatch",
  "MissingField",
  "NegativeWeight",
  "ZeroTotalWeight",
  "ZeroDenominator",
  "UnsupportedGroups",
  "LevelOutOfRange",
  "InvalidResamples",
  "InvalidSeed",
  "InvalidWorkers",
  "UnknownStatistic",
  "UnknownMethod"
])
export type BootstrapInputProblem = typeof BootstrapInputProblem.Type

export class BootstrapInputError extends Schema.TaggedError<BootstrapInputError>()("BootstrapInputError", {
  reason: BootstrapInputProblem,
  field: Schema.String,
  message: Schema.String
}) {}

export interface BootstrapInput {
  readonly statistic: BootstrapStatistic
  /** The baseline sample (or the only one). */
  readonly x: ArrayLike<number>
  /** The candidate sample: differences are y − x, ratios mean(y) / mean(x). */
  readonly y?: ArrayLike<number> | undefined
  /** Row weights (`stimulus_weight`) for `weighted_mean`: ≥ 0, not all 0. */
  readonly weights?: ArrayLike<number> | undefined
  /** Group label per row: resample whole groups (cluster bootstrap). Single-sample and paired statistics only. */
  readonly groups?: ArrayLike<string | number> | undefined
  /** `ratio_of_means` only: resample (x, y) pairs together. `mean_diff_paired` is always paired. */
  readonly paired?: boolean | undefined
  /** Confidence level in (0, 1); default 0.95. */
  readonly level?: number | undefined
  /** Default `"bca"`. */
  readonly method?: BootstrapMethod | undefined
  /** Number of resamples B, an integer in [1, 10⁷]; default 9,999. */
  readonly resamples?: number | undefined
  /** Any safe integer; default 0. */
  readonly seed?: number | undefined
  /** `"auto"` (default) resamples category counts when rows take ≤ 32 distinct values; `"off"` always resamples rows. */
  readonly countsPath?: "auto" | "off" | undefined
}

export interface BootstrapInterval {
  readonly statistic: BootstrapStatistic
  readonly method: BootstrapMethod
  readonly level: number
  readonly estimate: number
  readonly low: number
  readonly high: number
  readonly resamples: number
  /** Standard deviation of the bootstrap distribution (0 when degenerate). */
  readonly standardError: number
  /** True when the interval has zero width because there is nothing to resample; `reason` says why. */
  readonly degenerate: boolean
  readonly reason?: string
  /** `counts` when category counts were resampled instead of rows. */
  readonly path: "rows" | "counts"
  /** BCa only: bias correction z₀ and acceleration â. */
  readonly biasCorrection?: number
  readonly acceleration?: number
}

/** A validated input, ready to resample. */
export interface PreparedBootstrap {
  readonly statistic: BootstrapStatistic
  readonly method: BootstrapMethod
  readonly level: number
  readonly resamples: number
  readonly seed: number
  readonly plan: ResamplePlan
  readonly estimate: number
  /** Rows drawn per resample (for cost estimates). */
  readonly drawsPerResample: number
  /** Set when there is nothing to resample: the answer is a zero-width interval. */
  readonly degenerateReason: string | null
}

const MAX_RESAMPLES = 10_000_000

const inputError = (reason: BootstrapInputProblem, field: string, message: string) =>
  Result.fail(new BootstrapInputError({ reason, field, message }))

const toFiniteArray = (
  values: ArrayLike<number>,
  field: string
): Result.Result<Float64Array, BootstrapInputError> => {
  if (values.length === 0) return inputError("EmptySample", field, `${field} is empty: at least one value is needed`)
  const copy = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return inputError("NonFiniteValue", field, `${field}[${i}] is ${String(value)}: every value must be a finite number`)
    }
    copy[i] = value
  }
  return Result.succeed(copy)
}

const allEqual = (values: Float64Array, include?: Float64Array): boolean => {
  let first: number | undefined
  for (let i = 0; i < values.length; i++) {
    if (include !== undefined && include[i] === 0) continue
    if (first === undefined) first = values[i]
    else if (values[i] !== first) return false
  }
  return true
}

/** Sum rows into their groups: the cluster bootstrap resamples these group totals. */
const aggregateGroups = (
  groups: ArrayLike<string | number>,
  numerators: Float64Array,
  denominators: Float64Array | null
): { readonly numerators: Float64Array; readonly denominators: Float64Array } => {
  const indexOf = new Map<string | number, number>()
  const groupOf = new Int32Array(groups.length)
  for (let i = 0; i < groups.length; i++) {
    let index = indexOf.get(groups[i])
    if (index === undefined) {
      index = indexOf.size
      indexOf.set(groups[i], index)
    }
    groupOf[i] = index
  }
  const groupNumerators = new Float64Array(indexOf.size)
  const groupDenominators = new Float64Array(indexOf.size)
  for (let i = 0; i < numerators.length; i++) {
    groupNumerators[groupOf[i]] += numerators[i]
    groupDenominators[groupOf[i]] += denominators === null ? 1 : denominators[i]
  }
  return { numerators: groupNumerators, denominators: groupDenominators }
}

const makeSample = (
  numerators: Float64Array,
  denominators: Float64Array | null,
  requireNonzero: boolean,
  countsPath: "auto" | "off"
): ResampleSample => ({
  size: numerators.length,
  numerators,
  denominators,
  requireNonzero,
  categories: countsPath === "auto" && numerators.length > 1 ? categorize(numerators, denominators) : null
})

const validateSettings = (input: BootstrapInput): Result.Result<{
  readonly level: number
  readonly method: BootstrapMethod
  readonly resamples: number
  readonly seed: number
}, BootstrapInputError> => {
  const level = input.level ?? 0.95
  const method = input.method ?? "bca"
  const resamples = input.resamples ?? 9999
  const seed = input.seed ?? 0
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    return inputError("LevelOutOfRange", "level", `level is ${String(level)}: it must lie strictly between 0 and 1`)
  }
  if (method !== "percentile" && method !== "basic" && method !== "bca") {
    return inputError("UnknownMethod", "method", `method is ${String(method)}: expected percentile, basic or bca`)
  }
  if (!Number.isInteger(resamples) || resamples < 1 || resamples > MAX_RESAMPLES) {
    return inputError(
      "InvalidResamples",
      "resamples",
      `resamples is ${String(resamples)}: it must be an integer from 1 to ${MAX_RESAMPLES}`
    )
  }
  if (!Number.isSafeInteger(seed)) {
    return inputError("InvalidSeed", "seed", `seed is ${String(seed)}: it must be a safe integer`)
  }
  return Result.succeed({ level, method, resamples, seed })
}

interface PlannedSamples {
  readonly plan: ResamplePlan
  readonly degenerateReason: string | null
}

const planStatistic = (input: BootstrapInput): Result.Result<PlannedSamples, BootstrapInputError> => {
  const countsPath = input.countsPath ?? "auto"
  const statistic = input.statistic
  const x = toFiniteArray(input.x ?? [], "x")
  if (Result.isFailure(x)) return Result.fail(x.failure)
  const needsY = statistic === "mean_diff_paired" || statistic === "mean_diff_independent" ||
    statistic === "ratio_of_means"
  let y: Float64Array | null = null
  if (needsY) {
    if (input.y === undefined) return inputError("MissingField", "y", `${statistic} needs a candidate sample y`)
    const parsed = toFiniteArray(input.y, "y")
    if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
    y = parsed.success
  }
  const paired = statistic === "mean_diff_paired" || (statistic === "ratio_of_means" && input.paired === true)
  if (paired && y!.length !== x.success.length) {
    return inputError(
      "LengthMismatch",
      "y",
      `paired samples differ in length: x has ${x.success.length} values, y has ${y!.length}`
    )
  }
  const twoSample = statistic === "mean_diff_independent" || (statistic === "ratio_of_means" && !paired)
  if (input.groups !== undefined) {
    if (twoSample) {
      return inputError(
        "UnsupportedGroups",
        "groups",
        `groups (cluster bootstrap) apply to single-sample and paired statistics, not to ${statistic}${
          statistic === "ratio_of_means" ? " without paired: true" : ""
        }`
      )
    }
    if (input.groups.length !== x.success.length) {
      return inputError(
        "LengthMismatch",
        "groups",
        `groups has ${input.groups.length} labels for ${x.success.length} rows: one label per row is needed`
      )
    }
  }

  if (twoSample) {
    const baseline = x.success
    const candidate = y!
    const quotient = statistic === "ratio_of_means"
    if (quotient) {
      let sum = 0
      for (let i = 0; i < baseline.length; i++) sum += baseline[i]
      if (sum === 0) return inputError("ZeroDenominator", "x", "mean(x) is 0: the ratio mean(y) / mean(x) is undefined")
    }
    const bothFixed = (baseline.length === 1 || allEqual(baseline)) && (candidate.length === 1 || allEqual(candidate))
    return Result.succeed({
      plan: {
        combination: quotient ? "quotient" : "difference",
        samples: [makeSample(baseline, null, quotient, countsPath), makeSample(candidate, null, false, countsPath)]
      },
      degenerateReason: bothFixed
        ? baseline.length === 1 && candidate.length === 1
          ? "n = 1 in both samples: a single observation has no variability to resample"
          : "all values within each sample are identical: every resample gives the estimate"
        : null
    })
  }

  // One sample of rows: numerator / denominator per row.
  let numerators: Float64Array
  let denominators: Float64Array | null = null
  let constant: boolean
  if (statistic === "mean") {
    numerators = x.success
    constant = allEqual(numerators)
  } else if (statistic === "weighted_mean") {
    if (input.weights === undefined) return inputError("MissingField", "weights", "weighted_mean needs weights")
    const weights = toFiniteArray(input.weights, "weights")
    if (Result.isFailure(weights)) return Result.fail(weights.failure)
    const w = weights.success
    if (w.length !== x.success.length) {
      return inputError(
        "LengthMismatch",
        "weights",
        `weights has ${w.length} values for ${x.success.length} rows: one weight per row is needed`
      )
    }
    let total = 0
    for (let i = 0; i < w.length; i++) {
      if (w[i] < 0) return inputError("NegativeWeight", "weights", `weights[${i}] is ${w[i]}: weights must be ≥ 0`)
      total += w[i]
    }
    if (total === 0) return inputError("ZeroTotalWeight", "weights", "all weights are 0: the weighted mean is undefined")
    numerators = new Float64Array(w.length)
    for (let i = 0; i < w.length; i++) numerators[i] = w[i] * x.success[i]
    denominators = w
    constant = allEqual(x.success, w)
  } else if (statistic === "mean_diff_paired") {
    numerators = new Float64Array(x.success.length)
    for (let i = 0; i < numerators.length; i++) numerators[i] = y![i] - x.success[i]
    constant = allEqual(numerators)
  } else if (statistic === "ratio_of_means") {
    numerators = y!
    denominators = x.success
    let sum = 0
    for (let i = 0; i < denominators.length; i++) sum += denominators[i]
    if (sum === 0) return inputError("ZeroDenominator", "x", "mean(x) is 0: the ratio mean(y) / mean(x) is undefined")
    constant = allEqual(numerators) && allEqual(denominators)
  } else {
    return inputError("UnknownStatistic", "statistic", `statistic is ${String(statistic)}: expected one of ${BootstrapStatistic.literals.join(", ")}`)
  }

  let degenerateReason: string | null = null
  if (input.groups !== undefined) {
    const grouped = aggregateGroups(input.groups, numerators, denominators)
    if (grouped.numerators.length === 1) degenerateReason = "only one group: a cluster bootstrap needs at least two groups to resample"
    else if (constant) degenerateReason = "all values are identical: every resample gives the estimate"
    return Result.succeed({
      plan: { combination: "single", samples: [makeSample(grouped.numerators, grouped.denominators, false, countsPath)] },
      degenerateReason
    })
  }
  if (numerators.length === 1) degenerateReason = "n = 1: a single observation has no variability to resample"
  else if (constant) degenerateReason = "all values are identical: every resample gives the estimate"
  return Result.succeed({
    plan: { combination: "single", samples: [makeSample(numerators, denominators, false, countsPath)] },
    degenerateReason
  })
}

/** Validate an input into a plan; the error names the field and the problem. */
export const prepareBootstrap = (input: BootstrapInput): Result.Result<PreparedBootstrap, BootstrapInputError> => {
  if (input === null || typeof input !== "object") {
    return inputError("MissingField", "input", "the bootstrap input must be an object")
  }
  const settings = validateSettings(input)
  if (Result.isFailure(settings)) return Result.fail(settings.failure)
  const planned = planStatistic(input)
  if (Result.isFailure(planned)) return Result.fail(planned.failure)
  const { plan } = planned.success
  return Result.succeed({
    statistic: input.statistic,
    ...settings.success,
    plan,
    estimate: planEstimate(plan),
    drawsPerResample: plan.samples.reduce((total, sample) => total + (sample.categories === null ? sample.size : 0), 0),
    degenerateReason: planned.success.degenerateReason
  })
}

const pathOf = (prepared: PreparedBootstrap): "rows" | "counts" =>
  prepared.plan.samples.some((sample) => sample.categories !== null) ? "counts" : "rows"

const zeroWidth = (prepared: PreparedBootstrap, reason: string): BootstrapInterval => ({
  statistic: prepared.statistic,
  method: prepared.method,
  level: prepared.level,
  estimate: prepared.estimate,
  low: prepared.estimate,
  high: prepared.estimate,
  resamples: prepared.resamples,
  standardError: 0,
  degenerate: true,
  reason,
  path: pathOf(prepared)
})

/** Relative spread below which a bootstrap distribution is floating-point noise around one value. */
const NO_SPREAD = 64 * Number.EPSILON

/**
 * Turn a bootstrap distribution (B values, permuted in place) into the interval. Percentile:
 * quantiles α/2 and 1 − α/2; basic: 2θ̂ minus those, swapped; BCa: quantiles Φ(z₀ + (z₀ + z)/(1 − â(z₀ + z)))
 * with z₀ = Φ⁻¹((#{θ* < θ̂} + #{θ* ≤ θ̂}) / 2B) — the definitions of scipy's `_bca_interval`.
 */
export const intervalFromDistribution = (
  prepared: PreparedBootstrap,
  distribution: Float64Array,
  acceleration: Acceleration = prepared.method === "bca" ? jackknifeAcceleration(prepared.plan) : { value: 0 }
): BootstrapInterval => {
  const B = distribution.length
  const estimate = prepared.estimate
  let sum = 0
  let smallest = Infinity
  let largest = -Infinity
  let below = 0
  let atOrBelow = 0
  for (let r = 0; r < B; r++) {
    const value = distribution[r]
    sum += value
    if (value < smallest) smallest = value
    if (value > largest) largest = value
    if (value < estimate) below++
    if (value <= estimate) atOrBelow++
  }
  if (largest - smallest <= NO_SPREAD * Math.max(Math.abs(largest), Math.abs(smallest))) {
    return zeroWidth(prepared, "the bootstrap distribution has no spread: every resample gives the same value")
  }
  const mean = sum / B
  let squares = 0
  for (let r = 0; r < B; r++) squares += (distribution[r] - mean) * (distribution[r] - mean)
  const standardError = B > 1 ? Math.sqrt(squares / (B - 1)) : 0
  const alpha = (1 - prepared.level) / 2
  const notes: Array<string> = []
  let probabilityLow = alpha
  let probabilityHigh = 1 - alpha
  let biasCorrection: number | undefined
  if (prepared.method === "bca") {
    let proportion = (below + atOrBelow) / (2 * B)
    if (proportion <= 0 || proportion >= 1) {
      proportion = Math.min(Math.max(proportion, 1 / (2 * B)), 1 - 1 / (2 * B))
      notes.push("bias correction clamped: the estimate lies outside the bootstrap distribution")
    }
    const z0 = normalQuantile(proportion)
    const a = acceleration.value
    if (acceleration.note !== undefined) notes.push(acceleration.note)
    const adjust = (z: number): number => {
      const shifted = z0 + z
      const denominator = 1 - a * shifted
      if (denominator <= 0) {
        notes.push("BCa adjustment out of range (|â| too large): endpoint taken at the distribution's edge")
        return shifted > 0 ? 1 : 0
      }
      return normalCdf(z0 + shifted / denominator)
    }
    const zAlpha = normalQuantile(alpha)
    probabilityLow = adjust(zAlpha)
    probabilityHigh = adjust(-zAlpha)
    biasCorrection = z0
  }
  const [first, second] = linearQuantiles(
    distribution,
    Math.min(probabilityLow, probabilityHigh),
    Math.max(probabilityLow, probabilityHigh)
  )
  const low = prepared.method === "basic" ? 2 * estimate - second : first
  const high = prepared.method === "basic" ? 2 * estimate - first : second
  return {
    statistic: prepared.statistic,
    method: prepared.method,
    level: prepared.level,
    estimate,
    low,
    high,
    resamples: B,
    standardError,
    degenerate: false,
    ...(notes.length > 0 ? { reason: notes.join("; ") } : {}),
    path: pathOf(prepared),
    ...(biasCorrection !== undefined ? { biasCorrection, acceleration: acceleration.value } : {})
  }
}

/** Draw the whole bootstrap distribution on this thread. */
export const bootstrapDistribution = (prepared: PreparedBootstrap): Float64Array => {
  const distribution = new Float64Array(prepared.resamples)
  fillBootstrapBlocks(prepared.plan, prepared.seed, prepared.resamples, 0, blockCount(prepared.resamples), distribution)
  return distribution
}

/** A prepared bootstrap's interval, computed on this thread. */
export const runPrepared = (prepared: PreparedBootstrap): BootstrapInterval =>
  prepared.degenerateReason !== null
    ? zeroWidth(prepared, prepared.degenerateReason)
    : intervalFromDistribution(prepared, bootstrapDistribution(prepared))

/**
 * A bootstrap confidence interval, synchronously on the calling thread. Never throws and never
 * returns NaN: invalid input is a `BootstrapInputError`, degenerate input a zero-width interval
 * with `degenerate: true` and a reason.
 */
export const bootstrapCI = (input: BootstrapInput): Result.Result<BootstrapInterval, BootstrapInputError> =>
  Result.map(prepareBootstrap(input), runPrepared)
