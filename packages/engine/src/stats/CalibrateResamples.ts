/**
 * Choosing the number of bootstrap resamples from the data (the Calibrate phase): enough that
 * the Monte-Carlo error of each interval endpoint is small against the interval's width. A pilot
 * bootstrap estimates the density f of the bootstrap distribution at each endpoint quantile p; the
 * endpoint's Monte-Carlo standard error with B resamples is √(p(1−p)/B) / f, so B follows. Pure.
 */
import { Result } from "effect"
import {
  type BootstrapInput,
  BootstrapInputError,
  bootstrapDistribution,
  finiteInterval,
  intervalFromDistribution,
  prepareBootstrap
} from "./BootstrapCI.ts"
import { normalCdf, normalDensity, normalQuantile } from "./NormalDistribution.ts"
import { linearQuantiles } from "./Selection.ts"

export interface CalibrateResamplesInput extends Omit<BootstrapInput, "resamples"> {
  /** Endpoint Monte-Carlo standard error allowed, as a fraction of the interval width; default 0.02. */
  readonly targetRelativeError?: number | undefined
  /** Bounds on the answer; defaults 999 and 99,999. */
  readonly minResamples?: number | undefined
  readonly maxResamples?: number | undefined
  /** Resamples in the pilot run; default 1,999. */
  readonly pilotResamples?: number | undefined
}

export interface ResampleCalibration {
  readonly resamples: number
  /** Why this count, in words (stored with the calibration). */
  readonly reason: string
  /** Expected endpoint Monte-Carlo standard error at `resamples`, as a fraction of the width (0 when degenerate). */
  readonly relativeError: number
  readonly pilotResamples: number
  readonly pilotWidth: number
}

/** Counts of the form m·10ᵏ − 1 (999, 1999, 4999, 9999, …): quantile positions then fall on order statistics. */
const NICE_STEPS = [1, 2, 5] as const
const niceAtLeast = (count: number): number => {
  for (let scale = 1000; ; scale *= 10) {
    for (const step of NICE_STEPS) if (step * scale - 1 >= count) return step * scale - 1
  }
}

const format = (value: number): string =>
  value.toLocaleString("en-US", { maximumSignificantDigits: 3, notation: Math.abs(value) >= 1e21 ? "scientific" : "standard" })

/**
 * Resamples needed for `input` at its level and method. Fails only on invalid input (the same
 * `BootstrapInputError` as `bootstrapCI`); degenerate data get the minimum with a reason.
 */
export const calibrateResamples = (
  input: CalibrateResamplesInput
): Result.Result<ResampleCalibration, BootstrapInputError> => {
  const target = input.targetRelativeError ?? 0.02
  const minimum = input.minResamples ?? 999
  const maximum = input.maxResamples ?? 99_999
  const pilotResamples = input.pilotResamples ?? 1999
  if (!(target > 0 && target < 1)) {
    return Result.fail(new BootstrapInputError({ reason: "InvalidResamples", field: "targetRelativeError", message: `targetRelativeError is ${target}: it must lie in (0, 1)` }))
  }
  if (!Number.isInteger(minimum) || !Number.isInteger(maximum) || minimum < 1 || maximum < minimum) {
    return Result.fail(new BootstrapInputError({ reason: "InvalidResamples", field: "minResamples", message: `resample bounds ${minimum}..${maximum} must be integers with 1 ≤ min ≤ max` }))
  }
  const prepared = prepareBootstrap({ ...input, resamples: pilotResamples })
  if (Result.isFailure(prepared)) return Result.fail(prepared.failure)
  const pilot = prepared.success
  const degenerate = (why: string): ResampleCalibration => ({
    resamples: minimum,
    reason: `${why}: the minimum of ${minimum} resamples suffices`,
    relativeError: 0,
    pilotResamples,
    pilotWidth: 0
  })
  if (pilot.degenerateReason !== null) return Result.succeed(degenerate(pilot.degenerateReason))
  const distribution = bootstrapDistribution(pilot)
  const checked = finiteInterval(pilot, intervalFromDistribution(pilot, distribution.slice()))
  if (Result.isFailure(checked)) return Result.fail(checked.failure)
  const interval = checked.success
  const width = interval.high - interval.low
  if (interval.degenerate || !(width > 0)) return Result.succeed(degenerate(interval.reason ?? "zero-width pilot interval"))

  const alpha = (1 - pilot.level) / 2
  let probabilities = [alpha, 1 - alpha]
  if (pilot.method === "bca" && interval.biasCorrection !== undefined && interval.acceleration !== undefined) {
    const z0 = interval.biasCorrection
    const a = interval.acceleration
    probabilities = [normalQuantile(alpha), normalQuantile(1 - alpha)].map((z) => {
      const denominator = 1 - a * (z0 + z)
      return denominator > 0 ? normalCdf(z0 + (z0 + z) / denominator) : z > 0 ? 1 : 0
    })
  }
  // Density at each endpoint: from the spacing of pilot quantiles ±h around it (h ≈ 1/√B), or, where
  // fewer than 25 pilot resamples lie beyond the endpoint, from a normal shape with the pilot's spread.
  const step = Math.ceil(Math.sqrt(pilotResamples)) / pilotResamples
  let needed = 1
  for (const p of probabilities) {
    const tail = Math.min(p, 1 - p)
    const variance = Math.max(p * (1 - p), 1 / pilotResamples)
    let density = normalDensity(normalQuantile(Math.max(tail, 1e-12))) / interval.standardError
    if (tail * pilotResamples >= 25) {
      const half = Math.min(step, tail / 2)
      const [lowQuantile, highQuantile] = linearQuantiles(distribution, p - half, p + half)
      // The distribution is in working units (see PreparedBootstrap.unit); the width is not.
      if (highQuantile > lowQuantile) density = (2 * half) / ((highQuantile - lowQuantile) * pilot.unit)
    }
    needed = Math.max(needed, variance / (density * target * width) ** 2)
  }
  const unclamped = niceAtLeast(Math.ceil(needed))
  const resamples = Math.min(maximum, Math.max(minimum, unclamped))
  const relativeError = target * Math.sqrt(needed / resamples)
  const capped = unclamped > maximum
  const reason = `pilot of ${pilotResamples} resamples: ${pilot.method} interval width ${format(width)}; ` +
    `${resamples} resamples put the endpoints' Monte-Carlo standard error at ≈${format(100 * relativeError)}% of the width` +
    (capped
      ? ` (above the ${format(100 * target)}% target: capped at the maximum of ${maximum})`
      : ` (target ≤ ${format(100 * target)}%${resamples === minimum && unclamped < minimum ? `, minimum ${minimum}` : ""})`)
  return Result.succeed({ resamples, reason, relativeError, pilotResamples, pilotWidth: width })
}
