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
  "UnknownMethod",
  "Overflow"
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
  /** The estimate, in the input's units. */
  readonly estimate: number
  /**
   * Huge inputs are resampled in working units (the input times a power of two, so exactly): the
   * plan, the bootstrap distribution and `workingEstimate` are in those; multiply by `unit` to report.
   */
  readonly unit: number
  readonly workingEstimate: number
  /** The field whose values set `unit` (named by an `Overflow` error). */
  readonly scaledField: string
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

/**
 * Working units: the largest power-of-two factor ≤ 1 with n·max|v|·factor ≤ 2²⁵⁶, so that every
 * resample sum, the squares of the standard error and the cubes of the jackknife stay finite
 * (2²⁵⁶ cubed, times n³, is far below 2¹⁰²⁴). 1 for ordinary data, which are then untouched.
 */
const WORKING_LIMIT_LOG2 = 256

const maxAbsolute = (values: Float64Array): number => {
  let largest = 0
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]))
  return largest
}

/** `headroomLog2`: extra powers of two to leave free (1 for y − x; log₂ max|w| for w·x). */
const workingFactor = (largest: number, rows: number, headroomLog2 = 0): number => {
  if (!(largest > 0)) return 1
  const excess = Math.ceil(Math.log2(largest) + Math.log2(Math.max(rows, 1)) + headroomLog2 - WORKING_LIMIT_LOG2)
  return excess > 0 ? Math.pow(2, -excess) : 1
}

const scaled = (values: Float64Array, factor: number): Float64Array => {
  if (factor === 1) return values
  const copy = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) copy[i] = values[i] * factor
  return copy
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
  /** Reported value = working value × unit. */
  readonly unit: number
  readonly scaledField: string
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
    const quotient = statistic === "ratio_of_means"
    // A difference needs one unit for both samples (with room for y − x); a ratio scales each.
    const rows = Math.max(x.success.length, y!.length)
    const xFactor = quotient
      ? workingFactor(maxAbsolute(x.success), x.success.length)
      : workingFactor(Math.max(maxAbsolute(x.success), maxAbsolute(y!)), rows, 1)
    const yFactor = quotient ? workingFactor(maxAbsolute(y!), y!.length) : xFactor
    const baseline = scaled(x.success, xFactor)
    const candidate = scaled(y!, yFactor)
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
        : null,
      unit: quotient ? xFactor / yFactor : 1 / xFactor,
      scaledField: quotient ? "y" : "x, y"
    })
  }

  // One sample of rows: numerator / denominator per row.
  let numerators: Float64Array
  let denominators: Float64Array | null = null
  let constant: boolean
  let unit = 1
  let scaledField = "x"
  if (statistic === "mean") {
    const factor = workingFactor(maxAbsolute(x.success), x.success.length)
    numerators = scaled(x.success, factor)
    unit = 1 / factor
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
    // Scaling the weights leaves the weighted mean unchanged; scaling x scales it.
    const weightFactor = workingFactor(maxAbsolute(w), w.length)
    const workingWeights = scaled(w, weightFactor)
    const xFactor = workingFactor(maxAbsolute(x.success), w.length, Math.max(Math.log2(maxAbsolute(workingWeights)), 0))
    const workingX = scaled(x.success, xFactor)
    numerators = new Float64Array(w.length)
    for (let i = 0; i < w.length; i++) numerators[i] = workingWeights[i] * workingX[i]
    denominators = workingWeights
    unit = 1 / xFactor
    constant = allEqual(x.success, w)
  } else if (statistic === "mean_diff_paired") {
    // Room for y − x: |yᵢ − xᵢ| ≤ 2·max(|x|, |y|).
    const factor = workingFactor(Math.max(maxAbsolute(x.success), maxAbsolute(y!)), x.success.length, 1)
    const workingX = scaled(x.success, factor)
    const workingY = scaled(y!, factor)
    numerators = new Float64Array(x.success.length)
    for (let i = 0; i < numerators.length; i++) numerators[i] = workingY[i] - workingX[i]
    unit = 1 / factor
    scaledField = "x, y"
    constant = allEqual(numerators)
  } else if (statistic === "ratio_of_means") {
    const xFactor = workingFactor(maxAbsolute(x.success), x.success.length)
    const yFactor = workingFactor(maxAbsolute(y!), y!.length)
    numerators = scaled(y!, yFactor)
    denominators = scaled(x.success, xFactor)
    unit = xFactor / yFactor
    scaledField = "y"
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
      degenerateReason,
      unit,
      scaledField
    })
  }
  if (numerators.length === 1) degenerateReason = "n = 1: a single observation has no variability to resample"
  else if (constant) degenerateReason = "all values are identical: every resample gives the estimate"
  return Result.succeed({
    plan: { combination: "single", samples: [makeSample(numerators, denominators, false, countsPath)] },
    degenerateReason,
    unit,
    scaledField
  })
}

