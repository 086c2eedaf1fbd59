import { assert, describe, it } from "vitest"
import { convergenceGate, outputSimilarityGate, paretoGate } from "../../src/gates/OutputGates.ts"
import { arm, input, stimulus, vector } from "./fixtures.ts"

const outputs = (n: number, changed: number) =>
  Array.from({ length: n }, (_, i) => stimulus(i, arm(0.5, { output: `a${i}` }), arm(0.55, { output: i < changed ? `b${i}` : `a${i}` })))

describe("output similarity", () => {
  it("passes a change that changes some outputs", () => {
    const c = outputSimilarityGate.run(input(outputs(100, 30)))[0]!
    assert.strictEqual(c.status, "pass")
    assert.include(c.reason, "30.0% of outputs changed")
  })
  it("flags a change that changes nothing and one that changes everything", () => {
    const none = outputSimilarityGate.run(input(outputs(100, 1)))[0]!
    assert.strictEqual(none.status, "caution")
    assert.include(none.reason, "does almost nothing")
    const all = outputSimilarityGate.run(input(outputs(100, 100)))[0]!
    assert.strictEqual(all.status, "caution")
    assert.include(all.reason, "rewrites almost everything")
  })
  it("edge: neutral without outputs or without a candidate; at the band's ends it passes", () => {
    assert.strictEqual(outputSimilarityGate.run(input([stimulus(0, arm(0.5), arm(0.6))]))[0]!.status, "neutral")
    assert.strictEqual(outputSimilarityGate.run(input(outputs(100, 30), { noCandidate: true }))[0]!.status, "neutral")
    assert.strictEqual(outputSimilarityGate.run(input(outputs(100, 2)))[0]!.status, "pass")
    assert.strictEqual(outputSimilarityGate.run(input(outputs(100, 95)))[0]!.status, "pass")
  })
})

describe("Pareto on the framework's optimization vectors", () => {
  const measured = (quality: number, cost: number, latency: number, extra: Record<string, number> = {}) =>
    Array.from({ length: 20 }, (_, i) =>
      stimulus(i, arm(0.6, { costUsd: 0.01, latencyMs: 1000, worldDimensions: { safety: 0.9, tone: 0.5 }, worldModel: 0.7 }), arm(0.6 + quality, { costUsd: 0.01 + cost, latencyMs: 1000 + latency, worldDimensions: { safety: 0.9 + (extra.safety ?? 0), tone: 0.5 + (extra.tone ?? 0) }, worldModel: 0.7 })))
  it("passes a candidate that dominates on the default quality, cost, latency", () => {
    const c = paretoGate.run(input(measured(0.05, -0.001, 0)))[0]!
    assert.strictEqual(c.status, "pass")
    assert.include(c.reason, "quality better, cost better, latency same")
  })
  it("fails a candidate the baseline dominates", () => {
    const c = paretoGate.run(input(measured(0, 0.005, 300)))[0]!
    assert.strictEqual(c.status, "fail")
    assert.include(c.reason, "dominated by the baseline")
  })
  it("a trade-off is neutral", () => {
    assert.strictEqual(paretoGate.run(input(measured(0.05, 0.005, 0)))[0]!.status, "neutral")
  })
  it("reads the configured vectors: safety and custom dimensions, a maximized cost is honoured, weight 0 skipped", () => {
    const vectors = [vector("quality", "quality", "maximize"), vector("safety", "safety", "maximize"), vector("tone", "custom", "maximize"), vector("cost", "cost", "minimize", { weight: 0 })]
    // Quality same, safety worse, tone same; cost (weight 0) would be better but is not an objective.
    const dominated = paretoGate.run(input(measured(0, -0.005, 0, { safety: -0.1 }), { vectors }))[0]!
    assert.strictEqual(dominated.status, "fail")
    assert.include(dominated.reason, "safety worse")
    assert.notInclude(dominated.reason, "cost")
    const better = paretoGate.run(input(measured(0, 0, 0, { tone: 0.2 }), { vectors }))[0]!
    assert.strictEqual(better.status, "pass")
    assert.include(better.reason, "tone better")
  })
  it("a quality vector restricted to agents reads those agents' scores", () => {
    const stimuli = Array.from({ length: 10 }, (_, i) =>
      stimulus(i, arm(0.6, { agents: { intake: 0.9, advisor: 0.5 }, costUsd: 1 }), arm(0.7, { agents: { intake: 0.8, advisor: 0.7 }, costUsd: 1 })))
    const vectors = [vector("intake quality", "quality", "maximize", { agents: ["intake"] }), vector("cost", "cost", "minimize")]
    const c = paretoGate.run(input(stimuli, { vectors }))[0]!
    assert.strictEqual(c.status, "fail")
    assert.include(c.reason, "intake quality worse")
  })
  it("edge: fewer than two measured vectors, or no candidate, is neutral", () => {
    assert.include(paretoGate.run(input([stimulus(0, arm(0.5), arm(0.9))]))[0]!.reason, "fewer than two vectors measured (quality)")
    assert.strictEqual(paretoGate.run(input(measured(0.05, -0.001, 0), { noCandidate: true }))[0]!.status, "neutral")
  })
})

describe("convergence", () => {
  const anchors = (gap: number) =>
    Array.from({ length: 10 }, (_, i) => stimulus(i, arm(0.6), arm(0.6, { rubric: 0.7 + gap, worldModel: 0.7 }), { source: "conformance" }))
  it("passes when rubric and world model agree on conformance samples", () => {
    assert.strictEqual(convergenceGate.run(input(anchors(0.05)))[0]!.status, "pass")
  })
  it("cautions a divergence above maxConvergenceDelta", () => {
    const c = convergenceGate.run(input(anchors(0.25)))[0]!
    assert.strictEqual(c.status, "caution")
    assert.include(c.reason, "diverge by 25.0 pts on 10 conformance samples")
  })
  it("edge: absent without conformance samples → neutral, whatever synthetic stimuli say", () => {
    const synthetic = anchors(0.5).map((s) => ({ ...s, source: "synthetic" as const }))
    const c = convergenceGate.run(input(synthetic))[0]!
    assert.strictEqual(c.status, "neutral")
    assert.include(c.reason, "absent")
  })
})
