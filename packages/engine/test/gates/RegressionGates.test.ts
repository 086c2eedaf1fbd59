import { assert, describe, it } from "vitest"
import { agentRegressionGate, dimensionRegressionGate, holmAdjust, regressionFamily } from "../../src/gates/RegressionGates.ts"
import { arm, input, spread, stimulus, withThresholds } from "./fixtures.ts"

/** A deterministic noise in [−amplitude, amplitude] per stimulus and metric. */
const noise = (i: number, metric: number, amplitude: number) => (spread(i * 7 + metric * 13) * 2 - 1) * amplitude

/** n stimuli; `intake` and `advisor` move by the given true deltas, each with per-stimulus noise. */
const team = (n: number, intakeDelta: number, advisorDelta: number, amplitude = 0.05) =>
  Array.from({ length: n }, (_, i) =>
    stimulus(
      i,
      arm(0.7, { agents: { intake: 0.8, advisor: 0.6 } }),
      arm(0.72, { agents: { intake: 0.8 + intakeDelta + noise(i, 1, amplitude), advisor: 0.6 + advisorDelta + noise(i, 2, amplitude) } })
    ))

describe("agent regression: a paired test per agent, Holm-adjusted over the family", () => {
  it("passes every agent within tolerance, one check per agent, with its interval and adjusted p", () => {
    const checks = agentRegressionGate.run(input(team(60, 0.01, -0.01)))
    assert.deepStrictEqual(checks.map((c) => [c.check, c.status]), [["agent:advisor", "pass"], ["agent:intake", "pass"]])
    assert.match(checks[0]!.reason, /^advisor changes by -?\d+\.\d pts \[-?\d+\.\d pts, -?\d+\.\d pts\] on 60 stimuli; (significantly lower but )?within the 2\.0 pts tolerance \(Holm-adjusted p /)
  })

  it("fails the agent that significantly regresses beyond the tolerance, naming it and the test", () => {
    const checks = agentRegressionGate.run(input(team(60, -0.05, 0.1)))
    const intake = checks.find((c) => c.check === "agent:intake")!
    assert.strictEqual(intake.status, "fail")
    assert.match(intake.reason, /^intake regresses by [45]\.\d pts \[.*\]: beyond the 2\.0 pts tolerance and significant \(Holm-adjusted p .* over 2 watched metrics < α 0\.05\)$/)
    assert.strictEqual(checks.find((c) => c.check === "agent:advisor")!.status, "pass")
  })

  it("a drop beyond the tolerance that noise explains does not block, and the reason says so", () => {
    // 6 stimuli with ±30 pts noise: a −3 pts estimate is nowhere near significant.
    const checks = agentRegressionGate.run(input(team(6, -0.03, 0, 0.3)))
    const intake = checks.find((c) => c.check === "agent:intake")!
    assert.strictEqual(intake.status, "pass")
    assert.isBelow(intake.value!, -0.02, "the fixture's estimate is beyond the tolerance")
    assert.include(intake.reason, "beyond the 2.0 pts tolerance but not significant")
  })

  it("edge: the tolerance is the framework's (a significant 1.5 pts drop passes at 2 pts and fails at 1 pt)", () => {
    const data = team(200, -0.015, 0, 0.01)
    assert.strictEqual(agentRegressionGate.run(input(data)).find((c) => c.check === "agent:intake")!.status, "pass")
    assert.strictEqual(agentRegressionGate.run(input(data, { thresholds: withThresholds({ maxAgentRegression: 0.01 }) })).find((c) => c.check === "agent:intake")!.status, "fail")
  })

  it("is neutral without per-agent scores", () => {
    const checks = agentRegressionGate.run(input([stimulus(0, arm(0.5), arm(0.6))]))
    assert.deepStrictEqual(checks.map((c) => c.status), ["neutral"])
  })
})

describe("dimension regression: both authorities, kept apart", () => {
  const dims = (accuracyDelta: number) =>
    Array.from({ length: 40 }, (_, i) =>
      stimulus(
        i,
        arm(0.7, { worldDimensions: { accuracy: 0.7, grounding: 0.9 } }),
        arm(0.7, { worldDimensions: { accuracy: 0.7 + accuracyDelta + noise(i, 3, 0.02), grounding: 0.9 + noise(i, 4, 0.02) } })
      ))

  it("passes dimensions that hold", () => {
    assert.deepStrictEqual(dimensionRegressionGate.run(input(dims(0.05))).map((c) => c.status), ["pass", "pass"])
  })

  it("fails a dimension that regresses beyond maxDimensionRegression, naming its authority", () => {
    const checks = dimensionRegressionGate.run(input(dims(-0.06)))
    assert.deepStrictEqual(checks.map((c) => [c.check, c.status]), [["dimension:world_model:accuracy", "fail"], ["dimension:world_model:grounding", "pass"]])
  })

  it("colliding ids: the world model's filing_status and the judge's filing_status are two metrics, neither overwrites the other", () => {
    const stimuli = Array.from({ length: 40 }, (_, i) =>
      stimulus(
        i,
        arm(0.7, { worldDimensions: { filing_status: 0.9 }, rubricDimensions: { filing_status: 0.6 } }),
        // Ground truth drops 20 pts; the judge, fooled, likes the candidate 20 pts more.
        arm(0.7, { worldDimensions: { filing_status: 0.7 + noise(i, 5, 0.02) }, rubricDimensions: { filing_status: 0.8 + noise(i, 6, 0.02) } })
      ))
    const checks = dimensionRegressionGate.run(input(stimuli))
    const world = checks.find((c) => c.check === "dimension:world_model:filing_status")!
    const rubric = checks.find((c) => c.check === "dimension:rubric:filing_status")!
    assert.strictEqual(world.status, "fail")
    assert.closeTo(world.value!, -0.2, 0.01)
    assert.strictEqual(rubric.status, "pass")
    assert.closeTo(rubric.value!, 0.2, 0.01)
  })

  it("edge: stimulus weights count in the mean", () => {
    const stimuli = Array.from({ length: 20 }, (_, i) =>
      i === 0
        ? stimulus(0, arm(0.7, { worldDimensions: { accuracy: 0.9 } }), arm(0.7, { worldDimensions: { accuracy: 0.5 } }), { weight: 1 })
        : stimulus(i, arm(0.7, { worldDimensions: { accuracy: 0.5 } }), arm(0.7, { worldDimensions: { accuracy: 0.52 + noise(i, 7, 0.005) } }), { weight: 99 }))
    const [accuracy] = dimensionRegressionGate.run(input(stimuli))
    // Weighted mean change ≈ (−0.4 + 19·99·0.02) / (1 + 19·99) > 0.
    assert.strictEqual(accuracy!.status, "pass")
    assert.isAbove(accuracy!.value!, 0.015)
  })
})

describe("the family of watched metrics", () => {
  it("Holm's step-down adjustment matches a hand computation", () => {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1) = 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005])
    assert.deepStrictEqual(adjusted.map((p) => +p.toFixed(6)), [0.03, 0.06, 0.06, 0.02])
    assert.deepStrictEqual(holmAdjust([]), [])
    assert.deepStrictEqual(holmAdjust([0.9, 0.8]), [1, 1])
    assert.deepStrictEqual(holmAdjust([0.2, 0.01]), [0.2, 0.02])
  })

  it("twelve watched metrics that did not move block nothing; one that regressed blocks alone", () => {
    const agents = ["a", "b", "c", "d"]
    const dimensions = ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"]
    const make = (regressed: string | undefined) =>
      Array.from({ length: 200 }, (_, i) => {
        const value = (key: string, k: number) => 0.7 + noise(i, k, 0.1) - (key === regressed ? 0.06 : 0)
        return stimulus(
          i,
          arm(0.7, { agents: Object.fromEntries(agents.map((a) => [a, 0.7])), worldDimensions: Object.fromEntries(dimensions.map((d) => [d, 0.7])) }),
          arm(0.73, {
            agents: Object.fromEntries(agents.map((a, k) => [a, value(a, 10 + k)])),
            worldDimensions: Object.fromEntries(dimensions.map((d, k) => [d, value(d, 20 + k)]))
          })
        )
      })
    const unchanged = regressionFamily(input(make(undefined)))
    assert.strictEqual(unchanged.metrics.length, 12)
    assert.deepStrictEqual(unchanged.metrics.filter((m) => m.blocks).map((m) => m.key), [])
    const one = regressionFamily(input(make("d3")))
    assert.deepStrictEqual(one.metrics.filter((m) => m.blocks).map((m) => m.key), ["world_model:d3"])
  })
})
