/**
 * Convergence is the mean per-anchor disagreement |rubric − world model| (weighted), in the gate
 * and in the composite alike: disagreements in opposite directions must not cancel.
 */
import { assert, describe, it } from "vitest"
import type { EvalSet } from "../../src/contracts/index.ts"
import { convergenceGate } from "../../src/gates/OutputGates.ts"
import { compose } from "../../src/pipeline/Evaluate.ts"
import type { ArmMeasurement, RunMeasurement } from "../../src/measurement/Measurement.ts"
import { arm, input, stimulus } from "./fixtures.ts"

/** 20 anchors: the rubric 50 pts above the world model on half, 50 pts below on the other half. */
const opposite = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? { rubric: 1, worldModel: 0.5 } : { rubric: 0, worldModel: 0.5 }))

describe("convergence gate: the mean of per-anchor |rubric − world model|", () => {
  it("opposite disagreements do not cancel: 20 anchors 50 pts apart, half each way, caution at 50 pts", () => {
    const stimuli = opposite.map((o, i) => stimulus(i, arm(0.5), arm(0.5, o), { source: "conformance" }))
    const c = convergenceGate.run(input(stimuli))[0]!
    assert.strictEqual(c.status, "caution", c.reason)
    assert.closeTo(c.value!, 0.5, 1e-12)
    assert.include(c.reason, "diverge by 50.0 pts on 20 conformance samples")
  })
  it("weights each anchor by its stimulus weight", () => {
    const stimuli = [
      stimulus(0, arm(0.5), arm(0.5, { rubric: 0.9, worldModel: 0.5 }), { source: "conformance", weight: 3 }),
      stimulus(1, arm(0.5), arm(0.5, { rubric: 0.5, worldModel: 0.5 }), { source: "conformance", weight: 1 })
    ]
    const c = convergenceGate.run(input(stimuli))[0]!
    assert.closeTo(c.value!, 0.3, 1e-12)
    assert.strictEqual(c.status, "caution")
  })
})

describe("composite convergenceDelta (Evaluate)", () => {
  const run = (stimulusId: string, rubric: number, worldModel: number): RunMeasurement => ({
    stimulusId,
    epoch: 0,
    traceId: `t:${stimulusId}`,
    status: "ok",
    rubric,
    worldModel,
    blended: (rubric + worldModel) / 2,
    passed: true,
    agents: {},
    worldDimensions: {},
    rubricDimensions: {},
    agentOutputs: {},
    truncatedAgents: [],
    costUsd: 0,
    latencyMs: 0
  })
  const evalSet = {
    samples: [
      ...opposite.map((_, i) => ({ id: `c${i}`, stimulusWeight: 1, provenance: "conformance_sample" })),
      { id: "syn", stimulusWeight: 1, provenance: "synthetic" }
    ]
  } as unknown as EvalSet
  it("is the mean per-anchor |rubric − world model|, not |mean rubric − mean world model|", () => {
    const measured: ArmMeasurement = { arm: "baseline", runs: [...opposite.map((o, i) => run(`c${i}`, o.rubric, o.worldModel)), run("syn", 0.9, 0.1)] }
    const composite = compose(evalSet, measured)
    assert.strictEqual(composite.convergenceDelta._tag, "Present")
    if (composite.convergenceDelta._tag === "Present") assert.closeTo(composite.convergenceDelta.value, 0.5, 1e-12)
  })
  it("stays absent without conformance samples", () => {
    const measured: ArmMeasurement = { arm: "baseline", runs: [run("syn", 0.9, 0.1)] }
    assert.strictEqual(compose(evalSet, measured).convergenceDelta._tag, "Absent")
  })
})
