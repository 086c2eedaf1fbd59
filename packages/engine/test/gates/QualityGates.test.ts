import { assert, describe, it } from "vitest"
import { bootstrapCiGate, deltaThresholdGate, holdoutGapGate, MIN_CLUSTERS, pairedDelta, sanityDowngradeGate } from "../../src/gates/QualityGates.ts"
import { arm, input, shifted, spread, stimulus, withThresholds } from "./fixtures.ts"

const only = (checks: ReadonlyArray<{ status: string; check: string; reason: string; value?: number }>, name?: string) => {
  const found = name === undefined ? checks : checks.filter((c) => c.check === name)
  assert.strictEqual(found.length, 1, JSON.stringify(checks))
  return found[0]!
}

describe("delta threshold", () => {
  it("passes a working-set delta at or above the minimum", () => {
    const c = only(deltaThresholdGate.run(input(shifted(40, 0.05))))
    assert.strictEqual(c.status, "pass")
    assert.include(c.reason, "5.0 pts")
  })
  it("cautions a positive delta below the minimum and fails one that is not an improvement", () => {
    assert.strictEqual(only(deltaThresholdGate.run(input(shifted(40, 0.01)))).status, "caution")
    assert.strictEqual(only(deltaThresholdGate.run(input(shifted(40, -0.01)))).status, "fail")
    assert.strictEqual(only(deltaThresholdGate.run(input(shifted(40, 0)))).status, "fail")
  })
  it("reads the working set only: a big holdout gain does not lift a flat working set", () => {
    const stimuli = [...shifted(40, 0), ...shifted(20, 0.3, () => ({ holdout: true })).map((s) => ({ ...s, id: `h${s.id}` }))]
    assert.strictEqual(only(deltaThresholdGate.run(input(stimuli))).status, "fail")
  })
  it("is neutral without a candidate or without comparable stimuli", () => {
    assert.strictEqual(only(deltaThresholdGate.run(input(shifted(40, 0.05), { noCandidate: true }))).status, "neutral")
    const broken = shifted(5, 0.05).map((s) => ({ ...s, candidate: { ...s.candidate, status: "infra_failure" as const } }))
    assert.strictEqual(only(deltaThresholdGate.run(input(broken))).status, "neutral")
  })
})

describe("bootstrap CI", () => {
  it("passes when the paired interval at 1 − α lies above zero, and says the level", () => {
    const c = only(bootstrapCiGate.run(input(shifted(60, 0.03))))
    assert.strictEqual(c.status, "pass")
    assert.include(c.reason, "95% interval")
  })
  it("fails a significant regression and cautions an interval that straddles zero", () => {
    assert.strictEqual(only(bootstrapCiGate.run(input(shifted(60, -0.03)))).status, "fail")
    // Differences ±0.1 alternating with a tiny mean: the interval includes 0.
    const noisy = Array.from({ length: 60 }, (_, i) => stimulus(i, arm(0.5), arm(0.5 + (i % 2 === 0 ? 0.1 : -0.095))))
    assert.strictEqual(only(bootstrapCiGate.run(input(noisy))).status, "caution")
  })
  it("uses the framework's α: a delta significant at α = 0.2 is not at α = 0.001", () => {
    // Mean difference 0.01, sd ≈ 0.05, n = 40: t ≈ 1.26 (p ≈ 0.21 two-sided).
    const stimuli = Array.from({ length: 40 }, (_, i) => stimulus(i, arm(0.5), arm(0.5 + 0.01 + (i % 2 === 0 ? 0.05 : -0.05))))
    const loose = only(bootstrapCiGate.run(input(stimuli, { thresholds: withThresholds({ alpha: 0.4 }) })))
    const strict = only(bootstrapCiGate.run(input(stimuli, { thresholds: withThresholds({ alpha: 0.001 }) })))
    assert.strictEqual(loose.status, "pass")
    assert.include(loose.reason, "60% interval")
    assert.strictEqual(strict.status, "caution")
    assert.include(strict.reason, "99.9% interval")
  })
  it("the interval is paired: a small shift on widely spread scores is still significant", () => {
    // Scores spread over [0.1, 0.9]; an unpaired interval on the difference of means would include 0.
    const stimuli = Array.from({ length: 50 }, (_, i) => {
      const b = 0.1 + 0.8 * spread(i)
      return stimulus(i, arm(b), arm(b + 0.02 + (i % 2 === 0 ? 0.005 : -0.005)))
    })
    const d = pairedDelta(input(stimuli))!
    assert.isAbove(d.low, 0.01)
    assert.isBelow(d.high, 0.03)
  })
  it("edges: identical arms caution, one stimulus cautions, too few clusters caution", () => {
    const same = Array.from({ length: 40 }, (_, i) => stimulus(i, arm(0.6), arm(0.6)))
    assert.include(only(bootstrapCiGate.run(input(same))).reason, "score identically")
    assert.strictEqual(only(bootstrapCiGate.run(input([stimulus(0, arm(0.5), arm(0.9))]))).status, "caution")
    const grouped = shifted(60, 0.05, (i) => ({ group: `g${i % 4}` }))
    const c = only(bootstrapCiGate.run(input(grouped)))
    assert.strictEqual(c.status, "caution")
    assert.include(c.reason, `only 4 groups`)
    const manyGroups = shifted(60, 0.05, (i) => ({ group: `g${i % (MIN_CLUSTERS + 2)}` }))
    assert.strictEqual(only(bootstrapCiGate.run(input(manyGroups))).status, "pass")
  })
  it("edge: every stimulus in one group is a cluster bootstrap with one cluster, a caution (not ungrouped)", () => {
    const oneGroup = shifted(60, 0.05, () => ({ group: "g" }))
    const d = pairedDelta(input(oneGroup))!
    assert.strictEqual(d.clusters, 1)
    const c = only(bootstrapCiGate.run(input(oneGroup)))
    assert.strictEqual(c.status, "caution")
    assert.include(c.reason, `only 1 group: too few for a cluster interval (need ${MIN_CLUSTERS})`)
  })
  it("weights count: a regression on heavy stimuli outweighs gains on light ones", () => {
    const stimuli = Array.from({ length: 40 }, (_, i) =>
      i < 10
        ? stimulus(i, arm(0.6), arm(0.5 + 0.01 * (i % 3)), { weight: 10 })
        : stimulus(i, arm(0.6), arm(0.62 + 0.01 * (i % 3)), { weight: 1 }))
    const d = pairedDelta(input(stimuli))!
    // Unweighted mean is +0.0025; weighted: (10·10·(−0.09) + 30·0.03) / 130 ≈ −0.062.
    assert.isBelow(d.estimate, -0.05)
    assert.strictEqual(only(bootstrapCiGate.run(input(stimuli))).status, "fail")
  })
  it("is neutral without a candidate", () => {
    assert.strictEqual(only(bootstrapCiGate.run(input(shifted(40, 0.1), { noCandidate: true }))).status, "neutral")
  })
})

