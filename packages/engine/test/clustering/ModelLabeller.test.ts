import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Result } from "effect"
import { BudgetLedger } from "../../src/agents/BudgetLedger.ts"
import { LABEL_MARKER, type LabelRequest, makeMemoryLabelCache, modelLabels, validateLabel } from "../../src/clustering/ModelLabeller.ts"
import { scriptedModel } from "./ScriptedLabelModel.ts"

const timeouts: LabelRequest = {
  offlineLabel: "timeout after 15–30s calling tax_lookup",
  representatives: ["timeout after 15s calling tax_lookup", "step 5: no response from tax_lookup within 30s"],
  members: ["timeout after 15s calling tax_lookup", "step 5: no response from tax_lookup within 30s", "call to tax_lookup exceeded the 30s timeout"]
}
const filing: LabelRequest = {
  offlineLabel: "answered single where head of household applies",
  representatives: ["Answered single where head of household applies", "filing status should be head of household, not single"],
  members: ["Answered single where head of household applies", "filing status should be head of household, not single"]
}
const deduction: LabelRequest = {
  offlineLabel: "standard deduction for age 65 not added",
  representatives: ["the additional standard deduction for age 65 was not added"],
  members: ["the additional standard deduction for age 65 was not added", "missed the extra deduction a filer over 65 gets"]
}

const settings = { workspaceId: "ws", provider: "scripted", model: "labeller", seed: 42 }

/** Labels by cluster, from the first explanation in the prompt. */
const byCluster = (user: string): string | undefined =>
  user.includes("tax_lookup") ? "Tax lookup calls time out" : user.includes("head of household") ? "Head of household filed as single" : "Missed age 65 standard deduction"

const withModel = (model: ReturnType<typeof scriptedModel>) => Effect.provide(Layer.mergeAll(model.layer, BudgetLedger.layer))

