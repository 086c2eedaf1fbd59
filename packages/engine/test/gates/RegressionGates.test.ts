import { assert, describe, it } from "vitest"
import { agentRegressionGate, dimensionRegressionGate } from "../../src/gates/RegressionGates.ts"
import { arm, input, stimulus, withThresholds } from "./fixtures.ts"

const team = (n: number, intakeDelta: number, advisorDelta: number) =>
  Array.from({ length: n }, (_, i) =>
    stimulus(i, arm(0.7, { agents: { intake: 0.8, advisor: 0.6 } }), arm(0.72, { agents: { intake: 0.8 + intakeDelta, advisor: 0.6 + advisorDelta } })))

describe("agent regression", () => {
  it("passes every agent within tolerance, one check per agent", () => {
    const checks = agentRegressionGate.run(input(team(30, 0.01, -0.01)))
    assert.deepStrictEqual(checks.map((c) => [c.check, c.status]), [["agent:advisor", "pass"], ["agent:intake", "pass"]])
  })
  it("fails the agent that regresses beyond the framework's tolerance, naming it", () => {
    const checks = agentRegressionGate.run(input(team(30, -0.05, 0.1)))
    const intake = checks.find((c) => c.check === "agent:intake")!
    assert.strictEqual(intake.status, "fail")
    assert.include(intake.reason, "intake regresses by 5.0 pts")
    assert.strictEqual(checks.find((c) => c.check === "agent:advisor")!.status, "pass")
  })
  it("edge: 1.5 pts passes at tolerance 2 pts and fails at 1 pt (the tolerance is the framework's)", () => {
    assert.strictEqual(agentRegressionGate.run(input(team(30, -0.015, 0)))[1]!.status, "pass")
    assert.strictEqual(agentRegressionGate.run(input(team(30, -0.015, 0), { thresholds: withThresholds({ maxAgentRegression: 0.01 }) }))[1]!.status, "fail")
  })
  it("is neutral without per-agent scores", () => {
    const checks = agentRegressionGate.run(input([stimulus(0, arm(0.5), arm(0.6))]))
    assert.deepStrictEqual(checks.map((c) => c.status), ["neutral"])
  })
})

describe("dimension regression", () => {
  const dims = (accuracyDelta: number) =>
    Array.from({ length: 30 }, (_, i) =>
      stimulus(i, arm(0.7, { dimensions: { accuracy: 0.7, grounding: 0.9 } }), arm(0.7, { dimensions: { accuracy: 0.7 + accuracyDelta, grounding: 0.9 } })))
  it("passes dimensions that hold", () => {
    assert.deepStrictEqual(dimensionRegressionGate.run(input(dims(0.05))).map((c) => c.status), ["pass", "pass"])
  })
  it("fails a dimension that regresses beyond maxDimensionRegression", () => {
    const checks = dimensionRegressionGate.run(input(dims(-0.04)))
    assert.deepStrictEqual(checks.map((c) => [c.check, c.status]), [["dimension:accuracy", "fail"], ["dimension:grounding", "pass"]])
  })
  it("edge: stimulus weights count in the mean", () => {
    const stimuli = [
      stimulus(0, arm(0.7, { dimensions: { accuracy: 0.9 } }), arm(0.7, { dimensions: { accuracy: 0.5 } }), { weight: 1 }),
      stimulus(1, arm(0.7, { dimensions: { accuracy: 0.5 } }), arm(0.7, { dimensions: { accuracy: 0.52 } }), { weight: 99 })
    ]
    // Weighted mean change: (−0.4 + 99·0.02) / 100 = +0.0158.
    assert.strictEqual(dimensionRegressionGate.run(input(stimuli))[0]!.status, "pass")
  })
})
