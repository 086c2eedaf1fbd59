/**
 * Which existing rule a failure pattern is about, decided by the rules' own scope, not by words.
 * A rule's scope is where its `appliesWhen` holds; its examples are the world's own generated
 * stimuli on which it fires (`ruleScopeProfile`: per rule, the share of examples in scope overall
 * — its base rate — and per segment). A cluster's members are placed against that scope: a member
 * whose facts are known counts 1 for every rule that fires on them; a member known only by its
 * segment counts the share of that segment's examples the rule fires on. `decideScope` then names
 * the rule whose scope holds most of the cluster and is concentrated there (coverage at least
 * `minCoverage`, at least `minLift` times the rule's base rate): a revision of that rule; a cluster
 * outside every rule's scope is a new-rule candidate. Word overlap only breaks ties between rules
 * the scope already chose. Pure; owns no storage and no threshold on frequency or effect.
 */
import type { GroundTruthValue } from "@spectral/engine/contracts"
import type { ScenarioGenerator } from "../EvalSetGeneration.ts"
import { evaluate } from "../RuleEngine.ts"
import type { Facts, FactValue } from "../RuleSet.ts"
import type { PublishedWorldModel } from "../WorldModel.ts"

export interface RuleScopeEntry {
  readonly ruleId: string
  readonly title: string
  readonly statement: string
  /** Share of all examples the rule fires on. */
  readonly baseRate: number
  /** Per segment: how many examples, and how many the rule fires on. */
  readonly bySegment: Readonly<Record<string, { readonly examples: number; readonly inScope: number }>>
}

export interface RuleScopeProfile {
  readonly model: PublishedWorldModel
  readonly examples: number
  readonly segments: Readonly<Record<string, number>>
  readonly rules: ReadonlyArray<RuleScopeEntry>
}

/** One member of a cluster: its segment, and its facts when they are known. */
export interface ClusterMember {
  readonly segment: string
  readonly facts?: Facts | undefined
}

export interface ScopeThresholds {
  /** Share of the cluster that must fall inside the rule's scope. */
  readonly minCoverage: number
  /** How many times more often than among all examples. */
  readonly minLift: number
}

export const defaultScopeThresholds: ScopeThresholds = { minCoverage: 0.6, minLift: 2 }

const isFactValue = (value: GroundTruthValue): value is FactValue =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean"

/** The flat facts a stimulus carries under its `facts` intermediate key (arrays dropped). */
export const stimulusFacts = (intermediate: Readonly<Record<string, Readonly<Record<string, GroundTruthValue>>>>): Facts | undefined => {
  const facts = intermediate["facts"]
  if (facts === undefined) return undefined
  return Object.fromEntries(Object.entries(facts).filter((entry): entry is [string, FactValue] => isFactValue(entry[1])))
}

/** The scope of every rule over the world's own generated examples (deterministic for a seed). */
export const ruleScopeProfile = (
  model: PublishedWorldModel,
  generator: ScenarioGenerator,
  options: { readonly seed: number; readonly size: number } = { seed: 7, size: 600 }
): RuleScopeProfile => {
  const size = Math.min(generator.sizeRange.max, Math.max(generator.sizeRange.min, options.size))
  const stimuli = generator.generate(model, { seed: options.seed, size })
  const segments: Record<string, number> = {}
  const fired = new Map<string, Record<string, number>>()
  let examples = 0
  for (const stimulus of stimuli) {
    const facts = stimulusFacts(stimulus.intermediate)
    if (facts === undefined) continue
    examples++
    segments[stimulus.segment] = (segments[stimulus.segment] ?? 0) + 1
    for (const ruleId of evaluate(model, facts).firedRules) {
      const bySegment = fired.get(ruleId) ?? {}
      bySegment[stimulus.segment] = (bySegment[stimulus.segment] ?? 0) + 1
      fired.set(ruleId, bySegment)
    }
  }
  const rules = model.definition.rules.map((rule): RuleScopeEntry => {
    const bySegmentFired = fired.get(rule.id) ?? {}
    const inScope = Object.values(bySegmentFired).reduce((s, n) => s + n, 0)
    return {
      ruleId: rule.id,
      title: rule.title,
      statement: rule.statement,
      baseRate: examples > 0 ? inScope / examples : 0,
      bySegment: Object.fromEntries(Object.entries(segments).map(([segment, n]) => [segment, { examples: n, inScope: bySegmentFired[segment] ?? 0 }]))
    }
  })
  return { model, examples, segments, rules }
}

