import { assert, describe, it } from "vitest"
import { hardConstraintsGate, measureConstraint } from "../../src/gates/HardConstraintGate.ts"
import { builtinGates } from "../../src/gates/BuiltinGates.ts"
import { decide } from "../../src/gates/Decision.ts"
import { arm, input, shifted, stimulus } from "./fixtures.ts"
import type { HardConstraint } from "../../src/contracts/index.ts"

const constraint = (metric: HardConstraint["metric"], op: HardConstraint["op"], value: number): HardConstraint => ({ metric, op, value })

/** 40 stimuli, the candidate +5 pts; candidate cost 0.003, latency 100..490 ms, world model 0.7, 2 parse failures. */
const measured = () =>
  shifted(40, 0.05).map((s, i) => ({
    ...s,
    baseline: { ...s.baseline, costUsd: 0.002, latencyMs: 100, worldModel: 0.6, status: "ok" as const },
    candidate: { ...s.candidate, costUsd: 0.003, latencyMs: 100 + 10 * i, worldModel: 0.7, status: i < 2 ? "parse_failure" as const : "ok" as const }
  }))

describe("hard constraints gate", () => {
  it("one check per constraint, measured on the candidate: pass when met", () => {
    const checks = hardConstraintsGate.run(input(measured(), {
      hardConstraints: [
        constraint("cost_usd_per_stimulus", "<=", 0.005),
        constraint("latency_ms_p95", "<=", 500),
        constraint("parse_failure_rate", "<=", 0.1),
        constraint("world_model_score", ">=", 0.65)
      ]
    }))
    assert.deepStrictEqual(checks.map((c) => c.status), ["pass", "pass", "pass", "pass"])
    assert.deepStrictEqual(checks.map((c) => c.check), ["cost_usd_per_stimulus <= 0.005", "latency_ms_p95 <= 500", "parse_failure_rate <= 0.1", "world_model_score >= 0.65"])
    assert.closeTo(checks[0]!.value!, 0.003, 1e-12)
    // Nearest-rank p95 of 100, 110, …, 490: the 38th value.
    assert.strictEqual(checks[1]!.value, 470)
    assert.closeTo(checks[2]!.value!, 0.05, 1e-12)
    assert.closeTo(checks[3]!.value!, 0.7, 1e-12)
  })
  it("fails each violated constraint, naming the measure and the limit", () => {
    const checks = hardConstraintsGate.run(input(measured(), {
      hardConstraints: [
        constraint("cost_usd_per_stimulus", "<=", 0.0025),
        constraint("latency_ms_p95", "<=", 400),
        constraint("parse_failure_rate", "<=", 0.01),
        constraint("world_model_score", ">=", 0.8)
      ]
    }))
    assert.deepStrictEqual(checks.map((c) => c.status), ["fail", "fail", "fail", "fail"])
    assert.include(checks[0]!.reason, "violates <= $0.0025")
    assert.include(checks[1]!.reason, "candidate latency_ms_p95 470 ms")
    assert.include(checks[2]!.reason, "parse_failure_rate 5.0 pts")
    assert.include(checks[3]!.reason, "violates >= 80.0 pts")
  })
  it("a violated constraint makes the verdict no_go even on a significant improvement", () => {
    const d = decide(input(measured(), { hardConstraints: [constraint("cost_usd_per_stimulus", "<=", 0.0025)] }), builtinGates)
    assert.strictEqual(d.outcome, "no_go")
    assert.isTrue(d.checks.some((c) => c.gate === "hard_constraints" && c.status === "fail"))
  })
  it("edge: a measure the input does not carry is neutral; no constraints or no candidate is neutral", () => {
    const bare = shifted(40, 0.05)
    for (const metric of ["cost_usd_per_stimulus", "latency_ms_p95", "parse_failure_rate", "world_model_score"] as const) {
      assert.isUndefined(measureConstraint(input(bare), metric))
      const [c] = hardConstraintsGate.run(input(bare, { hardConstraints: [constraint(metric, "<=", 1)] }))
      assert.strictEqual(c!.status, "neutral")
      assert.include(c!.reason, "absent")
    }
    assert.strictEqual(hardConstraintsGate.run(input(bare))[0]!.status, "neutral")
    assert.strictEqual(hardConstraintsGate.run(input(measured(), { noCandidate: true, hardConstraints: [constraint("cost_usd_per_stimulus", "<=", 0.0001)] }))[0]!.status, "neutral")
  })
  it("edge: a constraint exactly at its limit is met; infrastructure failures are not measured", () => {
    const rows = [
      stimulus(0, arm(0.5), arm(0.6, { costUsd: 0.01 })),
      stimulus(1, arm(0.5), arm(0, { costUsd: 5, status: "infra_failure" }))
    ]
    const [c] = hardConstraintsGate.run(input(rows, { hardConstraints: [constraint("cost_usd_per_stimulus", "<=", 0.01)] }))
    assert.strictEqual(c!.status, "pass")
  })
  it("is registered with the built-ins", () => {
    assert.include(builtinGates.map((g) => g.name), "builtin/hard_constraints")
  })
})