describe("holdout generalization gap", () => {
  const mixed = (working: number, holdout: number, holdoutSource: "synthetic" | "conformance" = "synthetic") => [
    ...shifted(40, working),
    ...shifted(20, holdout, () => ({ holdout: true, source: holdoutSource })).map((s) => ({ ...s, id: `h${s.id}` }))
  ]
  it("passes when the holdout keeps the gain", () => {
    const c = only(holdoutGapGate.run(input(mixed(0.05, 0.04))))
    assert.strictEqual(c.status, "pass")
    assert.include(c.reason, "synthetic holdout")
  })
  it("cautions a gap above the maximum and fails a significant regression on the holdout", () => {
    assert.strictEqual(only(holdoutGapGate.run(input(mixed(0.1, 0.02)))).status, "caution")
    assert.strictEqual(only(holdoutGapGate.run(input(mixed(0.1, -0.05)))).status, "fail")
  })
  it("uses the synthetic holdout only: conformance samples are never holdout", () => {
    assert.strictEqual(only(holdoutGapGate.run(input(mixed(0.1, -0.05, "conformance")))).status, "neutral")
    assert.strictEqual(only(holdoutGapGate.run(input(shifted(40, 0.05)))).reason, "no synthetic holdout stimuli")
  })
})

describe("sanity downgrade", () => {
  it("passes a plausible delta on enough clean stimuli", () => {
    const checks = sanityDowngradeGate.run(input(shifted(40, 0.05)))
    assert.deepStrictEqual(checks.map((c) => c.status), ["pass", "pass", "pass", "pass", "pass"])
  })
  it("too few samples, infra, parse or judge failures, a too-good delta and an exhausted budget are cautions", () => {
    const stimuli = shifted(20, 0.6).map((s, i) =>
      i < 3 ? { ...s, candidate: { ...s.candidate, status: "infra_failure" as const } } : i < 6 ? { ...s, baseline: { ...s.baseline, status: "parse_failure" as const } } : i < 8 ? { ...s, candidate: { ...s.candidate, status: "judge_failure" as const } } : s
    )
    const checks = sanityDowngradeGate.run(input(stimuli, { budgetExhausted: true }))
    assert.deepStrictEqual(
      checks.map((c) => [c.check, c.status]),
      [["sample_size", "caution"], ["infra_failure_rate", "caution"], ["parse_failure_rate", "caution"], ["judge_failure_rate", "caution"], ["plausible_delta", "caution"], ["budget", "caution"]]
    )
    // Judge failures are quarantined like infrastructure failures: 20 − 3 − 2 comparable.
    assert.include(checks[0]!.reason, "15 comparable stimuli")
    assert.include(checks[3]!.reason, "the judge failed on 10.0% of stimuli")
    assert.include(checks[4]!.reason, "too good to be true")
  })
  it("a judge that failed on most stimuli fails the verdict: there is no blended score to decide on", () => {
    const stimuli = shifted(40, 0.05).map((s, i) => (i < 24 ? { ...s, candidate: { ...s.candidate, status: "judge_failure" as const } } : s))
    const judge = sanityDowngradeGate.run(input(stimuli)).find((c) => c.check === "judge_failure_rate")!
    assert.strictEqual(judge.status, "fail")
    assert.include(judge.reason, "the judge failed on 60.0% of stimuli")
  })
  it("edge: exactly minSamples and a delta at the ceiling pass", () => {
    const stimuli = Array.from({ length: 30 }, (_, i) => stimulus(i, arm(0.2), arm(0.7)))
    const checks = sanityDowngradeGate.run(input(stimuli))
    assert.deepStrictEqual(checks.map((c) => c.status), ["pass", "pass", "pass", "pass", "pass"])
  })
})

