import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { check, type Gate, GateRegistry, registerGates } from "../../src/gates/Gate.ts"
import { builtinGates } from "../../src/gates/BuiltinGates.ts"
import { decide, fold, VERDICT_POLICY } from "../../src/gates/Decision.ts"
import { VerdictEngine } from "../../src/gates/VerdictEngine.ts"
import { arm, input, shifted, stimulus } from "./fixtures.ts"

describe("fold policy", () => {
  const c = (status: "pass" | "fail" | "neutral" | "caution") => check("g", "c", status, "")
  it("any fail → no_go; else any caution → caution; else go; neutral counts toward neither", () => {
    assert.strictEqual(fold([c("pass"), c("caution"), c("fail")]), "no_go")
    assert.strictEqual(fold([c("pass"), c("caution"), c("neutral")]), "caution")
    assert.strictEqual(fold([c("pass"), c("neutral")]), "go")
    assert.strictEqual(fold([c("neutral")]), "go")
  })
})

describe("decide over the built-in gates", () => {
  it("a clear improvement on clean data is go, with every non-neutral check counted", () => {
    const d = decide(input(shifted(60, 0.05)), builtinGates)
    assert.strictEqual(d.outcome, "go")
    assert.strictEqual(d.checksPassed, d.checksTotal)
    assert.strictEqual(d.checksTotal, d.checks.filter((x) => x.status !== "neutral").length)
    assert.isAbove(d.delta!.low, 0)
    assert.include(d.explanation, VERDICT_POLICY)
    // Every built-in gate reports: the eight, convergence, judge agreement, consistency and the hard constraints.
    assert.deepStrictEqual(
      [...new Set(d.checks.map((x) => x.gate))].sort(),
      ["agent_regression", "bootstrap_ci", "consistency", "convergence", "delta_threshold", "dimension_regression", "hard_constraints", "holdout_generalization_gap", "judge_agreement", "output_similarity", "pareto", "sanity_downgrade"]
    )
  })
  it("the sanity downgrade turns go into caution (too few samples) but never a no_go into caution", () => {
    const small = decide(input(shifted(20, 0.1)), builtinGates)
    assert.strictEqual(small.outcome, "caution")
    assert.include(small.explanation, "sample_size")
    const regression = decide(input(shifted(20, -0.1)), builtinGates)
    assert.strictEqual(regression.outcome, "no_go")
  })
  it("an agent regression is a no_go even when the blended delta is significant", () => {
    const stimuli = shifted(60, 0.05).map((s) => ({ ...s, baseline: { ...s.baseline, agents: { intake: 0.9 } }, candidate: { ...s.candidate, agents: { intake: 0.8 } } }))
    const d = decide(input(stimuli), builtinGates)
    assert.strictEqual(d.outcome, "no_go")
    assert.strictEqual(d.checksPassed, d.checksTotal - 1)
  })
  it("no candidate is never go (validated, nothing to ship)", () => {
    const same = Array.from({ length: 40 }, (_, i) => stimulus(i, arm(0.6 + 0.005 * (i % 5)), arm(0.6 + 0.005 * (i % 5))))
    assert.strictEqual(decide(input(same, { noCandidate: true }), builtinGates).outcome, "caution")
  })
})

describe("VerdictEngine service", () => {
  it.effect("a plugin gate registered through the same Layer is folded like a built-in", () =>
    Effect.gen(function*() {
      const engine = yield* VerdictEngine
      const d = yield* engine.decide(input(shifted(60, 0.05)))
      assert.strictEqual(d.outcome, "no_go")
      assert.isTrue(d.checks.some((x) => x.gate === "acme/veto" && x.status === "fail"))
    }).pipe(
      Effect.provide(
        VerdictEngine.layerNoDeps.pipe(
          Layer.provideMerge(Layer.mergeAll(registerGates(builtinGates), registerGates([{ name: "acme/veto", description: "always fails", run: () => [check("acme/veto", "veto", "fail", "vetoed")] } satisfies Gate])).pipe(Layer.provideMerge(GateRegistry.layerEmpty)))
        )
      )
    ))
})
