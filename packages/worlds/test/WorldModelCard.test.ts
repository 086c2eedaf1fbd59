import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { ALPHA_FOOTER } from "@spectral/engine/contracts"
import {
  buildEvalSet, flsaScenarioGenerator, flsaWorld_0_1_0, makeWorldModelCard, renderWorldModelCard, taxScenarioGenerator,
  taxWorld_0_1_0, taxWorld_0_2_0, WorldModelCard
} from "../src/index.ts"

const at = "2026-04-20T00:00:00.000Z"

describe("WorldModelCard", () => {
  it("counts rules by tier and carries version and authority", () => {
    const card = makeWorldModelCard(taxWorld_0_1_0, { generatedAt: at })
    assert.strictEqual(card.ruleCount, taxWorld_0_1_0.definition.rules.length)
    assert.strictEqual(card.rulesByTier.tier1 + card.rulesByTier.tier2 + card.rulesByTier.tier3, card.ruleCount)
    assert.isAbove(card.rulesByTier.tier1, 10)
    assert.isAbove(card.rulesByTier.tier3, 0)
    assert.deepStrictEqual(card.authority, taxWorld_0_1_0.authority)
    const next = makeWorldModelCard(taxWorld_0_2_0, { generatedAt: at })
    assert.strictEqual(next.rulesByTier.tier1, card.rulesByTier.tier1 + 1)
    assert.strictEqual(next.version, "0.2.0")
    assert.isTrue(Result.isSuccess(Schema.decodeUnknownResult(WorldModelCard)(card)))
  })

  it("reports coverage by segment from an eval set", () => {
    const evalSet = buildEvalSet(taxWorld_0_1_0, taxScenarioGenerator, { seed: 1, size: 100, generatedAt: at })
    const card = makeWorldModelCard(taxWorld_0_1_0, { generatedAt: at, evalSet })
    const coverage = card.coverage!
    assert.strictEqual(coverage.samples, 100)
    assert.strictEqual(coverage.segments.reduce((s, x) => s + x.samples, 0), 100)
    assert.strictEqual(coverage.segments.length, Object.keys(taxWorld_0_1_0.definition.segments).length)
    const held = coverage.segments.filter((s) => s.holdout === "segment_holdout").map((s) => s.segment)
    assert.deepStrictEqual(held, [...evalSet.holdout.heldOutSegments])
    assert.isAbove(coverage.ruleCoverage, 0.8)
  })

  for (const [name, model, generator] of [["tax", taxWorld_0_1_0, taxScenarioGenerator], ["flsa", flsaWorld_0_1_0, flsaScenarioGenerator]] as const) {
    it(`${name}: Markdown, HTML and JSON end with the exact footer`, () => {
      const evalSet = buildEvalSet(model, generator, { seed: 2, size: 60, generatedAt: at })
      const card = makeWorldModelCard(model, { generatedAt: at, evalSet })
      const markdown = renderWorldModelCard(card, "markdown")
      const html = renderWorldModelCard(card, "html")
      const json = JSON.parse(renderWorldModelCard(card, "json"))
      assert.strictEqual(ALPHA_FOOTER, "Alpha preview — not for regulated use")
      assert.isTrue(markdown.trimEnd().endsWith(ALPHA_FOOTER))
      assert.include(html, `<footer><p>${ALPHA_FOOTER}</p></footer>`)
      assert.strictEqual(json.footer, ALPHA_FOOTER)
      assert.include(markdown, model.authority.ruleSetHash)
      assert.include(markdown, "## Coverage by segment")
      assert.include(html, model.authority.worldModelVersion)
      assert.notInclude(html, "<script")
    })
  }
})
