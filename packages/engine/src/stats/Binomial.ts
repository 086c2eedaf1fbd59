/**
 * Exact binomial and multinomial draws from a `SeededStream`, for the counts-based bootstrap
 * (resampling category counts instead of rows). Binomial: inversion by geometric waiting times
 * when n·p < 10, otherwise Hörmann's BTRS transformed rejection (as in TensorFlow and PyTorch).
 * Multinomial: sequential conditional binomials.
 */
import type { SeededStream } from "./SeededStream.ts"

const HALF_LOG_2PI = 0.9189385332046728

/** log(k!) − Stirling's approximation of it, tabulated below 10 and by its series above. */
const stirlingTailTable: ReadonlyArray<number> = Array.from({ length: 10 }, (_, k) => {
  let logFactorial = 0
  for (let i = 2; i <= k; i++) logFactorial += Math.log(i)
  return logFactorial - ((k + 0.5) * Math.log(k + 1) - (k + 1) + HALF_LOG_2PI)
})

const stirlingTail = (k: number): number => {
  if (k <= 9) return stirlingTailTable[k]
  const square = (k + 1) * (k + 1)
  return (1 / 12 - (1 / 360 - 1 / 1260 / square) / square) / (k + 1)
}

const binomialInversion = (stream: SeededStream, trials: number, probability: number): number => {
  const logComplement = Math.log1p(-probability)
  let waited = 0
  let successes = 0
  for (;;) {
    waited += Math.ceil(Math.log(stream.nextDouble()) / logComplement)
    if (waited > trials) return successes
    successes++
  }
}

const binomialTransformedRejection = (stream: SeededStream, trials: number, probability: number): number => {
  const spread = Math.sqrt(trials * probability * (1 - probability))
  const b = 1.15 + 2.53 * spread
  const a = -0.0873 + 0.0248 * b + 0.01 * probability
  const c = trials * probability + 0.5
  const acceptBelow = 0.92 - 4.2 / b
  const oddsRatio = probability / (1 - probability)
  const alpha = (2.83 + 5.1 / b) * spread
  const mode = Math.floor((trials + 1) * probability)
  for (;;) {
    const u = stream.nextDouble() - 0.5
    let v = stream.nextDouble()
    const us = 0.5 - Math.abs(u)
    const k = Math.floor((2 * a / us + b) * u + c)
    if (k < 0 || k > trials) continue
    if (us >= 0.07 && v <= acceptBelow) return k
    v = Math.log(v * alpha / (a / (us * us) + b))
    const bound = (mode + 0.5) * Math.log((mode + 1) / (oddsRatio * (trials - mode + 1))) +
      (trials + 1) * Math.log((trials - mode + 1) / (trials - k + 1)) +
      (k + 0.5) * Math.log(oddsRatio * (trials - k + 1) / (k + 1)) +
      stirlingTail(mode) + stirlingTail(trials - mode) - stirlingTail(k) - stirlingTail(trials - k)
    if (v <= bound) return k
  }
}

/** A Binomial(trials, probability) draw; trials a non-negative integer, probability in [0, 1]. */
export const drawBinomial = (stream: SeededStream, trials: number, probability: number): number => {
  if (trials <= 0 || probability <= 0) return 0
  if (probability >= 1) return trials
  if (probability > 0.5) return trials - drawBinomial(stream, trials, 1 - probability)
  return trials * probability < 10
    ? binomialInversion(stream, trials, probability)
    : binomialTransformedRejection(stream, trials, probability)
}

/**
 * Fill `into` with a Multinomial(trials, counts / Σcounts) draw — the category counts of `trials`
 * rows resampled with replacement from rows whose categories occur `counts` times.
 */
export const drawMultinomial = (
  stream: SeededStream,
  trials: number,
  counts: Float64Array,
  into: Float64Array
): void => {
  let remainingTrials = trials
  let remainingWeight = 0
  for (let k = 0; k < counts.length; k++) remainingWeight += counts[k]
  const last = counts.length - 1
  for (let k = 0; k < last; k++) {
    const drawn = remainingTrials === 0 ? 0 : drawBinomial(stream, remainingTrials, counts[k] / remainingWeight)
    into[k] = drawn
    remainingTrials -= drawn
    remainingWeight -= counts[k]
  }
  into[last] = remainingTrials
}
