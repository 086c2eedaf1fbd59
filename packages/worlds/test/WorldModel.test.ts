import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Result } from "effect"
import { canonicalJson, decodeWorldModel, publish, publishSync, ruleSetHash, taxWorldDefinition_0_1_0, taxWorld_0_1_0, taxWorld_0_2_0 } from "../src/index.ts"

const clone = <A>(a: A): any => JSON.parse(JSON.stringify(a))

describe("world model format", () => {
  it("canonical JSON sorts keys at every depth", () => {
    assert.strictEqual(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: "x" } }), canonicalJson({ a: { c: "x", d: [2, { e: 0, f: 1 }] }, b: 1 }))
  })

  it("the same rules always hash the same, whatever the key or rule order", () => {
    const copy = clone(taxWorldDefinition_0_1_0)
    copy.rules.reverse()
    copy.rules = copy.rules.map((rule: Record<string, unknown>) => Object.fromEntries(Object.entries(rule).reverse()))
    const republished = Result.getOrThrow(publishSync(copy))
    assert.strictEqual(republished.authority.ruleSetHash, taxWorld_0_1_0.authority.ruleSetHash)
    assert.match(taxWorld_0_1_0.authority.ruleSetHash, /^sha256:[0-9a-f]{64}$/)
  })

  it("any rule change changes the hash", () => {
    const copy = clone(taxWorldDefinition_0_1_0)
    const rule = copy.rules.find((r: { id: string }) => r.id === "sd.base.hoh")
    rule.outcome.value = 23626
    assert.notStrictEqual(ruleSetHash(copy), taxWorld_0_1_0.authority.ruleSetHash)
    const reworded = clone(taxWorldDefinition_0_1_0)
    reworded.rules[0].statement += "."
    assert.notStrictEqual(ruleSetHash(reworded), taxWorld_0_1_0.authority.ruleSetHash)
  })

  it("0.1.0 and 0.2.0 carry different authority refs", () => {
    assert.deepStrictEqual(
      [taxWorld_0_1_0.authority.worldModelVersion, taxWorld_0_2_0.authority.worldModelVersion],
      ["0.1.0", "0.2.0"]
    )
    assert.notStrictEqual(taxWorld_0_1_0.authority.ruleSetHash, taxWorld_0_2_0.authority.ruleSetHash)
  })

  it("a published version is immutable", () => {
    assert.isTrue(Object.isFrozen(taxWorld_0_1_0.definition.rules))
    assert.isTrue(Object.isFrozen(taxWorld_0_1_0.definition.rules[0].appliesWhen))
    assert.throws(() => {
      ;(taxWorld_0_1_0.definition.rules as Array<unknown>).push({})
    })
  })

  it("a malformed rule fails with the rule id and the field", () => {
    const copy = clone(taxWorldDefinition_0_1_0)
    copy.rules.find((r: { id: string }) => r.id === "fs.hoh").tier = 7
    const result = decodeWorldModel(copy)
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure.ruleId, "fs.hoh")
      assert.include(result.failure.field, "tier")
    }
  })

  it("a nested malformed condition names its path", () => {
    const copy = clone(taxWorldDefinition_0_1_0)
    copy.rules.find((r: { id: string }) => r.id === "fs.qss").appliesWhen.all[1].op = "between"
    const result = decodeWorldModel(copy)
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure.ruleId, "fs.qss")
      assert.include(result.failure.field, "appliesWhen")
    }
  })

  it("a rule reading an undeclared fact, an unknown rule or an undeclared output is rejected", () => {
    const unknownFact = clone(taxWorldDefinition_0_1_0)
    unknownFact.rules.find((r: { id: string }) => r.id === "fs.single").appliesWhen = { fact: "shoeSize", op: "gt", value: 9 }
    const a = decodeWorldModel(unknownFact)
    assert.isTrue(Result.isFailure(a) && a.failure.ruleId === "fs.single" && a.failure.message.includes("shoeSize"))

    const unknownRule = clone(taxWorldDefinition_0_1_0)
    unknownRule.rules.find((r: { id: string }) => r.id === "fs.single").appliesWhen = { rule: "no.such-rule" }
    const b = decodeWorldModel(unknownRule)
    assert.isTrue(Result.isFailure(b) && b.failure.field === "appliesWhen.rule")

    const badValue = clone(taxWorldDefinition_0_1_0)
    badValue.rules.find((r: { id: string }) => r.id === "fs.single").outcome.value = "widow"
    const c = decodeWorldModel(badValue)
    assert.isTrue(Result.isFailure(c) && c.failure.field === "outcome.value")
  })

  it("duplicate ids and reference cycles are rejected", () => {
    const dup = clone(taxWorldDefinition_0_1_0)
    dup.rules.push(dup.rules[0])
    assert.isTrue(Result.isFailure(decodeWorldModel(dup)))
    const cycle = clone(taxWorldDefinition_0_1_0)
    cycle.rules.find((r: { id: string }) => r.id === "status.married-on-dec-31").appliesWhen = { rule: "status.married-for-year" }
    const result = decodeWorldModel(cycle)
    assert.isTrue(Result.isFailure(result) && result.failure.message.includes("cycle"))
  })

  it.effect("publish is an Effect that fails with WorldModelInvalid", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(publish({ id: "x", version: "1" }))
      assert.isTrue(Exit.isFailure(exit))
      const ok = yield* publish(taxWorldDefinition_0_1_0)
      assert.deepStrictEqual(ok.authority, taxWorld_0_1_0.authority)
    }))
})
