import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Result } from "effect"
import { type BootstrapInput, bootstrapCI, bootstrapCIEffect, calibrateResamples } from "../../src/stats/index.ts"

const finite = (value: number, label: string) => assert.isTrue(Number.isFinite(value), `${label} is ${value}`)

const succeeds = (input: BootstrapInput) => {
  const result = bootstrapCI({ resamples: 999, seed: 1, ...input })
  if (Result.isFailure(result)) assert.fail(`${result.failure.reason}: ${result.failure.message}`)
  const interval = result.success
  for (const key of ["estimate", "low", "high", "standardError"] as const) finite(interval[key], key)
  return interval
}

const overflows = (input: BootstrapInput, field: RegExp) => {
  const result = bootstrapCI({ resamples: 999, seed: 1, ...input })
  if (Result.isSuccess(result)) assert.fail(`expected Overflow, got ${JSON.stringify(result.success)}`)
  assert.strictEqual(result.failure._tag, "BootstrapInputError")
  assert.strictEqual(result.failure.reason, "Overflow")
  assert.match(result.failure.field, field)
}

describe("huge values: finite results in the input's units, or a typed Overflow error", () => {
  it("identical values near the double's limit: a zero-width interval at that value, not Infinity", () => {
    const interval = succeeds({ statistic: "mean", x: [1e308, 1e308, 1e308] })
    assert.strictEqual(interval.estimate, 1e308)
    assert.strictEqual(interval.low, 1e308)
    assert.strictEqual(interval.high, 1e308)
    assert.isTrue(interval.degenerate)
    assert.match(interval.reason ?? "", /identical/)
  })

  for (const method of ["percentile", "basic", "bca"] as const) {
    it(`huge spread data give the interval of the scaled-down data, scaled back (${method})`, () => {
      const small = [1, 0.5, 1.5, 1.7, 0.25, 1.25]
      const factor = 2 ** 1000
      const plain = succeeds({ statistic: "mean", method, x: small })
      const huge = succeeds({ statistic: "mean", method, x: small.map((v) => v * factor) })
      assert.isFalse(huge.degenerate)
      assert.strictEqual(huge.estimate, plain.estimate * factor)
      assert.strictEqual(huge.low, plain.low * factor)
      assert.strictEqual(huge.high, plain.high * factor)
      assert.closeTo(huge.standardError / factor, plain.standardError, 1e-12)
    })
  }

  it("paired differences that stay representable are resampled, not reported as having no spread", () => {
    const x = [-1e308, 1e308, -5e307, 2e307]
    const y = [1e307, 5e307, 1e308, -3e307]
    const interval = succeeds({ statistic: "mean_diff_paired", x, y })
    assert.isFalse(interval.degenerate)
    assert.isBelow(interval.low, interval.estimate)
    assert.isAbove(interval.high, interval.estimate)
  })

  it("a paired difference beyond the double's range is an Overflow naming x and y", () =>
    overflows({ statistic: "mean_diff_paired", x: [-1e308, -1e308, -1e308], y: [1e308, 1e308, 1e308] }, /x, y/))

  it("an independent difference beyond range is an Overflow", () =>
    overflows({ statistic: "mean_diff_independent", x: [1e308, 1.5e308], y: [-1e308, -1.7e308] }, /x, y/))

  it("an interval reaching past ±1.8e308 (basic method) is an Overflow, never an Infinity endpoint", () =>
    overflows({ statistic: "mean", method: "basic", x: [1.79e308, -1.79e308, 1.79e308] }, /^x$/))

  it("a ratio of means beyond range is an Overflow", () =>
    overflows({ statistic: "ratio_of_means", x: [1e-300, 2e-300], y: [1e300, 2e300] }, /y/))

  it("huge weights and values give a finite weighted mean", () => {
    const interval = succeeds({ statistic: "weighted_mean", x: [1e200, 2e200, 3e200], weights: [1e200, 1e300, 1e308] })
    assert.isTrue(interval.low <= interval.estimate && interval.estimate <= interval.high)
    assert.closeTo(interval.estimate / 1e200, 3, 1e-6)
  })

  it.effect("the Effect edge fails with the same typed Overflow", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        bootstrapCIEffect({ statistic: "mean_diff_paired", x: [-1e308, -1e308], y: [1e308, 1e308], resamples: 99 })
      )
      assert.isTrue(Exit.isFailure(exit))
      const failure = yield* Effect.flip(
        bootstrapCIEffect({ statistic: "mean_diff_paired", x: [-1e308, -1e308], y: [1e308, 1e308], resamples: 99 })
      )
      assert.strictEqual(failure.reason, "Overflow")
    }))

  it("calibration on huge data gives the same resample count as on the scaled-down data", () => {
    const small = [1, 0.5, 1.5, 1.7, 1, 0.2, 0.9]
    const plain = calibrateResamples({ statistic: "mean", x: small, seed: 1 })
    const huge = calibrateResamples({ statistic: "mean", x: small.map((v) => v * 2 ** 1000), seed: 1 })
    assert.isTrue(Result.isSuccess(plain) && Result.isSuccess(huge))
    if (Result.isSuccess(plain) && Result.isSuccess(huge)) {
      assert.strictEqual(huge.success.resamples, plain.success.resamples)
      finite(huge.success.pilotWidth, "pilotWidth")
    }
  })
})