describe("model labeller", () => {
  it.effect("uses a good answer as the label, keeps the offline one beside it, and calls at temperature 0 with the seed", () =>
    Effect.gen(function*() {
      const model = scriptedModel((user) => `Label: "${byCluster(user)}."`)
      const [outcome] = yield* modelLabels([timeouts], settings, makeMemoryLabelCache()).pipe(withModel(model))
      assert.deepStrictEqual(outcome, { label: "Tax lookup calls time out", labelSource: "model", offlineLabel: timeouts.offlineLabel })
      const [parameters] = model.parameters()
      assert.strictEqual(parameters!.temperature, 0)
      assert.strictEqual(parameters!.seed, 42)
      assert.strictEqual(parameters!.model, "labeller")
      const [prompt] = model.prompts()
      assert.isTrue(prompt!.system.startsWith(LABEL_MARKER))
      for (const text of timeouts.representatives) assert.include(prompt!.user, text)
    }))

  it.effect("rejects garbage answers, naming why, and keeps the offline label", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["", "empty"],
        ["   \n  ", "empty"],
        ["{\"label\": \"timeout\"}", "not_a_phrase"],
        ["timeout", "not_a_phrase"],
        ["Timeouts. The agent then retried the call to tax_lookup", "not_a_phrase"],
        ["!!! ??? 123 456", "not_a_phrase"],
        ["The agent called the tax lookup tool and it did not answer in time so the whole run failed badly", "too_long"],
        ["Quantum flux capacitor misalignment", "off_topic"]
      ]
      for (const [answer, reason] of cases) {
        const model = scriptedModel(() => answer)
        const [outcome] = yield* modelLabels([timeouts], settings, makeMemoryLabelCache()).pipe(withModel(model))
        assert.strictEqual(outcome!.labelSource, "offline", answer)
        assert.strictEqual(outcome!.label, timeouts.offlineLabel, answer)
        assert.strictEqual(outcome!.rejection?.reason, reason, `${JSON.stringify(answer)}: ${outcome!.rejection?.detail}`)
        assert.isAbove(outcome!.rejection!.detail.length, 0)
      }
    }))

  it.effect("a failing model keeps the offline label with the failure, and the next cluster is still asked", () =>
    Effect.gen(function*() {
      const model = scriptedModel((user) => (user.includes("tax_lookup") ? undefined : byCluster(user)))
      const [first, second] = yield* modelLabels([timeouts, filing], settings, makeMemoryLabelCache()).pipe(withModel(model))
      assert.strictEqual(first!.labelSource, "offline")
      assert.strictEqual(first!.rejection?.reason, "model_failed")
      assert.match(first!.rejection!.detail, /scripted provider failed/)
      assert.deepStrictEqual([second!.labelSource, second!.label], ["model", "Head of household filed as single"])
      assert.strictEqual(model.calls(), 2)
    }))

  it.effect("counts against the scan's budget: once the ledger refuses, later clusters keep their offline labels without a call", () =>
    Effect.gen(function*() {
      const model = scriptedModel(byCluster)
      const outcomes = yield* Effect.gen(function*() {
        const ledger = yield* BudgetLedger
        yield* ledger.reset({ maxCalls: 1, maxTokens: 1_000_000, maxUsd: 100 })
        const outcomes = yield* modelLabels([timeouts, filing, deduction], settings, makeMemoryLabelCache())
        const spent = (yield* ledger.snapshot).byPurpose["label"]
        assert.strictEqual(spent?.calls, 1)
        return outcomes
      }).pipe(withModel(model))
      assert.deepStrictEqual(outcomes.map((o) => o.labelSource), ["model", "offline", "offline"])
      assert.deepStrictEqual(outcomes.slice(1).map((o) => o.rejection?.reason), ["budget_exhausted", "budget_exhausted"])
      assert.match(outcomes[1]!.rejection!.detail, /calls limit/)
      assert.strictEqual(model.calls(), 1)
    }))

  it.effect("makes at most maxCalls calls per diagnosis (call_cap), however much budget the scan has", () =>
    Effect.gen(function*() {
      const model = scriptedModel(byCluster)
      const outcomes = yield* modelLabels([timeouts, filing, deduction], { ...settings, maxCalls: 2 }, makeMemoryLabelCache()).pipe(withModel(model))
      assert.deepStrictEqual(outcomes.map((o) => o.labelSource), ["model", "model", "offline"])
      assert.strictEqual(outcomes[2]!.rejection?.reason, "call_cap")
      assert.strictEqual(model.calls(), 2)
    }))

  it.effect("the same representatives give the same label from the cache, without a call", () =>
    Effect.gen(function*() {
      const model = scriptedModel(byCluster)
      const cache = makeMemoryLabelCache()
      const first = yield* modelLabels([timeouts, filing], settings, cache).pipe(withModel(model))
      assert.strictEqual(model.calls(), 2)
      // Another scan: same representatives (more members), a call cap of 0 — still labelled, from the cache.
      const again = yield* modelLabels([{ ...timeouts, members: [...timeouts.members, "tax_lookup timed out"] }, filing], { ...settings, seed: 7, maxCalls: 0 }, cache)
        .pipe(withModel(model))
      assert.strictEqual(model.calls(), 2)
      assert.deepStrictEqual(again.map((o) => o.label), first.map((o) => o.label))
      assert.deepStrictEqual(again.map((o) => o.labelSource), ["model", "model"])
      // Different representatives are a different question.
      yield* modelLabels([deduction], settings, cache).pipe(withModel(model))
      assert.strictEqual(model.calls(), 3)
      // Another model is too.
      yield* modelLabels([timeouts], { ...settings, model: "other" }, cache).pipe(withModel(model))
      assert.strictEqual(model.calls(), 4)
    }))
})

describe("validateLabel", () => {
  it("accepts a phrase in the members' words, cleaned of quotes, prefixes and a full stop", () => {
    assert.deepStrictEqual(validateLabel("Root cause: **Filed single instead of head of household.**", filing.members), Result.succeed("Filed single instead of head of household"))
    assert.deepStrictEqual(validateLabel("“Tax lookup timeouts”\nBecause the tool is slow.", timeouts.members), Result.succeed("Tax lookup timeouts"))
  })
})
