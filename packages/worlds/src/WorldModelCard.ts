/**
 * The WorldModelCard: what a published world version is (id, version, authority ref, sources),
 * how many rules it has by tier and kind, its invariants and scoring dimensions, and — given an
 * eval set it generated — its coverage by segment (samples, holdout layer, rules exercised).
 * Rendered to Markdown, HTML and JSON, always with the exact alpha footer.
 */
import { Clock, Effect, Schema } from "effect"
import { ALPHA_FOOTER, type EvalSet, EvaluationAuthorityRef } from "@spectral/engine/contracts"
import { buildEvalSet } from "./EvalSetGeneration.ts"
import { WorldRegistry } from "./WorldRegistry.ts"
import { evaluate } from "./RuleEngine.ts"
import type { Facts } from "./RuleSet.ts"
import type { PublishedWorldModel } from "./WorldModel.ts"

export const SegmentCoverage = Schema.Struct({
  segment: Schema.String,
  description: Schema.String,
  samples: Schema.Int,
  share: Schema.Finite,
  holdout: Schema.Literals(["working", "segment_holdout", "mixed", "none"]),
  rulesExercised: Schema.Int,
  outcomes: Schema.Record(Schema.String, Schema.Int)
})
export type SegmentCoverage = typeof SegmentCoverage.Type

export const WorldModelCard = Schema.Struct({
  worldModelId: Schema.String,
  version: Schema.String,
  title: Schema.String,
  domain: Schema.String,
  description: Schema.String,
  authority: EvaluationAuthorityRef,
  generatedAt: Schema.String,
  sources: Schema.Array(Schema.Struct({ source: Schema.String, section: Schema.String })),
  ruleCount: Schema.Int,
  rulesByTier: Schema.Struct({ tier1: Schema.Int, tier2: Schema.Int, tier3: Schema.Int }),
  rulesByKind: Schema.Record(Schema.String, Schema.Int),
  rules: Schema.Array(Schema.Struct({ id: Schema.String, tier: Schema.Int, title: Schema.String, section: Schema.String })),
  invariants: Schema.Array(Schema.Struct({ id: Schema.String, kind: Schema.String, description: Schema.String })),
  dimensions: Schema.Array(Schema.Struct({ id: Schema.String, field: Schema.String, comparison: Schema.String, weight: Schema.Finite })),
  coverage: Schema.NullOr(Schema.Struct({
    evalSetId: Schema.String,
    samples: Schema.Int,
    rulesExercised: Schema.Int,
    ruleCoverage: Schema.Finite,
    segments: Schema.Array(SegmentCoverage)
  })),
  footer: Schema.Literal(ALPHA_FOOTER)
})
export type WorldModelCard = typeof WorldModelCard.Type

const flatFacts = (facts: Readonly<Record<string, unknown>> | undefined): Facts | undefined => {
  if (facts === undefined) return undefined
  const out: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(facts)) if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v
  return out
}

