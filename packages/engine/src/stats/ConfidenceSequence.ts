/**
 * An anytime-valid confidence sequence for the mean of bounded observations in [−1, 1] (paired
 * differences of scores in [0, 1]), by betting: Waudby-Smith & Ramdas (2024, JRSSB), "Estimating
 * means of bounded random variables by betting", on the nonnegative-supermartingale framework of
 * Howard, Ramdas, McAuliffe & Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic
 * confidence sequences". Owns the wealth processes, the bounds and the test of one null value;
 * not the sampling plan (the Optimize phase measures in batches and looks after each).
 *
 * For a candidate mean m, a gambler bets a fraction u of the most that cannot go bankrupt: the
 * upper process multiplies its wealth by (1 − u) + u·(1 + x)/(1 + m) per observation x, the lower
 * one by (1 − u) + u·(1 − x)/(1 − m). If the true mean is m both are nonnegative martingales from
 * 1, so by Ville's inequality neither ever reaches 2/α except with probability α/2. The wealth is
 * a mixture of D constant bets, u_d = d / (D + 1), weighted ∝ u_d² ("diversified Kelly" in the
 * paper; the weight favours the large bets a clear effect wants, small effects run to the end of
 * the holdout anyway). The set of m neither process rejects is the confidence sequence at level
 * 1 − α: P(the mean ever leaves it) ≤ α, whenever and however often one looks. The upper
 * process falls as m grows and the lower one rises, so each bound is found by bisection, and the
 * sequence lies above (below) a value exactly when that value's upper (lower) wealth reached 2/α.
 * Bounds are intersected over looks (the intersection is valid too, and never widens).
 *
 * The guarantee is exact and distribution-free, at a price: a bet is at most the whole stake, so
 * the wealth grows by at most log(1 + μ) per observation in expectation (Jensen), and deciding a
 * mean μ takes about log(2/α)/log(1 + μ) observations or more whatever the variance (≈ 76 at
 * μ = 0.05, α = 0.05), where a test that knew the variance would need far fewer.
 *
 * Plain TypeScript over typed arrays (hot in the bench); observations outside [−1, 1] void the
 * guarantee and are a defect (RangeError).
 */

export interface ConfidenceSequenceOptions {
  /** Two-sided level 1 − alpha; each one-sided bound holds at alpha / 2, uniformly over time. */
  readonly alpha: number
  /** Constant bets in the mixture (default 20). */
  readonly bets?: number
  /** The value `test` decides against, tracked in O(bets) per observation (default 0). */
  readonly nullValue?: number
}

export interface ConfidenceSequenceLook {
  /** Observations so far. */
  readonly n: number
  readonly mean: number
  /** The sequence at this look, intersected with every earlier look: [−1, 1] before any observation. */
  readonly low: number
  readonly high: number
}

/** Where the tracked null value stands: the sequence lies entirely above it, below it, or holds it. */
export type ConfidenceSequenceTest = "above" | "below" | "inside"

export interface ConfidenceSequence {
  readonly alpha: number
  /** Adds an observation in [−1, 1]. */
  readonly push: (x: number) => void
  readonly n: () => number
  /** The test of the null value at the current time, exact and O(bets). */
  readonly test: () => ConfidenceSequenceTest
  /** The bounds at the current time (bisection, O(bets · n) per step), intersected with earlier looks. */
  readonly look: () => ConfidenceSequenceLook
}

export const DEFAULT_BETS = 20

const logSumExp = (values: Float64Array): number => {
  let max = -Infinity
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!
  if (max === -Infinity) return -Infinity
  if (max === Infinity) return Infinity
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i]! - max)
  return max + Math.log(sum)
}

