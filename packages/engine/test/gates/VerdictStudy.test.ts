/**
 * Small, fast versions of the bench's statistical validation (`npm run bench -- verdict`): the
 * A/A false-go rate through the real gates and fold, and the go rate beside a paired t-test.
 */
import { assert, describe, it } from "vitest"
import { builtinGates } from "../../src/gates/BuiltinGates.ts"
import { decide } from "../../src/gates/Decision.ts"
import {
  aaSelectionStudy,
  aaStudy,
  clopperPearsonUpper,
  pairedTTest,
  runCell,
  SELECTION_CANDIDATES,
  type SelectionCellResult,
  studentTCdf,
  studentTQuantile
} from "../../src/testing/index.ts"

const options = { alpha: 0.05, comparisons: 500, resamples: 999, seed: 11, decide: (i: Parameters<typeof decide>[0]) => decide(i, builtinGates) }

describe("paired t-test (the reference)", () => {
  it("matches scipy.stats on fixed data", () => {
    const b = [0.5, 0.6, 0.7, 0.4, 0.55, 0.65, 0.8, 0.3]
    const c = [0.55, 0.62, 0.71, 0.5, 0.56, 0.7, 0.79, 0.41]
    const t = pairedTTest(b, c)
    // scipy.stats.ttest_rel(c, b): statistic 2.752594962252389, pvalue 0.028397508118602408
    assert.closeTo(t.t, 2.752594962252389, 1e-9)
    assert.closeTo(t.p, 0.028397508118602408, 1e-9)
    // scipy.stats.t.cdf(-1.3, 7), t.ppf(0.975, 199), t.ppf(0.975, 49)
    assert.closeTo(studentTCdf(-1.3, 7), 0.11738391769618862, 1e-10)
    assert.closeTo(studentTQuantile(0.975, 199), 1.9719565442517533, 1e-8)
    assert.closeTo(studentTQuantile(0.975, 49), 2.009575237129805, 1e-8)
  })
  it("zero variance: no difference is p = 1", () => {
    assert.strictEqual(pairedTTest([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]).p, 1)
  })
})

describe("A/A: the candidate identical in distribution to the baseline", () => {
  it("the false-go rate over 1,000 comparisons is at or below α = 0.05", () => {
    const cells = aaStudy(options, [50])
    const total = cells.reduce((s, r) => s + r.comparisons, 0)
    const goes = cells.reduce((s, r) => s + Math.round(r.goRate * r.comparisons), 0)
    assert.strictEqual(total, 1000)
    assert.isAtMost(goes / total, 0.05)
    // Not only the point estimate: the exact 95 % upper bound on the rate is below α too.
    assert.isBelow(clopperPearsonUpper(goes, total), 0.05)
    // And the gates do decide: the false-go rate is not zero by accident (≈ α/2 by design).
    assert.isAbove(goes, 0)
  })
})

describe("power beside a two-sided paired t-test at the same α", () => {
  const cells = [
    { kind: "binary" as const, n: 200, effect: 0.1 },
    { kind: "continuous" as const, n: 50, effect: 0.02 },
    { kind: "continuous" as const, n: 50, effect: 0.05 }
  ]
  for (const cell of cells) {
    it(`${cell.kind}, n = ${cell.n}, +${cell.effect * 100} pts: go rate within 5 points of the t-test's power`, () => {
      const r = runCell(cell, { ...options, comparisons: 200 })
      assert.isAtMost(Math.abs(r.goRate - r.tTestRate), 0.05, JSON.stringify(r))
      // The cells are chosen with power away from 0 and 1, so agreement is informative.
      assert.isAbove(r.tTestRate, 0.1)
    })
  }
})

describe("A/A with tournament selection: the winner is the best of K no-effect candidates on the working set", () => {
  // Working 60 / synthetic holdout 40 stimuli, binary and continuous scores, 500 comparisons per
  // kind and K: 1,000 comparisons per K.
  const pooled = (cells: ReadonlyArray<SelectionCellResult>, k: number) => {
    const mine = cells.filter((c) => c.candidates === k)
    const total = mine.reduce((s, c) => s + c.comparisons, 0)
    return { total, goes: mine.reduce((s, c) => s + Math.round(c.goRate * c.comparisons), 0) }
  }
  it("gated as the engine gates a tournament winner (judged on the synthetic holdout), false-go ≤ α for K = 1, 6, 24", () => {
    const cells = aaSelectionStudy({ ...options, comparisons: 500 })
    for (const k of SELECTION_CANDIDATES) {
      const { total, goes } = pooled(cells, k)
      assert.strictEqual(total, 1000)
      assert.isAtMost(goes / total, 0.05, `K = ${k}: ${goes} / ${total}`)
      assert.isBelow(clopperPearsonUpper(goes, total), 0.05, `K = ${k}: ${goes} / ${total}`)
    }
    // The selection is real: the winner's working-set delta grows with K under no effect.
    const continuous = cells.filter((c) => c.kind === "continuous")
    assert.isAbove(continuous.find((c) => c.candidates === 24)!.meanWinnerWorkingDelta, continuous.find((c) => c.candidates === 1)!.meanWinnerWorkingDelta + 0.01)
  })
  it("the study sees the bias: judged on the working set that chose it, 24 candidates give false-go above α", () => {
    const cells = aaSelectionStudy({ ...options, comparisons: 500, markSelected: false }, undefined, [24])
    const { total, goes } = pooled(cells, 24)
    assert.isAbove(goes / total, 0.05, `${goes} / ${total}`)
  })
})

