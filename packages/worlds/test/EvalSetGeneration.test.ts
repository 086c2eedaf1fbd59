import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { EvalSet } from "@spectral/engine/contracts"
import { buildEvalSet, decideTaxSync, flsaScenarioGenerator, flsaWorld_0_1_0, taxScenarioGenerator, taxWorld_0_1_0, taxWorld_0_2_0 } from "../src/index.ts"

const build = (seed: number, size = 100, model = taxWorld_0_1_0) =>
  buildEvalSet(model, taxScenarioGenerator, { seed, size, generatedAt: "2026-01-01T00:00:00.000Z" })

/** Rebuild nested facts from the flat intermediate facts an intake agent would extract. */
const nested = (flat: Record<string, unknown>) => {
  const { qualifyingPersonRelationship, qualifyingPersonMonths, qualifyingPersonIsDependent, ...rest } = flat
  return qualifyingPersonRelationship === "none"
    ? rest
    : { ...rest, qualifyingPerson: { relationship: qualifyingPersonRelationship, monthsLivedInHome: qualifyingPersonMonths, isDependent: qualifyingPersonIsDependent } }
}

describe("tax eval-set generation", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    assert.deepStrictEqual(build(7), build(7))
    assert.notDeepEqual(build(7).samples.map((s) => s.input), build(8).samples.map((s) => s.input))
  })

  it("produces a valid EvalSet with the requested size and the attribution envelope", () => {
    const set = build(11, 90)
    const decoded = Schema.decodeUnknownResult(EvalSet)(set)
    assert.isTrue(Result.isSuccess(decoded), Result.isFailure(decoded) ? decoded.failure.message : "")
    assert.strictEqual(set.samples.length, 90)
    assert.deepStrictEqual(set.attribution.authority, taxWorld_0_1_0.authority)
    assert.strictEqual(set.attribution.worldModelVersion, "0.1.0")
    assert.strictEqual(set.attribution.generatedAt, "2026-01-01T00:00:00.000Z")
    assert.strictEqual(set.attribution.seed, 11)
    assert.deepStrictEqual(set.hyperparameterBounds, { temperature: { min: 0, max: 1.2 }, maxTokens: { min: 64, max: 4096 } })
    assert.strictEqual(new Set(set.samples.map((s) => s.id)).size, 90)
  })

  it("holdout layers are disjoint: held-out segments appear nowhere else, random holdout only outside them", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const set = build(seed, 120)
      const held = new Set(set.holdout.heldOutSegments)
      assert.isAtLeast(held.size, 1)
      for (const sample of set.samples) {
        assert.strictEqual(sample.holdoutLayer === "segment_holdout", held.has(sample.segment), sample.id)
      }
      const layers = new Map<string, number>()
      for (const s of set.samples) layers.set(s.holdoutLayer, (layers.get(s.holdoutLayer) ?? 0) + 1)
      assert.isAbove(layers.get("working") ?? 0, 60)
      assert.isAbove(layers.get("random_holdout") ?? 0, 5)
      const ids = (layer: string) => new Set(set.samples.filter((s) => s.holdoutLayer === layer).map((s) => s.id))
      const working = ids("working")
      for (const id of ids("random_holdout")) assert.isFalse(working.has(id))
    }
  })

  it("ground truth equals the rules applied to the intermediate facts", () => {
    const set = build(5, 120)
    for (const sample of set.samples) {
      const decision = Result.getOrThrow(decideTaxSync(taxWorld_0_1_0, nested(sample.intermediate.facts)))
      assert.strictEqual(sample.expected.filingStatus, decision.filingStatus, sample.input)
      assert.strictEqual(sample.expected.standardDeduction, decision.standardDeduction, sample.input)
    }
  })

  it("covers every segment and every filing status, with ambiguity, probes and weights", () => {
    const set = build(9, 120)
    assert.strictEqual(new Set(set.samples.map((s) => s.segment)).size, 10)
    assert.deepStrictEqual(new Set(set.samples.map((s) => s.expected.filingStatus)), new Set(["single", "mfj", "mfs", "hoh", "qss"]))
    const high = set.samples.filter((s) => s.stratification.ambiguity === "high").length
    assert.isAbove(high, 5)
    assert.isBelow(high, 60)
    assert.isAbove(set.samples.filter((s) => s.provenance === "exploratory_probe").length, 0)
    assert.isAbove(new Set(set.samples.map((s) => s.stimulusWeight)).size, 3)
    for (const sample of set.samples) {
      assert.deepStrictEqual(sample.dimensions.map((d) => [d.id, d.field, d.comparison, d.weight]), [
        ["filing_status", "filingStatus", "exact", 0.7],
        ["standard_deduction", "standardDeduction", "numeric_tolerance", 0.3]
      ])
    }
  })

  it("stratification tags never name rules", () => {
    const ruleIds = taxWorld_0_2_0.definition.rules.map((r) => r.id)
    for (const sample of build(3, 120).samples) {
      const text = JSON.stringify([sample.segment, sample.stratification])
      for (const id of ruleIds) assert.notInclude(text, id)
      assert.notInclude(text, "fs.")
      assert.notInclude(text, "sd.")
    }
  })

  it("intermediate facts are flat and carry the documented keys", () => {
    for (const sample of build(4, 60).samples) {
      const facts = sample.intermediate.facts
      for (const key of ["taxYear", "maritalStatus", "wantsJointReturn", "spouseLivedInHomeLast6Months", "paidOverHalfHomeCost", "qualifyingPersonRelationship", "qualifyingPersonMonths", "qualifyingPersonIsDependent", "age65OrOlder", "blind", "canBeClaimedAsDependent", "spouseItemizes"]) {
        assert.include(Object.keys(facts), key)
      }
      for (const value of Object.values(facts)) assert.include(["string", "number", "boolean"], typeof value)
    }
  })

  it("the same seed on 0.2.0 keeps the stimuli and changes only what the new rule changes", () => {
    const a = build(21, 120, taxWorld_0_1_0)
    const b = build(21, 120, taxWorld_0_2_0)
    assert.deepStrictEqual(a.samples.map((s) => s.input), b.samples.map((s) => s.input))
    assert.strictEqual(b.attribution.worldModelVersion, "0.2.0")
    const changed = a.samples.filter((s, i) => s.expected.standardDeduction !== b.samples[i].expected.standardDeduction)
    for (const s of changed) {
      assert.strictEqual(s.expected.filingStatus, "mfs")
      assert.isTrue(s.intermediate.facts.spouseHadNoGrossIncome)
    }
  })

  it.effect("generation is pure (no clock, no global randomness)", () =>
    Effect.sync(() => {
      const a = JSON.stringify(build(99, 80))
      const b = JSON.stringify(build(99, 80))
      assert.strictEqual(a, b)
    }))
})

describe("eval sets at scale", () => {
  it("both worlds generate 100,000 stimuli: unique ids, every holdout layer, the same set for a seed", () => {
    for (const [model, generator] of [[taxWorld_0_2_0, taxScenarioGenerator], [flsaWorld_0_1_0, flsaScenarioGenerator]] as const) {
      assert.strictEqual(generator.sizeRange.max, 100_000)
      const set = buildEvalSet(model, generator, { seed: 3, size: 100_000, generatedAt: "2026-01-01T00:00:00.000Z" })
      assert.strictEqual(set.samples.length, 100_000)
      assert.strictEqual(new Set(set.samples.map((s) => s.id)).size, 100_000)
      const layers = new Set(set.samples.map((s) => s.holdoutLayer))
      assert.includeMembers([...layers], ["working", "random_holdout", "segment_holdout"])
      const again = buildEvalSet(model, generator, { seed: 3, size: 100_000, generatedAt: "2026-01-01T00:00:00.000Z" })
      assert.deepStrictEqual(again.samples.slice(-5).map((s) => s.input), set.samples.slice(-5).map((s) => s.input))
    }
  }, 60_000)
})

