import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import { EvalSetProvider } from "@spectral/engine/contracts"
import { taxWorld_0_1_0, taxWorld_0_2_0, WorldRegistry, WorldsEvalSetProvider } from "../src/index.ts"
import { agent, request } from "./fixtures/requests.ts"

describe("WorldsEvalSetProvider", () => {
  it.effect("answers the preflight question", () =>
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const ok = yield* provider.availability(request())
      assert.isTrue(ok.available)
      assert.deepStrictEqual(ok.authority, taxWorld_0_1_0.authority)
      const unknown = yield* provider.availability(request({ worldModelId: "eu-vat" }))
      assert.isFalse(unknown.available)
      assert.include(unknown.reason, "eu-vat")
      const tooSmall = yield* provider.availability(request({ size: 3 }))
      assert.isFalse(tooSmall.available)
    }).pipe(Effect.provide(WorldsEvalSetProvider.layer)))

  it.effect("hands Observe an attributed eval set stamped with the Clock's time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 3, 20, 12, 0, 0))
      const provider = yield* EvalSetProvider
      const set = yield* provider.evalSet(request())
      assert.strictEqual(set.samples.length, 80)
      assert.strictEqual(set.attribution.generatedAt, "2026-04-20T12:00:00.000Z")
      assert.strictEqual(set.attribution.worldModelVersion, "0.1.0")
      const again = yield* provider.evalSet(request())
      assert.deepStrictEqual(again, set)
      const framework = yield* provider.evalSet(request({ size: 0 }))
      assert.strictEqual(framework.samples.length, 80)
      const missing = yield* Effect.exit(provider.evalSet(request({ worldModelId: "nope" })))
      assert.isTrue(Exit.isFailure(missing))
    }).pipe(Effect.provide(WorldsEvalSetProvider.layer)))

  it.effect("serves the configured current version and records it in the attribution", () =>
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const set = yield* provider.evalSet(request())
      assert.deepStrictEqual(set.attribution.authority, taxWorld_0_2_0.authority)
      const registry = yield* WorldRegistry
      yield* registry.setCurrent("us-federal-individual-tax", "0.1.0")
      const back = yield* provider.evalSet(request())
      assert.strictEqual(back.attribution.worldModelVersion, "0.1.0")
      assert.deepStrictEqual(back.samples.map((s) => s.input), set.samples.map((s) => s.input))
    }).pipe(Effect.provide(WorldsEvalSetProvider.layerCurrent({ "us-federal-individual-tax": "0.2.0" }))))

  it.effect("registry: publishing is explicit, versions are immutable", () =>
    Effect.gen(function*() {
      const registry = yield* WorldRegistry
      const worlds = yield* registry.list
      const tax = worlds.find((w) => w.worldModelId === "us-federal-individual-tax")!
      assert.deepStrictEqual(tax.versions, ["0.1.0", "0.2.0"])
      assert.strictEqual(tax.current, "0.1.0")
      const same = yield* registry.publish(JSON.parse(JSON.stringify(taxWorld_0_1_0.definition)))
      assert.deepStrictEqual(same.authority, taxWorld_0_1_0.authority)
      const changed = JSON.parse(JSON.stringify(taxWorld_0_1_0.definition))
      changed.rules[0].title = "Changed"
      const conflict = yield* Effect.exit(registry.publish(changed))
      assert.isTrue(Exit.isFailure(conflict))
      changed.version = "0.3.0"
      const published = yield* registry.publish(changed)
      assert.strictEqual((yield* registry.current("us-federal-individual-tax")).authority.worldModelVersion, "0.1.0")
      yield* registry.setCurrent("us-federal-individual-tax", "0.3.0")
      assert.deepStrictEqual((yield* registry.current("us-federal-individual-tax")).authority, published.authority)
    }).pipe(Effect.provide(WorldRegistry.layer)))
})

describe("conformity (Safety invariants)", () => {
  const conformity = (baseline: ReturnType<typeof agent>[], proposed: ReturnType<typeof agent>[]) =>
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      return yield* provider.conformity({ workspaceId: "ws-1", worldModelId: "us-federal-individual-tax", baseline, proposed })
    }).pipe(Effect.provide(WorldsEvalSetProvider.layer))

  it.effect("a harmless change conforms", () =>
    Effect.gen(function*() {
      const violations = yield* conformity(
        [agent("intake"), agent("status")],
        [agent("intake"), agent("status", { guidance: ["Check whether the spouse lived in the home during the last 6 months."], temperature: 0.1 })]
      )
      assert.deepStrictEqual(violations, [])
    }))

  it.effect("guidance contradicting a tier-1 rule names the rule and the agent", () =>
    Effect.gen(function*() {
      const violations = yield* conformity(
        [agent("status")],
        [agent("status", { guidance: ["Married taxpayers can never file as head of household.", "A parent must live with you to be a qualifying person."] })]
      )
      assert.deepStrictEqual(violations.map((v) => [v.rule, v.agentId]), [
        ["hoh.considered-unmarried", "status"],
        ["hoh.dependent-parent-exception", "status"]
      ])
      assert.strictEqual(violations[0].invariant, "inv.no-tier1-contradiction")
    }))

  it.effect("text already in the baseline is not blamed on the change", () =>
    Effect.gen(function*() {
      const old = ["If your spouse died this year you cannot file a joint return."]
      const violations = yield* conformity([agent("status", { guidance: old })], [agent("status", { guidance: old, temperature: 0.3 })])
      assert.deepStrictEqual(violations, [])
      const fresh = yield* conformity([agent("status")], [agent("status", { guidance: old })])
      assert.deepStrictEqual(fresh.map((v) => v.rule), ["status.spouse-died-this-year"])
    }))

  it.effect("removing a required output field or an agent is a violation", () =>
    Effect.gen(function*() {
      const violations = yield* conformity(
        [agent("intake", { outputFields: ["maritalStatus", "age65OrOlder"] }), agent("status")],
        [agent("status", { outputFields: ["filingStatus"] })]
      )
      assert.deepStrictEqual(violations.map((v) => [v.rule, v.agentId]).sort(), [
        ["inv.required-output-fields/age65OrOlder", "intake"],
        ["inv.required-output-fields/maritalStatus", "intake"],
        ["inv.required-output-fields/standardDeduction", "status"]
      ])
    }))

  it.effect("hyperparameters stay in the declared bounds", () =>
    Effect.gen(function*() {
      const violations = yield* conformity([agent("status")], [agent("status", { temperature: 1.5, maxTokens: 8000 })])
      assert.deepStrictEqual(violations.map((v) => [v.rule, v.agentId]), [
        ["hyperparameterBounds.temperature", "status"],
        ["hyperparameterBounds.maxTokens", "status"]
      ])
    }))
})