/** Build the card; `evalSet` (one this version generated, with flat `facts` intermediates) adds coverage. */
export const makeWorldModelCard = (
  model: PublishedWorldModel,
  options: { readonly generatedAt: string; readonly evalSet?: EvalSet; readonly outcomeField?: string }
): WorldModelCard => {
  const { definition } = model
  const rulesByKind: Record<string, number> = {}
  for (const rule of definition.rules) rulesByKind[rule.kind] = (rulesByKind[rule.kind] ?? 0) + 1
  const tier = (t: number) => definition.rules.filter((r) => r.tier === t).length
  let coverage: WorldModelCard["coverage"] = null
  const evalSet = options.evalSet
  if (evalSet !== undefined) {
    const outcomeField = options.outcomeField ?? definition.outputs.find((o) => o.kind === "categorical")?.field ?? definition.outputs[0].field
    const allRules = new Set<string>()
    const bySegment = new Map<string, { samples: number; layers: Set<string>; rules: Set<string>; outcomes: Record<string, number> }>()
    for (const sample of evalSet.samples) {
      const entry = bySegment.get(sample.segment) ?? { samples: 0, layers: new Set<string>(), rules: new Set<string>(), outcomes: {} }
      entry.samples++
      entry.layers.add(sample.holdoutLayer === "segment_holdout" ? "segment_holdout" : "working")
      const outcome = String(sample.expected[outcomeField] ?? "(none)")
      entry.outcomes[outcome] = (entry.outcomes[outcome] ?? 0) + 1
      const facts = flatFacts(sample.intermediate.facts)
      if (facts !== undefined) {
        for (const id of evaluate(model, facts).firedRules) {
          entry.rules.add(id)
          allRules.add(id)
        }
      }
      bySegment.set(sample.segment, entry)
    }
    const declared = Object.keys(definition.segments)
    const names = [...new Set([...declared, ...bySegment.keys()])].sort()
    coverage = {
      evalSetId: evalSet.id,
      samples: evalSet.samples.length,
      rulesExercised: allRules.size,
      ruleCoverage: definition.rules.length === 0 ? 0 : allRules.size / definition.rules.length,
      segments: names.map((segment) => {
        const entry = bySegment.get(segment)
        return {
          segment,
          description: definition.segments[segment] ?? "",
          samples: entry?.samples ?? 0,
          share: entry === undefined ? 0 : entry.samples / evalSet.samples.length,
          holdout: entry === undefined ? "none" : entry.layers.size > 1 ? "mixed" : entry.layers.has("segment_holdout") ? "segment_holdout" : "working",
          rulesExercised: entry?.rules.size ?? 0,
          outcomes: entry?.outcomes ?? {}
        }
      })
    }
  }
  return {
    worldModelId: definition.id,
    version: definition.version,
    title: definition.title,
    domain: definition.domain,
    description: definition.description,
    authority: model.authority,
    generatedAt: options.generatedAt,
    sources: definition.sources.map((s) => ({ source: s.source, section: s.section })),
    ruleCount: definition.rules.length,
    rulesByTier: { tier1: tier(1), tier2: tier(2), tier3: tier(3) },
    rulesByKind,
    rules: definition.rules.map((r) => ({ id: r.id, tier: r.tier, title: r.title, section: r.citation.section })),
    invariants: definition.invariants.map((i) => ({ id: i.id, kind: i.kind, description: i.description })),
    dimensions: definition.dimensions.map((d) => ({ id: d.id, field: d.field, comparison: d.comparison, weight: d.weight })),
    coverage,
    footer: ALPHA_FOOTER
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const mdCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ")
const outcomes = (o: Readonly<Record<string, number>>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} ${v}`).join(", ")

export const renderWorldModelCardMarkdown = (card: WorldModelCard): string => {
  const lines: Array<string> = [
    `# World model card: ${card.title}`,
    "",
    `- World model: \`${card.worldModelId}\``,
    `- Version: ${card.version}`,
    `- Authority: \`${card.authority.worldModelId}@${card.authority.worldModelVersion}\` — rule set \`${card.authority.ruleSetHash}\``,
    `- Domain: ${card.domain}`,
    `- Generated: ${card.generatedAt}`,
    `- Sources: ${card.sources.map((s) => `${s.source} (${s.section})`).join("; ")}`,
    "",
    card.description,
    "",
    "## Rules",
    "",
    `${card.ruleCount} rules — tier 1: ${card.rulesByTier.tier1}, tier 2: ${card.rulesByTier.tier2}, tier 3: ${card.rulesByTier.tier3}`,
    "",
    "| Rule | Tier | Title | Section |",
    "| --- | --- | --- | --- |",
    ...card.rules.map((r) => `| \`${r.id}\` | ${r.tier} | ${mdCell(r.title)} | ${mdCell(r.section)} |`),
    "",
    "## Structural invariants",
    "",
    ...card.invariants.map((i) => `- \`${i.id}\` (${i.kind}): ${i.description}`),
    "",
    "## Scoring dimensions",
    "",
    ...card.dimensions.map((d) => `- \`${d.id}\`: \`${d.field}\`, ${d.comparison}, weight ${d.weight}`),
    ""
  ]
  if (card.coverage !== null) {
    const c = card.coverage
    lines.push(
      "## Coverage by segment",
      "",
      `Eval set \`${c.evalSetId}\`: ${c.samples} samples, ${c.rulesExercised} of ${card.ruleCount} rules exercised (${pct(c.ruleCoverage)}).`,
      "",
      "| Segment | Samples | Share | Holdout | Rules exercised | Outcomes |",
      "| --- | --- | --- | --- | --- | --- |",
      ...c.segments.map((s) => `| ${s.segment} | ${s.samples} | ${pct(s.share)} | ${s.holdout} | ${s.rulesExercised} | ${mdCell(outcomes(s.outcomes))} |`),
      ""
    )
  }
  lines.push("---", "", card.footer, "")
  return lines.join("\n")
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const renderWorldModelCardHtml = (card: WorldModelCard): string => {
  const rows = (cells: ReadonlyArray<string>) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`
  const head = (cells: ReadonlyArray<string>) => `<tr>${cells.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`
  const parts: Array<string> = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(`World model card: ${card.title}`)}</title></head><body>`,
    `<h1>${esc(`World model card: ${card.title}`)}</h1>`,
    "<ul>",
    `<li>World model: <code>${esc(card.worldModelId)}</code></li>`,
    `<li>Version: ${esc(card.version)}</li>`,
    `<li>Authority: <code>${esc(`${card.authority.worldModelId}@${card.authority.worldModelVersion}`)}</code> — rule set <code>${esc(card.authority.ruleSetHash)}</code></li>`,
    `<li>Domain: ${esc(card.domain)}</li>`,
    `<li>Generated: ${esc(card.generatedAt)}</li>`,
    "</ul>",
    `<p>${esc(card.description)}</p>`,
    "<h2>Rules</h2>",
    `<p>${card.ruleCount} rules — tier 1: ${card.rulesByTier.tier1}, tier 2: ${card.rulesByTier.tier2}, tier 3: ${card.rulesByTier.tier3}</p>`,
    `<table>${head(["Rule", "Tier", "Title", "Section"])}${card.rules.map((r) => rows([r.id, String(r.tier), r.title, r.section])).join("")}</table>`,
    "<h2>Structural invariants</h2>",
    `<ul>${card.invariants.map((i) => `<li><code>${esc(i.id)}</code> (${esc(i.kind)}): ${esc(i.description)}</li>`).join("")}</ul>`,
    "<h2>Scoring dimensions</h2>",
    `<ul>${card.dimensions.map((d) => `<li><code>${esc(d.id)}</code>: ${esc(d.field)}, ${esc(d.comparison)}, weight ${d.weight}</li>`).join("")}</ul>`
  ]
  if (card.coverage !== null) {
    const c = card.coverage
    parts.push(
      "<h2>Coverage by segment</h2>",
      `<p>Eval set <code>${esc(c.evalSetId)}</code>: ${c.samples} samples, ${c.rulesExercised} of ${card.ruleCount} rules exercised (${pct(c.ruleCoverage)}).</p>`,
      `<table>${head(["Segment", "Samples", "Share", "Holdout", "Rules exercised", "Outcomes"])}${c.segments.map((s) => rows([s.segment, String(s.samples), pct(s.share), s.holdout, String(s.rulesExercised), outcomes(s.outcomes)])).join("")}</table>`
    )
  }
  parts.push(`<footer><p>${esc(card.footer)}</p></footer>`, "</body></html>", "")
  return parts.join("\n")
}

export const renderWorldModelCardJson = (card: WorldModelCard): string => JSON.stringify(card, null, 2)

export const renderWorldModelCard = (card: WorldModelCard, format: "markdown" | "html" | "json"): string =>
  format === "markdown" ? renderWorldModelCardMarkdown(card) : format === "html" ? renderWorldModelCardHtml(card) : renderWorldModelCardJson(card)

/**
 * The card of a registered world version (the current one when `version` is null), with coverage
 * measured on an eval set generated for the purpose; the time stamp comes from `Clock`.
 */
export const worldModelCardFor = Effect.fn("WorldModelCard.worldModelCardFor")(function*(
  worldModelId: string,
  version: string | null,
  coverage: { readonly seed: number; readonly size: number } = { seed: 1, size: 120 }
) {
  const registry = yield* WorldRegistry
  const model = version === null ? yield* registry.current(worldModelId) : yield* registry.version(worldModelId, version)
  const generatedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
  const generator = yield* Effect.option(registry.generator(worldModelId))
  if (generator._tag === "None") return makeWorldModelCard(model, { generatedAt })
  const evalSet = buildEvalSet(model, generator.value, { seed: coverage.seed, size: coverage.size, generatedAt })
  return makeWorldModelCard(model, { generatedAt, evalSet })
})