const overflowError = (field: string, what: string) =>
  inputError(
    "Overflow",
    field,
    `${what} is too large for a 64-bit float (beyond ±${Number.MAX_VALUE.toExponential(3)}): rescale ${field}`
  )

/** Validate an input into a plan; the error names the field and the problem. */
export const prepareBootstrap = (input: BootstrapInput): Result.Result<PreparedBootstrap, BootstrapInputError> => {
  if (input === null || typeof input !== "object") {
    return inputError("MissingField", "input", "the bootstrap input must be an object")
  }
  const settings = validateSettings(input)
  if (Result.isFailure(settings)) return Result.fail(settings.failure)
  const planned = planStatistic(input)
  if (Result.isFailure(planned)) return Result.fail(planned.failure)
  const { plan, scaledField, unit } = planned.success
  const workingEstimate = planEstimate(plan)
  const estimate = workingEstimate * unit
  if (!Number.isFinite(estimate)) {
    return overflowError(scaledField, `the ${input.statistic} estimate of ${scaledField}`)
  }
  return Result.succeed({
    statistic: input.statistic,
    ...settings.success,
    plan,
    estimate,
    unit,
    workingEstimate,
    scaledField,
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
  const estimate = prepared.workingEstimate
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
    estimate: prepared.estimate,
    low: low * prepared.unit,
    high: high * prepared.unit,
    resamples: B,
    standardError: standardError * prepared.unit,
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

/**
 * The interval, or an `Overflow` error when an endpoint or the standard error is beyond the
 * range of a double (a huge estimate whose interval reaches past ±1.8e308, or a ratio whose
 * resampled denominator is tiny): a reported number is always finite.
 */
export const finiteInterval = (
  prepared: PreparedBootstrap,
  interval: BootstrapInterval
): Result.Result<BootstrapInterval, BootstrapInputError> =>
  Number.isFinite(interval.low) && Number.isFinite(interval.high) && Number.isFinite(interval.standardError)
    ? Result.succeed(interval)
    : overflowError(prepared.scaledField, `the ${interval.method} interval of the ${prepared.statistic} of ${prepared.scaledField}`)

/** A prepared bootstrap's interval, computed on this thread. */
export const runPrepared = (prepared: PreparedBootstrap): Result.Result<BootstrapInterval, BootstrapInputError> =>
  finiteInterval(
    prepared,
    prepared.degenerateReason !== null
      ? zeroWidth(prepared, prepared.degenerateReason)
      : intervalFromDistribution(prepared, bootstrapDistribution(prepared))
  )

/**
 * A bootstrap confidence interval, synchronously on the calling thread. Never throws and never
 * returns NaN or ±Infinity: invalid input is a `BootstrapInputError` (values whose statistic or
 * interval is beyond a double's range: `Overflow`), degenerate input a zero-width interval with
 * `degenerate: true` and a reason. Huge but representable inputs are resampled in exactly scaled
 * working units.
 */
export const bootstrapCI = (input: BootstrapInput): Result.Result<BootstrapInterval, BootstrapInputError> =>
  Result.flatMap(prepareBootstrap(input), runPrepared)
