import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { EvalSet, EvalSetProvider } from "@spectral/engine/contracts"
import { buildEvalSet, decideCase, evaluate, flsaScenarioGenerator, flsaWorld_0_1_0, WorldsEvalSetProvider } from "../src/index.ts"
import { framework } from "./fixtures/requests.ts"

const base = { coveredByFlsa: true, payBasis: "hourly", hourlyRate: 20, weeklySalary: 0, hoursWorked: 45, primaryDuty: "none" }

// Worked by hand: 29 U.S.C. § 207(a)(1), 29 CFR §§ 541.400, 541.500, 541.600, 778.113.
const cases: ReadonlyArray<[string, Record<string, unknown>, string, number]> = [
  ["hourly, 45 hours at $20", {}, "non_exempt", 150],
  ["hourly, exactly 40 hours", { hoursWorked: 40 }, "non_exempt", 0],
  ["hourly, 50 hours at $15.50", { hourlyRate: 15.5, hoursWorked: 50 }, "non_exempt", 232.5],
  ["salaried manager under $684/week: salary $600, 50 hours", { payBasis: "salary", weeklySalary: 600, hourlyRate: 0, hoursWorked: 50, primaryDuty: "executive" }, "non_exempt", 225],
  ["salaried manager at $684/week", { payBasis: "salary", weeklySalary: 684, hourlyRate: 0, hoursWorked: 50, primaryDuty: "executive" }, "exempt", 0],
  ["well-paid salaried worker with no exempt duty", { payBasis: "salary", weeklySalary: 1000, hourlyRate: 0, hoursWorked: 44, primaryDuty: "none" }, "non_exempt", 150],
  ["programmer at $27.63/hour", { hourlyRate: 27.63, primaryDuty: "computer" }, "exempt", 0],
  ["programmer at $22/hour", { hourlyRate: 22, primaryDuty: "computer", hoursWorked: 42 }, "non_exempt", 66],
  ["outside sales paid $14/hour", { hourlyRate: 14, primaryDuty: "outside_sales", hoursWorked: 50 }, "exempt", 0],
  ["uncovered employer", { coveredByFlsa: false, hoursWorked: 60 }, "not_covered", 0]
]

describe("us-flsa-overtime 0.1.0", () => {
  for (const [name, over, status, pay] of cases) {
    it(name, () => {
      const decision = evaluate(flsaWorld_0_1_0, { ...base, ...over } as Record<string, string | number | boolean>)
      assert.strictEqual(decision.outputs.exemptionStatus, status)
      assert.closeTo(decision.outputs.overtimePay as number, pay, 1e-9)
    })
  }

  it("flat-facts decide reports outcomes and rejects undeclared facts", () => {
    const ok = decideCase(flsaWorld_0_1_0, "a", base)
    assert.deepInclude(ok, { id: "a", exemptionStatus: "non_exempt", overtimePay: 150 })
    const bad = decideCase(flsaWorld_0_1_0, "b", { ...base, shoeSize: 9 })
    assert.deepStrictEqual(bad, { id: "b", error: "unknown fact shoeSize" })
    const wrong = decideCase(flsaWorld_0_1_0, "c", { ...base, payBasis: "piecework" })
    assert.include((wrong as { error: string }).error, "payBasis")
  })

  it("generates a valid, reproducible eval set with its own dimensions", () => {
    const a = buildEvalSet(flsaWorld_0_1_0, flsaScenarioGenerator, { seed: 3, size: 60, generatedAt: "2026-01-01T00:00:00.000Z" })
    assert.deepStrictEqual(a, buildEvalSet(flsaWorld_0_1_0, flsaScenarioGenerator, { seed: 3, size: 60, generatedAt: "2026-01-01T00:00:00.000Z" }))
    assert.isTrue(Result.isSuccess(Schema.decodeUnknownResult(EvalSet)(a)))
    assert.deepStrictEqual(a.samples[0].dimensions.map((d) => d.field), ["exemptionStatus", "overtimePay"])
    assert.deepStrictEqual(new Set(a.samples.map((s) => s.expected.exemptionStatus)), new Set(["exempt", "non_exempt", "not_covered"]))
    assert.isAtLeast(a.holdout.heldOutSegments.length, 1)
  })

  it.effect("is served by the same provider", () =>
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const set = yield* provider.evalSet({ workspaceId: "ws", worldModelId: "us-flsa-overtime", framework, seed: 1, size: 30 })
      assert.strictEqual(set.attribution.worldModelId, "us-flsa-overtime")
      const violations = yield* provider.conformity({
        workspaceId: "ws",
        worldModelId: "us-flsa-overtime",
        baseline: [],
        proposed: [{
          agentId: "payroll",
          version: 1,
          template: {
            basePrompt: "Decide overtime.",
            contextSelection: { mode: "full", maxChars: 2000, truncation: "tail" },
            chainOfThought: "none",
            fewShotExamples: [],
            upstreamInjection: { mode: "none", label: "" },
            guidance: ["Salaried employees are always exempt."],
            outputFields: ["exemptionStatus", "overtimePay"]
          },
          hyperparameters: { provider: "sim", model: "sim", temperature: 0.2, maxTokens: 256 }
        }]
      })
      assert.deepStrictEqual(violations.map((v) => [v.rule, v.agentId]), [["flsa.salary-level", "payroll"]])
    }).pipe(Effect.provide(WorldsEvalSetProvider.layer)))
})
