import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { bootstrapCI, calibrateResamples, type CalibrateResamplesInput, SeededStream } from "../../src/stats/index.ts"

const calibrate = (input: CalibrateResamplesInput) => {
  const result = calibrateResamples(input)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

describe("calibrateResamples", () => {
  const stream = SeededStream.make(31, 0)
  const scores = Array.from({ length: 200 }, () => stream.nextDouble() ** 2)

  it("chooses a bounded count and explains it", () => {
    const calibration = calibrate({ statistic: "mean", x: scores, method: "bca", seed: 1 })
    assert.isAtLeast(calibration.resamples, 999)
    assert.isAtMost(calibration.resamples, 99_999)
    assert.match(calibration.reason, /pilot of 1999 resamples/)
    assert.match(calibration.reason, /Monte-Carlo standard error/)
    assert.isAtMost(calibration.relativeError, 0.0201)
  })

  it("a tighter target needs more resamples, up to the cap", () => {
    const loose = calibrate({ statistic: "mean", x: scores, targetRelativeError: 0.05, seed: 1 })
    const tight = calibrate({ statistic: "mean", x: scores, targetRelativeError: 0.005, seed: 1 })
    const capped = calibrate({ statistic: "mean", x: scores, targetRelativeError: 0.0005, seed: 1 })
    assert.isBelow(loose.resamples, tight.resamples)
    assert.strictEqual(capped.resamples, 99_999)
    assert.match(capped.reason, /capped/)
  })

  it("a higher level (further into the tails) needs more resamples", () => {
    const ninety = calibrate({ statistic: "mean", x: scores, level: 0.9, targetRelativeError: 0.01, seed: 1 })
    const nines = calibrate({ statistic: "mean", x: scores, level: 0.999, targetRelativeError: 0.01, seed: 1 })
    assert.isBelow(ninety.resamples, nines.resamples)
  })

  it("the chosen count does give endpoints stable to the target across seeds", () => {
    const target = 0.02
    const { resamples } = calibrate({ statistic: "mean", x: scores, targetRelativeError: target, seed: 1 })
    const lows: Array<number> = []
    let width = 0
    for (let seed = 0; seed < 20; seed++) {
      const result = bootstrapCI({ statistic: "mean", x: scores, resamples, seed, method: "percentile" })
      if (Result.isFailure(result)) throw new Error("unexpected")
      lows.push(result.success.low)
      width = result.success.high - result.success.low
    }
    const mean = lows.reduce((a, b) => a + b, 0) / lows.length
    const sd = Math.sqrt(lows.reduce((a, b) => a + (b - mean) ** 2, 0) / (lows.length - 1))
    assert.isBelow(sd / width, 2 * target)
  })

  it("degenerate data get the minimum, with the reason", () => {
    const calibration = calibrate({ statistic: "mean", x: [1, 1, 1] })
    assert.strictEqual(calibration.resamples, 999)
    assert.match(calibration.reason, /identical/)
  })

  it("invalid data fail with the bootstrap's typed error", () => {
    const result = calibrateResamples({ statistic: "mean", x: [Number.NaN] })
    assert.isTrue(Result.isFailure(result) && result.failure.reason === "NonFiniteValue")
  })
})