describe("a candidate selected on the working set (a tournament winner)", () => {
  /** `working` stimuli with `workingEffect`, `holdout` synthetic holdout stimuli with `holdoutEffect`. */
  const selected = (working: number, workingEffect: number, holdout: number, holdoutEffect: number) => [
    ...shifted(working, workingEffect),
    ...shifted(holdout, holdoutEffect, () => ({ holdout: true })).map((s) => ({ ...s, id: `h${s.id}` }))
  ]
  it("delta threshold and bootstrap CI judge it on the synthetic holdout only, and say so", () => {
    // Working +8 pts (the selection's bias), holdout flat: no go from the working set.
    const biased = input(selected(60, 0.08, 40, 0), { selectedOnWorkingSet: true })
    const delta = only(deltaThresholdGate.run(biased))
    assert.strictEqual(delta.status, "fail")
    assert.include(delta.reason, "on the synthetic holdout (40 stimuli; the candidate was selected on the working set)")
    const ci = only(bootstrapCiGate.run(biased))
    assert.strictEqual(ci.status, "caution")
    assert.include(ci.reason, "on 40 stimuli of the synthetic holdout (the candidate was selected on the working set)")
    // The same runs not selected by us (a file's two runs): judged on the working set / all stimuli.
    const given = input(selected(60, 0.08, 40, 0))
    assert.strictEqual(only(deltaThresholdGate.run(given)).status, "pass")
    assert.include(only(deltaThresholdGate.run(given)).reason, "on the working set")
    assert.strictEqual(only(bootstrapCiGate.run(given)).status, "pass")
  })
  it("a winner that carries over to the holdout passes both", () => {
    const good = input(selected(60, 0.05, 40, 0.05), { selectedOnWorkingSet: true })
    assert.strictEqual(only(deltaThresholdGate.run(good)).status, "pass")
    assert.strictEqual(only(bootstrapCiGate.run(good)).status, "pass")
    assert.closeTo(only(deltaThresholdGate.run(good)).value!, 0.05, 1e-9)
  })
  it("edge: a holdout below minSamples / 2 stimuli is a caution (not go), with the reason", () => {
    // minSamples 30: 14 holdout stimuli are too few, 15 are enough.
    const few = input(selected(60, 0.05, 14, 0.05), { selectedOnWorkingSet: true })
    for (const c of [only(deltaThresholdGate.run(few)), only(bootstrapCiGate.run(few))]) {
      assert.strictEqual(c.status, "caution")
      assert.include(c.reason, "synthetic holdout has 14 comparable stimuli, fewer than 15 (minSamples / 2)")
    }
    const enough = input(selected(60, 0.05, 16, 0.05), { selectedOnWorkingSet: true })
    assert.strictEqual(only(deltaThresholdGate.run(enough)).status, "pass")
    // No holdout at all, and conformance anchors never count as holdout.
    const none = input(shifted(60, 0.05), { selectedOnWorkingSet: true })
    assert.strictEqual(only(bootstrapCiGate.run(none)).status, "caution")
    const anchors = input([...shifted(60, 0.05), ...shifted(20, 0.05, () => ({ holdout: true, source: "conformance" as const })).map((s) => ({ ...s, id: `c${s.id}` }))], { selectedOnWorkingSet: true })
    assert.include(only(deltaThresholdGate.run(anchors)).reason, "has 0 comparable stimuli")
    // No candidate stays neutral.
    assert.strictEqual(only(deltaThresholdGate.run(input(shifted(60, 0.05), { selectedOnWorkingSet: true, noCandidate: true }))).status, "neutral")
  })
})

