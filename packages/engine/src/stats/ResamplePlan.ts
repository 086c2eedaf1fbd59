/**
 * What a bootstrap resamples, reduced to arithmetic: every supported statistic is one sample or
 * a combination of two independent samples, and every sample's value is Σnumerator / Σdenominator
 * over its resampled rows (denominator 1 per row for plain means). Weighted means (w·x over w),
 * paired ratios (y over x) and cluster bootstraps (group sums over group sizes) are all this one
 * shape. Also owns the counts table for data with few distinct rows, the O(n) jackknife
 * acceleration for BCa, and the observed estimate. Does not draw random numbers.
 */

/** Rows that share a (numerator, denominator) pair, with how many rows have it. */
export interface CategoryTable {
  readonly numerators: Float64Array
  /** `null` when every row's denominator is 1. */
  readonly denominators: Float64Array | null
  readonly counts: Float64Array
}

export interface ResampleSample {
  /** Rows (or groups, for a cluster bootstrap) resampled with replacement. */
  readonly size: number
  readonly numerators: Float64Array
  /** `null` when every row's denominator is 1 (a plain mean). */
  readonly denominators: Float64Array | null
  /** Present when the rows take few distinct values: resample counts instead of rows. */
  readonly categories: CategoryTable | null
  /** The denominator sample of a quotient: a resample whose value is 0 is drawn again. */
  readonly requireNonzero: boolean
}

/** `single`: θ = v₀; `difference`: θ = v₁ − v₀; `quotient`: θ = v₁ / v₀ (sample 0 is the baseline x). */
export type Combination = "single" | "difference" | "quotient"

export interface ResamplePlan {
  readonly samples: ReadonlyArray<ResampleSample>
  readonly combination: Combination
}

/** At most this many distinct rows switch a sample to the counts-based path. */
export const MAX_CATEGORIES = 32

export const combine = (combination: Combination, first: number, second: number): number =>
  combination === "single" ? first : combination === "difference" ? second - first : second / first

/** A sample's observed value, Σnumerator / Σdenominator. */
export const sampleValue = (sample: ResampleSample): number => {
  let numerator = 0
  let denominator = 0
  const { denominators, numerators } = sample
  for (let i = 0; i < numerators.length; i++) numerator += numerators[i]
  if (denominators === null) denominator = numerators.length
  else for (let i = 0; i < denominators.length; i++) denominator += denominators[i]
  return numerator / denominator
}

export const planEstimate = (plan: ResamplePlan): number => {
  const first = sampleValue(plan.samples[0])
  return plan.samples.length === 1 ? first : combine(plan.combination, first, sampleValue(plan.samples[1]))
}

/**
 * The distinct (numerator, denominator) rows with their counts, or `null` when there are more
 * than `MAX_CATEGORIES` of them. One pass; runs of equal rows (sorted or 0/1 data) skip the search.
 */
export const categorize = (numerators: Float64Array, denominators: Float64Array | null): CategoryTable | null => {
  const seenNumerators = new Float64Array(MAX_CATEGORIES)
  const seenDenominators = new Float64Array(MAX_CATEGORIES)
  const counts = new Float64Array(MAX_CATEGORIES)
  let distinct = 0
  let previous = -1
  for (let i = 0; i < numerators.length; i++) {
    const numerator = numerators[i]
    const denominator = denominators === null ? 1 : denominators[i]
    if (previous >= 0 && seenNumerators[previous] === numerator && seenDenominators[previous] === denominator) {
      counts[previous]++
      continue
    }
    let found = -1
    for (let k = 0; k < distinct; k++) {
      if (seenNumerators[k] === numerator && seenDenominators[k] === denominator) {
        found = k
        break
      }
    }
    if (found < 0) {
      if (distinct === MAX_CATEGORIES) return null
      found = distinct++
      seenNumerators[found] = numerator
      seenDenominators[found] = denominator
    }
    counts[found]++
    previous = found
  }
  return {
    numerators: seenNumerators.slice(0, distinct),
    denominators: denominators === null ? null : seenDenominators.slice(0, distinct),
    counts: counts.slice(0, distinct)
  }
}

export interface Acceleration {
  /** Efron's â, exactly as scipy's jackknife computes it (summed over samples). */
  readonly value: number
  /** Why â was set to 0, when a leave-one-out value was undefined. */
  readonly note?: string
}

/**
 * BCa acceleration from the jackknife, in O(n): each leave-one-out value of a ratio of sums is
 * (N − numᵢ)/(D − denᵢ), so no statistic is recomputed. With categories, O(distinct) (rows in a
 * category share their leave-one-out value). Mirrors scipy's `_bca_interval` for several samples:
 * â = Σⱼ(ΣU³/nⱼ³) / (6·(Σⱼ ΣU²/nⱼ²)^{3/2}), Uᵢ = (nⱼ − 1)(θ̄₍.₎ − θ₍ᵢ₎).
 */
export const jackknifeAcceleration = (plan: ResamplePlan): Acceleration => {
  const values = plan.samples.map(sampleValue)
  let cubes = 0
  let squares = 0
  for (let j = 0; j < plan.samples.length; j++) {
    const sample = plan.samples[j]
    const table = sample.categories
    const numerators = table === null ? sample.numerators : table.numerators
    const denominators = table === null ? sample.denominators : table.denominators
    const rows = numerators.length
    const weightOf = (i: number): number => table === null ? 1 : table.counts[i]
    let totalNumerator = 0
    let totalDenominator = 0
    let size = 0
    for (let i = 0; i < rows; i++) {
      const weight = weightOf(i)
      totalNumerator += weight * numerators[i]
      totalDenominator += weight * (denominators === null ? 1 : denominators[i])
      size += weight
    }
    if (size < 2) continue
    const other = plan.samples.length === 1 ? 0 : values[1 - j]
    const leaveOneOut = (i: number): number => {
      const value = (totalNumerator - numerators[i]) / (totalDenominator - (denominators === null ? 1 : denominators[i]))
      if (plan.combination === "single") return value
      return j === 0 ? combine(plan.combination, value, other) : combine(plan.combination, other, value)
    }
    let meanLeaveOneOut = 0
    for (let i = 0; i < rows; i++) {
      const value = leaveOneOut(i)
      if (!Number.isFinite(value)) {
        return { value: 0, note: "acceleration set to 0: a leave-one-out estimate is undefined (zero denominator)" }
      }
      meanLeaveOneOut += weightOf(i) * value
    }
    meanLeaveOneOut /= size
    let sampleCubes = 0
    let sampleSquares = 0
    for (let i = 0; i < rows; i++) {
      const u = (size - 1) * (meanLeaveOneOut - leaveOneOut(i))
      const weight = weightOf(i)
      sampleSquares += weight * u * u
      sampleCubes += weight * u * u * u
    }
    cubes += sampleCubes / (size * size * size)
    squares += sampleSquares / (size * size)
  }
  return squares > 0 ? { value: cubes / (6 * Math.pow(squares, 1.5)) } : { value: 0 }
}