/** Members known only by segment counts (what a failure-cluster event carries). */
export const membersOfSegments = (segments: Readonly<Record<string, number>>): ReadonlyArray<ClusterMember> =>
  Object.entries(segments).flatMap(([segment, n]) => Array.from({ length: n }, () => ({ segment })))

/**
 * How many of the members fall inside each rule's scope (expected counts for members known by
 * segment only); rules no member reaches are absent.
 */
export const clusterScope = (profile: RuleScopeProfile, members: ReadonlyArray<ClusterMember>): Record<string, number> => {
  const scope: Record<string, number> = {}
  const add = (ruleId: string, amount: number) => {
    if (amount > 0) scope[ruleId] = (scope[ruleId] ?? 0) + amount
  }
  for (const member of members) {
    if (member.facts !== undefined) {
      for (const ruleId of evaluate(profile.model, member.facts).firedRules) add(ruleId, 1)
      continue
    }
    for (const rule of profile.rules) {
      const segment = rule.bySegment[member.segment]
      if (segment !== undefined && segment.examples > 0) add(rule.ruleId, segment.inScope / segment.examples)
    }
  }
  return scope
}

export interface ScopeDecision {
  readonly kind: "rule_revision" | "rule_candidate"
  readonly targetRuleId: string | null
  /** Share of the cluster inside the target's scope (for a new rule: of the closest rule's). */
  readonly coverage: number
  readonly baseRate: number
  readonly reason: string
}

const STOP = new Set(["that", "this", "with", "from", "your", "their", "have", "when", "than", "more", "were", "which", "into", "does", "only", "also", "year", "agent", "answer", "output", "wrong", "instead"])
const tokens = (text: string): Set<string> =>
  new Set(text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length >= 4 && !STOP.has(t)))

/** Share of the text's words that appear in the rule's title, statement or id (a tie-break only). */
export const wordOverlap = (rule: { readonly ruleId: string; readonly title: string; readonly statement: string }, text: string): number => {
  const words = tokens(text)
  if (words.size === 0) return 0
  const ruleWords = tokens(`${rule.title} ${rule.statement} ${rule.ruleId.replace(/[.-]/g, " ")}`)
  let hits = 0
  for (const w of words) if (ruleWords.has(w)) hits++
  return hits / words.size
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`

/**
 * Revision of the rule whose scope holds the cluster, or a new rule when none does. `scope` and
 * `members` are the summed counts of `clusterScope` over every workspace's evidence.
 */
export const decideScope = (
  profile: RuleScopeProfile,
  scope: Readonly<Record<string, number>>,
  members: number,
  text: string,
  thresholds: ScopeThresholds = defaultScopeThresholds
): ScopeDecision => {
  if (members <= 0) {
    return { kind: "rule_candidate", targetRuleId: null, coverage: 0, baseRate: 0, reason: "no member of the cluster could be placed against the rules' scope" }
  }
  const ranked = profile.rules
    .map((rule) => {
      const coverage = Math.min(1, (scope[rule.ruleId] ?? 0) / members)
      const lift = rule.baseRate > 0 ? coverage / rule.baseRate : coverage > 0 ? Infinity : 0
      return { rule, coverage, lift, words: wordOverlap(rule, text) }
    })
    .sort((a, b) => (b.lift - a.lift) || (b.coverage - a.coverage) || (b.words - a.words) || (a.rule.ruleId < b.rule.ruleId ? -1 : 1))
  const eligible = ranked.filter((r) => r.coverage >= thresholds.minCoverage && r.lift >= thresholds.minLift)
  const best = eligible[0]
  if (best !== undefined) {
    return {
      kind: "rule_revision",
      targetRuleId: best.rule.ruleId,
      coverage: best.coverage,
      baseRate: best.rule.baseRate,
      reason: `${pct(best.coverage)} of the cluster's members fall inside rule ${best.rule.ruleId}'s scope (${best.rule.title}), against ${pct(best.rule.baseRate)} of the world's examples: review that rule`
    }
  }
  const closest = [...ranked].sort((a, b) => (b.coverage * Math.min(b.lift, 10)) - (a.coverage * Math.min(a.lift, 10)))[0]
  return {
    kind: "rule_candidate",
    targetRuleId: null,
    coverage: closest?.coverage ?? 0,
    baseRate: closest?.rule.baseRate ?? 0,
    reason: closest === undefined || closest.coverage === 0
      ? "the cluster's members fall outside every rule's scope: draft a new rule"
      : `no rule's scope holds the cluster (closest: ${closest.rule.ruleId}, ${pct(closest.coverage)} of members against ${pct(closest.rule.baseRate)} of examples): draft a new rule`
  }
}
