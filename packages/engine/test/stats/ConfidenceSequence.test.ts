import { assert, describe, it } from "@effect/vitest"
import { makeConfidenceSequence } from "../../src/stats/ConfidenceSequence.ts"
import { normalQuantile } from "../../src/stats/NormalDistribution.ts"
import { SeededStream } from "../../src/stats/SeededStream.ts"
import { studentTQuantile } from "../../src/testing/VerdictStudy.ts"

/** A deterministic stream both sides can rebuild: 0.06 + 0.3·sin(1.3 i + 0.5). */
const sine = (i: number) => 0.06 + 0.3 * Math.sin(1.3 * i + 0.5)

/**
 * The same mixture wealth computed independently with numpy, each bound the root of
 * log K(m) = log(2/α) found by scipy.optimize.brentq (xtol 1e-15), α = 0.05, 20 bets ∝ u².
 */
const SCIPY_BOUNDS: ReadonlyArray<readonly [number, number, number]> = [
  [10, -0.3357668016626532, 0.4146955516664439],
  [50, -0.04400116055652567, 0.16857060186713962],
  [100, -0.0019056687912708567, 0.1258404989251615],
  [150, 0.009994179948462616, 0.10860598508970792]
]

const ALPHA = 0.05

/** Observations in [−1, 1] with a known mean. */
const distributions: ReadonlyArray<{ readonly name: string; readonly mean: number; readonly draw: (rng: SeededStream) => number }> = [
  { name: "three-point (−1, 0, 1 w.p. 0.25, 0.35, 0.4)", mean: 0.15, draw: (rng) => { const u = rng.nextDouble(); return u < 0.25 ? -1 : u < 0.6 ? 0 : 1 } },
  { name: "2U² − 1", mean: -1 / 3, draw: (rng) => 2 * rng.nextDouble() ** 2 - 1 },
  { name: "±1 w.p. 0.9 / 0.1", mean: 0.8, draw: (rng) => (rng.nextDouble() < 0.9 ? 1 : -1) },
  { name: "paired scores, N(0.05, 0.11²) clamped", mean: NaN, draw: (rng) => Math.max(-1, Math.min(1, 0.05 + 0.11 * normalQuantile(rng.nextDouble()))) }
]

describe("ConfidenceSequence", () => {
  it("matches an independent numpy / scipy computation of the bounds, intersected over looks", () => {
    const sequence = makeConfidenceSequence({ alpha: ALPHA })
    let n = 0
    let low = -1
    let high = 1
    for (const [t, refLow, refHigh] of SCIPY_BOUNDS) {
      while (n < t) sequence.push(sine(n++))
      low = Math.max(low, refLow)
      high = Math.min(high, refHigh)
      const look = sequence.look()
      assert.strictEqual(look.n, t)
      assert.closeTo(look.low, low, 1e-9, `lower bound at ${t}`)
      assert.closeTo(look.high, high, 1e-9, `upper bound at ${t}`)
      // The exact test of zero agrees with where the bounds put it.
      assert.strictEqual(sequence.test(), look.low > 0 ? "above" : look.high < 0 ? "below" : "inside")
    }
  })

  it("holds the true mean at every look in at least 1 − α of simulated streams (and naive repeated t-intervals do not)", () => {
    const streams = 400
    const length = 200
    const lookEvery = 10
    for (const [index, distribution] of distributions.entries()) {
      if (Number.isNaN(distribution.mean)) continue
      const rng = SeededStream.make(71, index)
      let sequenceMisses = 0
      let naiveMisses = 0
      for (let s = 0; s < streams; s++) {
        // The sequence's own test, centred on the true mean: excluded at a look ⇔ outside the sequence then.
        const sequence = makeConfidenceSequence({ alpha: ALPHA, nullValue: distribution.mean })
        let sum = 0
        let squares = 0
        let missed = false
        let naiveMissed = false
        for (let t = 1; t <= length; t++) {
          const x = distribution.draw(rng)
          sequence.push(x)
          sum += x
          squares += x * x
          if (t % lookEvery !== 0) continue
          if (sequence.test() !== "inside") missed = true
          const mean = sum / t
          const sd = Math.sqrt(Math.max(0, (squares - t * mean * mean) / (t - 1)))
          if (Math.abs(mean - distribution.mean) > studentTQuantile(1 - ALPHA / 2, t - 1) * sd / Math.sqrt(t)) naiveMissed = true
        }
        if (missed) sequenceMisses++
        if (naiveMissed) naiveMisses++
      }
      assert.isAtMost(sequenceMisses / streams, ALPHA, `${distribution.name}: the sequence missed the mean in ${sequenceMisses} of ${streams} streams`)
      // Peeking at a fixed-n interval 20 times misses far more often than α: the study can tell.
      assert.isAbove(naiveMisses / streams, 1.5 * ALPHA, `${distribution.name}: naive repeated intervals missed in ${naiveMisses} of ${streams}`)
    }
  })

  it("never widens, and in a small simulation never shrinks to exclude the true mean under repeated looks", () => {
    const rng = SeededStream.make(72, 0)
    const distribution = distributions[0]!
    for (let s = 0; s < 20; s++) {
      const sequence = makeConfidenceSequence({ alpha: ALPHA })
      let previous = sequence.look()
      assert.deepStrictEqual([previous.low, previous.high], [-1, 1])
      for (let look = 0; look < 6; look++) {
        for (let i = 0; i < 15; i++) sequence.push(distribution.draw(rng))
        const current = sequence.look()
        assert.isAtLeast(current.low, previous.low)
        assert.isAtMost(current.high, previous.high)
        assert.isAtMost(current.low, distribution.mean, `stream ${s}, look ${look}: lower bound ${current.low}`)
        assert.isAtLeast(current.high, distribution.mean, `stream ${s}, look ${look}: upper bound ${current.high}`)
        previous = current
      }
      assert.isBelow(previous.high - previous.low, 0.75, "90 observations narrow it")
    }
  })

  it("decides a clear effect quickly and a null never, in either direction", () => {
    const clear = distributions[3]!
    const rng = SeededStream.make(73, 0)
    const better = makeConfidenceSequence({ alpha: ALPHA })
    const worse = makeConfidenceSequence({ alpha: ALPHA })
    let firstAbove = 0
    let firstBelow = 0
    for (let t = 1; t <= 400 && (firstAbove === 0 || firstBelow === 0); t++) {
      const x = clear.draw(rng)
      better.push(x)
      worse.push(-x)
      if (firstAbove === 0 && better.test() === "above") firstAbove = t
      if (firstBelow === 0 && worse.test() === "below") firstBelow = t
    }
    // A mean of 0.05 needs at least log(40) / log(1.05) ≈ 76 observations whatever the variance.
    assert.isAtLeast(firstAbove, 76)
    assert.isAtMost(firstAbove, 200)
    assert.strictEqual(firstBelow, firstAbove, "the lower process mirrors the upper one")
    const flat = makeConfidenceSequence({ alpha: ALPHA })
    for (let t = 0; t < 1000; t++) flat.push(t % 2 === 0 ? 0.5 : -0.5)
    assert.strictEqual(flat.test(), "inside")
  })

  it("rejects observations outside [−1, 1] and levels outside (0, 1)", () => {
    const sequence = makeConfidenceSequence({ alpha: ALPHA })
    assert.throws(() => sequence.push(1.5), RangeError)
    assert.throws(() => sequence.push(Number.NaN), RangeError)
    assert.throws(() => makeConfidenceSequence({ alpha: 0 }), RangeError)
  })
})
