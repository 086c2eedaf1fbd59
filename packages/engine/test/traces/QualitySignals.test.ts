/**
 * Quality failures that strike several agents together, beside the infrastructure signals: two
 * agents failing on the same stimuli far more often than their own rates explain are reported with
 * the stimuli (and, when one depends on the other, as propagation); independent failures at the
 * same rates are not; a failure-rate step shared by two agents at one time is reported, a step of
 * one agent alone or no step is not. Fisher's exact test's tail is checked against scipy.
 */
import { assert, describe, it } from "@effect/vitest"
import { hypergeometricUpperTail } from "../../src/stats/Hypergeometric.ts"
import { detectQualitySignals, type QualityObservation } from "../../src/traces/SystemicSignals.ts"
import { SeededStream } from "../../src/stats/SeededStream.ts"

const stimuli = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, "0")}`)

describe("hypergeometricUpperTail (Fisher's exact test, one-sided)", () => {
  it("matches scipy.stats.hypergeom.sf(k - 1, N, K, n) and fisher_exact(..., alternative='greater')", () => {
    // fisher_exact([[21, 0], [15, 12]], alternative="greater").pvalue = 0.00024952240107741
    assert.closeTo(hypergeometricUpperTail(21, 48, 21, 36), 0.00024952240107741, 1e-12)
    // hypergeom.sf(4, 200, 20, 20) = 0.03453674107960109 (k = 5)
    assert.closeTo(hypergeometricUpperTail(5, 200, 20, 20), 0.03453674107960109, 1e-10)
    assert.strictEqual(hypergeometricUpperTail(0, 10, 3, 4), 1)
    assert.strictEqual(hypergeometricUpperTail(4, 10, 3, 4), 0)
  })
})

describe("detectQualitySignals", () => {
  const ids = stimuli(200)
  it("two agents failing on the same 20 stimuli: one signal naming them, the stimuli, and the dependency", () => {
    const together = new Set(ids.slice(0, 20))
    const observations: Array<QualityObservation> = ids.flatMap((s, i) => [
      { agent: "intake", stimulusId: s, atMs: i, failed: together.has(s) || i % 50 === 25 },
      { agent: "preparer", stimulusId: s, atMs: i, failed: together.has(s) },
      { agent: "reviewer", stimulusId: s, atMs: i, failed: i % 10 === 3 }
    ])
    const signals = detectQualitySignals(observations, { dependsOn: { preparer: ["intake"], intake: [], reviewer: ["preparer"] } })
    const correlated = signals.filter((s) => s.kind === "correlated_quality_failure")
    assert.strictEqual(correlated.length, 1, JSON.stringify(signals))
    assert.deepStrictEqual(correlated[0]!.agents, ["intake", "preparer"])
    assert.deepStrictEqual(correlated[0]!.stimuli, [...together].sort())
    assert.include(correlated[0]!.description, "intake and preparer fail together on 20 stimuli")
    assert.include(correlated[0]!.description, "preparer depends on intake")
    assert.deepStrictEqual(signals.filter((s) => s.kind === "failure_rate_step"), [])
  })

  it("independent failures at the same rates (10% each): no correlated signal in 200 seeded runs but a handful", () => {
    let alarms = 0
    for (let seed = 1; seed <= 200; seed++) {
      const stream = SeededStream.make(seed, 0)
      const observations = ids.flatMap((s, i) =>
        ["a", "b", "c"].map((agent) => ({ agent, stimulusId: s, atMs: i, failed: stream.nextDouble() < 0.1 }))
      )
      if (detectQualitySignals(observations).some((x) => x.kind === "correlated_quality_failure")) alarms++
    }
    // alpha = 0.01 family-wise: at most a few false alarms in 200.
    assert.isAtMost(alarms, 6)
  })

  it("a failure-rate step shared by two agents at one time is one signal; one agent's step alone is not", () => {
    const stream = SeededStream.make(7, 0)
    const shared = (agents: ReadonlyArray<string>) =>
      ids.flatMap((s, i) =>
        agents.map((agent) => ({ agent, stimulusId: s, atMs: i * 1000, failed: stream.nextDouble() < (i >= 120 && agent !== "steady" ? 0.6 : 0.05) }))
      )
    const signals = detectQualitySignals(shared(["classifier", "preparer", "steady"]), { minCorrelatedStimuli: 1000 })
    const steps = signals.filter((s) => s.kind === "failure_rate_step")
    assert.strictEqual(steps.length, 1, JSON.stringify(signals))
    const step = steps[0]!
    assert.deepStrictEqual(step.agents, ["classifier", "preparer"])
    assert.isTrue(step.kind === "failure_rate_step" && Math.abs(step.atMs - 120_000) <= 10_000, JSON.stringify(step))
    assert.include(step.description, "rose together from")
    const alone = detectQualitySignals(shared(["classifier", "steady"]), { minCorrelatedStimuli: 1000 })
    assert.deepStrictEqual(alone.filter((s) => s.kind === "failure_rate_step"), [], "one agent's step is not systemic")
  })

  it("no observations, one agent, every answer failing: no signal and no NaN", () => {
    assert.deepStrictEqual(detectQualitySignals([]), [])
    assert.deepStrictEqual(detectQualitySignals(ids.map((s, i) => ({ agent: "a", stimulusId: s, atMs: i, failed: true }))), [])
    const allFail = ids.flatMap((s, i) => ["a", "b"].map((agent) => ({ agent, stimulusId: s, atMs: i, failed: true })))
    assert.deepStrictEqual(detectQualitySignals(allFail), [], "failing everywhere is not a correlation")
  })
})