/** The bet fractions u_d = d / (D + 1) and their log weights (∝ u_d², summing to one). */
const betMixture = (bets: number): { readonly fractions: Float64Array; readonly logWeights: Float64Array } => {
  const fractions = new Float64Array(bets)
  const logWeights = new Float64Array(bets)
  let total = 0
  for (let d = 0; d < bets; d++) {
    fractions[d] = (d + 1) / (bets + 1)
    total += fractions[d]! * fractions[d]!
  }
  for (let d = 0; d < bets; d++) logWeights[d] = Math.log((fractions[d]! * fractions[d]!) / total)
  return { fractions, logWeights }
}

const BISECTION_STEPS = 60

export const makeConfidenceSequence = (options: ConfidenceSequenceOptions): ConfidenceSequence => {
  const { alpha } = options
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`)
  const bets = options.bets ?? DEFAULT_BETS
  if (!Number.isInteger(bets) || bets < 1) throw new RangeError(`bets must be a positive integer, got ${bets}`)
  const nullValue = options.nullValue ?? 0
  if (!(nullValue > -1 && nullValue < 1)) throw new RangeError(`nullValue must lie in (−1, 1), got ${nullValue}`)
  const { fractions, logWeights } = betMixture(bets)
  const threshold = Math.log(2 / alpha)
  let xs = new Float64Array(64)
  let n = 0
  let sum = 0
  // Per-bet log wealth of the upper and lower processes at the null value.
  const upAtNull = new Float64Array(logWeights)
  const downAtNull = new Float64Array(logWeights)
  const scratch = new Float64Array(bets)
  let low = -1
  let high = 1

  const push = (x: number) => {
    if (!(x >= -1 - 1e-12 && x <= 1 + 1e-12)) throw new RangeError(`a confidence-sequence observation must lie in [−1, 1], got ${x}`)
    const v = x < -1 ? -1 : x > 1 ? 1 : x
    if (n === xs.length) {
      const grown = new Float64Array(xs.length * 2)
      grown.set(xs)
      xs = grown
    }
    xs[n++] = v
    sum += v
    const up = (1 + v) / (1 + nullValue)
    const down = (1 - v) / (1 - nullValue)
    for (let d = 0; d < bets; d++) {
      const u = fractions[d]!
      upAtNull[d] = upAtNull[d]! + Math.log(1 - u + u * up)
      downAtNull[d] = downAtNull[d]! + Math.log(1 - u + u * down)
    }
  }

  /** Log of the mixture wealth of the upper (sign 1) or lower (sign −1) process at m, over every observation. */
  const logWealth = (m: number, sign: 1 | -1): number => {
    const scale = 1 / (1 + sign * m)
    for (let d = 0; d < bets; d++) {
      const u = fractions[d]!
      let log = logWeights[d]!
      for (let i = 0; i < n; i++) log += Math.log(1 - u + u * (1 + sign * xs[i]!) * scale)
      scratch[d] = log
    }
    return logSumExp(scratch)
  }

  /**
   * A bound by bisection. The upper process (sign 1) rejects every m below the lower bound (its
   * wealth falls as m grows), the lower process (sign −1) every m above the upper bound. The search
   * runs between the edge a process rejects (or the edge of [−1, 1]) and the one it never does
   * (every factor there is ≤ 1), and returns the rejected end: the bound, conservatively rounded.
   */
  const bound = (sign: 1 | -1): number => {
    let rejected: number = -sign
    let kept: number = sign
    for (let step = 0; step < BISECTION_STEPS; step++) {
      const mid = (rejected + kept) / 2
      if (mid === rejected || mid === kept) break
      if (logWealth(mid, sign) >= threshold) rejected = mid
      else kept = mid
    }
    return rejected
  }

  return {
    alpha,
    push,
    n: () => n,
    test: () => (logSumExp(upAtNull) >= threshold ? "above" : logSumExp(downAtNull) >= threshold ? "below" : "inside"),
    look: () => {
      if (n > 0) {
        low = Math.max(low, bound(1))
        high = Math.min(high, bound(-1))
      }
      return { n, mean: n === 0 ? 0 : sum / n, low, high }
    }
  }
}
