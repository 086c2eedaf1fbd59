/**
 * The evolution loop: consumes `platform.failure_cluster.detected` and `rubric.divergence` events
 * (a plain service over the `SpectralEvent` union, ready to be subscribed to any bus), aggregates
 * them per pattern label across the stream, applies the promotion threshold (frequency_pct >= 10,
 * effect_size >= 15, actionable) and decides rule candidate, rule revision or noise. Evidence
 * from a single workspace stays an observation; aggregation across workspaces drives candidates.
 * Candidates are stored and listable; nothing is published without an explicit `publishCandidate`.
 */
import { Clock, Context, Effect, Layer, Ref, Schema } from "effect"
import type { FailureClusterDetected, RubricDivergence, SpectralEvent } from "@spectral/engine/contracts"
import type { Rule } from "./RuleSet.ts"
import type { PublishedWorldModel, WorldModelInvalid } from "./WorldModel.ts"
import { type WorldNotFound, WorldRegistry, type WorldVersionConflict } from "./WorldRegistry.ts"

export interface PromotionThreshold {
  readonly minFrequencyPct: number
  readonly minEffectSize: number
  readonly requireActionable: boolean
  /** Distinct workspaces whose evidence must agree before a candidate is raised. */
  readonly minWorkspaces: number
}
// Divergence events are measured on the same scale: frequency = disagreementRate x 100, effect = |divergence| x 100.

export const defaultPromotionThreshold: PromotionThreshold = { minFrequencyPct: 10, minEffectSize: 15, requireActionable: true, minWorkspaces: 2 }

export type CandidateKind = "rule_candidate" | "rule_revision"

export interface PatternEvidence {
  readonly events: number
  readonly workspaces: ReadonlyArray<string>
  readonly scans: ReadonlyArray<string>
  /** Member-weighted mean over the events (plain mean when no event has members). */
  readonly frequencyPct: number
  readonly effectSize: number
  readonly actionableShare: number
  readonly segments: Readonly<Record<string, number>>
  readonly authorityVersions: ReadonlyArray<string>
}

export interface EvolutionCandidate {
  readonly id: string
  readonly worldModelId: string
  readonly kind: CandidateKind
  /** The rule a revision targets; null for a new rule candidate. */
  readonly targetRuleId: string | null
  readonly source: "failure_cluster" | "rubric_divergence"
  readonly patternLabel: string
  readonly status: "proposed" | "published" | "dismissed"
  readonly evidence: PatternEvidence
  readonly representativeExplanations: ReadonlyArray<string>
  readonly rationale: string
  readonly createdAt: string
  readonly updatedAt: string
  /** Set when an operator published a version from this candidate. */
  readonly publishedVersion: string | null
}

export type EvolutionDecisionKind = "ignored" | "duplicate" | "observation" | "noise" | CandidateKind

export interface EvolutionDecision {
  readonly eventId: string
  readonly decision: EvolutionDecisionKind
  readonly patternLabel: string | null
  readonly reason: string
  readonly candidateId: string | null
  readonly evidence: PatternEvidence | null
}

export class CandidateNotFound extends Schema.TaggedError<CandidateNotFound>()("CandidateNotFound", {
  candidateId: Schema.String
}) {}

/** In-memory candidate store (the port a durable store would implement). */
export class EvolutionCandidateStore extends Context.Service<EvolutionCandidateStore, {
  readonly upsert: (candidate: EvolutionCandidate) => Effect.Effect<void>
  readonly get: (id: string) => Effect.Effect<EvolutionCandidate, CandidateNotFound>
  readonly list: Effect.Effect<ReadonlyArray<EvolutionCandidate>>
}>()("@spectral/worlds/EvolutionCandidateStore") {
  static readonly layerMemory = Layer.effect(
    EvolutionCandidateStore,
    Effect.gen(function*() {
      const store = yield* Ref.make(new Map<string, EvolutionCandidate>())
      return EvolutionCandidateStore.of({
        upsert: (candidate) => Ref.update(store, (m) => new Map(m).set(candidate.id, candidate)),
        get: (id) =>
          Effect.flatMap(Ref.get(store), (m) => {
            const found = m.get(id)
            return found === undefined ? Effect.fail(new CandidateNotFound({ candidateId: id })) : Effect.succeed(found)
          }),
        list: Effect.map(Ref.get(store), (m) => [...m.values()].sort((a, b) => (a.id < b.id ? -1 : 1)))
      })
    })
  )
}

/** Lower case, digits collapsed (severity variants share a pattern), single spaces. */
export const normalizePatternLabel = (label: string): string =>
  label.toLowerCase().replace(/\d+(\.\d+)?/g, "#").replace(/\s+/g, " ").trim()

const STOP = new Set(["that", "this", "with", "from", "your", "their", "have", "when", "than", "more", "were", "which", "into", "does", "only", "also", "year", "agent", "answer", "output", "wrong", "instead"])
const tokens = (text: string): Set<string> =>
  new Set(text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length >= 4 && !STOP.has(t)))

/** The existing rule a pattern is about, when its words cover enough of the rule's title and statement. */
export const matchRule = (rules: ReadonlyArray<Rule>, text: string): Rule | undefined => {
  const words = tokens(text)
  if (words.size === 0) return undefined
  let best: { rule: Rule; score: number } | undefined
  for (const rule of rules) {
    if (rule.tier === 3) continue
    const ruleWords = tokens(`${rule.title} ${rule.statement} ${rule.id.replace(/[.-]/g, " ")}`)
    let hits = 0
    for (const w of words) if (ruleWords.has(w)) hits++
    const score = hits / words.size
    if (best === undefined || score > best.score) best = { rule, score }
  }
  return best !== undefined && best.score >= 0.35 ? best.rule : undefined
}

interface ClusterRecord {
  readonly eventId: string
  readonly payload: FailureClusterDetected
}
interface DivergenceRecord {
  readonly eventId: string
  readonly payload: RubricDivergence
}
interface StreamState {
  readonly seen: ReadonlySet<string>
  readonly clusters: ReadonlyMap<string, ReadonlyArray<ClusterRecord>>
  readonly divergences: ReadonlyMap<string, ReadonlyArray<DivergenceRecord>>
  readonly decisions: ReadonlyArray<EvolutionDecision>
}

const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)].sort()

export const aggregateClusters = (records: ReadonlyArray<ClusterRecord>): PatternEvidence => {
  const members = records.reduce((s, r) => s + r.payload.memberCount, 0)
  const weight = (r: ClusterRecord) => (members > 0 ? r.payload.memberCount / members : 1 / records.length)
  const segments: Record<string, number> = {}
  for (const r of records) for (const [k, v] of Object.entries(r.payload.segments)) segments[k] = (segments[k] ?? 0) + v
  return {
    events: records.length,
    workspaces: uniq(records.map((r) => r.payload.workspaceId)),
    scans: uniq(records.map((r) => r.payload.scanId)),
    frequencyPct: records.reduce((s, r) => s + weight(r) * r.payload.frequencyPct, 0),
    effectSize: records.reduce((s, r) => s + weight(r) * r.payload.effectSize, 0),
    actionableShare: records.filter((r) => r.payload.actionable).length / records.length,
    segments,
    authorityVersions: uniq(records.map((r) => r.payload.authority.worldModelVersion))
  }
}

const measure = (m: RubricDivergence["divergence"]) => (m._tag === "Present" ? m.value : undefined)

export const aggregateDivergences = (records: ReadonlyArray<DivergenceRecord>): PatternEvidence => {
  const usable = records.filter((r) => measure(r.payload.divergence) !== undefined && measure(r.payload.disagreementRate) !== undefined)
  const stimuli = usable.reduce((s, r) => s + r.payload.stimuliCount, 0)
  const weight = (r: DivergenceRecord) => (stimuli > 0 ? r.payload.stimuliCount / stimuli : 1 / Math.max(1, usable.length))
  return {
    events: records.length,
    workspaces: uniq(usable.map((r) => r.payload.workspaceId)),
    scans: uniq(records.map((r) => r.payload.scanId)),
    frequencyPct: usable.reduce((s, r) => s + weight(r) * 100 * measure(r.payload.disagreementRate)!, 0),
    effectSize: usable.reduce((s, r) => s + weight(r) * 100 * Math.abs(measure(r.payload.divergence)!), 0),
    actionableShare: usable.length > 0 ? 1 : 0,
    segments: {},
    authorityVersions: uniq(records.map((r) => r.payload.authority.worldModelVersion))
  }
}

/** Whether aggregated evidence meets the threshold, and why not when it does not. */
export const meetsThreshold = (evidence: PatternEvidence, threshold: PromotionThreshold): { readonly passes: boolean; readonly reason: string } => {
  const failures: Array<string> = []
  if (evidence.frequencyPct < threshold.minFrequencyPct) failures.push(`frequency_pct ${evidence.frequencyPct.toFixed(1)} < ${threshold.minFrequencyPct}`)
  if (evidence.effectSize < threshold.minEffectSize) failures.push(`effect_size ${evidence.effectSize.toFixed(1)} < ${threshold.minEffectSize}`)
  if (threshold.requireActionable && evidence.actionableShare < 0.5) failures.push("not actionable")
  return failures.length === 0
    ? { passes: true, reason: `frequency_pct ${evidence.frequencyPct.toFixed(1)} >= ${threshold.minFrequencyPct}, effect_size ${evidence.effectSize.toFixed(1)} >= ${threshold.minEffectSize}, actionable` }
    : { passes: false, reason: failures.join("; ") }
}

const slug = (s: string) => s.replace(/[^a-z0-9#]+/g, "-").replace(/#/g, "n").replace(/^-|-$/g, "").slice(0, 60)

export class WorldEvolution extends Context.Service<WorldEvolution, {
  /** Feed one event of the stream; events other than the two it reads are ignored, repeats are dropped. */
  readonly consume: (event: SpectralEvent) => Effect.Effect<EvolutionDecision>
  readonly candidates: Effect.Effect<ReadonlyArray<EvolutionCandidate>>
  /** Every decision taken so far (observations and noise included), in order. */
  readonly decisions: Effect.Effect<ReadonlyArray<EvolutionDecision>>
  /** The explicit publication step: publish a new version written from a candidate. */
  readonly publishCandidate: (
    candidateId: string,
    definition: unknown,
    options?: { readonly makeCurrent?: boolean }
  ) => Effect.Effect<PublishedWorldModel, CandidateNotFound | WorldModelInvalid | WorldVersionConflict>
  readonly dismissCandidate: (candidateId: string) => Effect.Effect<void, CandidateNotFound>
}>()("@spectral/worlds/WorldEvolution") {
  static readonly make = Effect.fnUntraced(function*(threshold: PromotionThreshold = defaultPromotionThreshold) {
    const registry = yield* WorldRegistry
    const store = yield* EvolutionCandidateStore
    const state = yield* Ref.make<StreamState>({ seen: new Set(), clusters: new Map(), divergences: new Map(), decisions: [] })
    const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    const rulesOf = (worldModelId: string) =>
      registry.current(worldModelId).pipe(
        Effect.map((m) => m.definition.rules),
        Effect.catch((_: WorldNotFound) => Effect.succeed([] as ReadonlyArray<Rule>))
      )

    const raise = Effect.fnUntraced(function*(input: {
      readonly worldModelId: string
      readonly source: EvolutionCandidate["source"]
      readonly patternLabel: string
      readonly evidence: PatternEvidence
      readonly explanations: ReadonlyArray<string>
      readonly reason: string
    }) {
      const rules = yield* rulesOf(input.worldModelId)
      const target = input.source === "rubric_divergence" ? undefined : matchRule(rules, `${input.patternLabel} ${input.explanations.join(" ")}`)
      const kind: CandidateKind = target !== undefined || input.source === "rubric_divergence" ? "rule_revision" : "rule_candidate"
      const id = `${input.worldModelId}/${kind}/${slug(input.patternLabel)}`
      const now = yield* nowIso
      const existing = yield* Effect.option(store.get(id))
      const candidate: EvolutionCandidate = {
        id,
        worldModelId: input.worldModelId,
        kind,
        targetRuleId: target?.id ?? null,
        source: input.source,
        patternLabel: input.patternLabel,
        status: existing._tag === "Some" ? existing.value.status : "proposed",
        evidence: input.evidence,
        representativeExplanations: uniq(input.explanations).slice(0, 5),
        rationale: target !== undefined
          ? `${input.reason}; the pattern matches rule ${target.id} (${target.title}): review it`
          : input.source === "rubric_divergence"
          ? `${input.reason}; the world model and the rubric disagree across workspaces: review the rules these stimuli exercise`
          : `${input.reason}; no existing rule covers the pattern: draft a new rule`,
        createdAt: existing._tag === "Some" ? existing.value.createdAt : now,
        updatedAt: now,
        publishedVersion: existing._tag === "Some" ? existing.value.publishedVersion : null
      }
      yield* store.upsert(candidate)
      return candidate
    })

    const decide = Effect.fnUntraced(function*(input: {
      readonly eventId: string
      readonly worldModelId: string
      readonly source: EvolutionCandidate["source"]
      readonly patternLabel: string
      readonly evidence: PatternEvidence
      readonly explanations: ReadonlyArray<string>
    }): Effect.fn.Return<EvolutionDecision> {
      const verdict = meetsThreshold(input.evidence, threshold)
      const base = { eventId: input.eventId, patternLabel: input.patternLabel, evidence: input.evidence }
      if (!verdict.passes) {
        return { ...base, decision: "noise", reason: verdict.reason, candidateId: null }
      }
      if (input.evidence.workspaces.length < threshold.minWorkspaces) {
        return {
          ...base,
          decision: "observation",
          reason: `${verdict.reason}, but seen in ${input.evidence.workspaces.length} workspace(s); ${threshold.minWorkspaces} needed for a candidate`,
          candidateId: null
        }
      }
      const candidate = yield* raise({ ...input, reason: verdict.reason })
      return { ...base, decision: candidate.kind, reason: candidate.rationale, candidateId: candidate.id }
    })

    const consume = Effect.fn("WorldEvolution.consume")(function*(event: SpectralEvent) {
      const current = yield* Ref.get(state)
      const ignored = (decision: "ignored" | "duplicate", reason: string): EvolutionDecision => ({ eventId: event.id, decision, patternLabel: null, reason, candidateId: null, evidence: null })
      if (current.seen.has(event.id)) return ignored("duplicate", `event ${event.id} was already consumed`)
      let decision: EvolutionDecision
      if (event.type === "platform.failure_cluster.detected") {
        const label = normalizePatternLabel(event.payload.label)
        const key = `${event.payload.authority.worldModelId}\u0000${label}`
        const records = [...(current.clusters.get(key) ?? []), { eventId: event.id, payload: event.payload }]
        yield* Ref.update(state, (s) => ({ ...s, seen: new Set(s.seen).add(event.id), clusters: new Map(s.clusters).set(key, records) }))
        decision = yield* decide({
          eventId: event.id,
          worldModelId: event.payload.authority.worldModelId,
          source: "failure_cluster",
          patternLabel: label,
          evidence: aggregateClusters(records),
          explanations: records.flatMap((r) => r.payload.representativeExplanations)
        })
      } else if (event.type === "rubric.divergence") {
        const key = event.payload.authority.worldModelId
        const records = [...(current.divergences.get(key) ?? []), { eventId: event.id, payload: event.payload }]
        yield* Ref.update(state, (s) => ({ ...s, seen: new Set(s.seen).add(event.id), divergences: new Map(s.divergences).set(key, records) }))
        decision = yield* decide({
          eventId: event.id,
          worldModelId: key,
          source: "rubric_divergence",
          patternLabel: "rubric divergence",
          evidence: aggregateDivergences(records),
          explanations: []
        })
      } else {
        decision = ignored("ignored", `${event.type} carries no world signal`)
      }
      yield* Ref.update(state, (s) => ({ ...s, decisions: [...s.decisions, decision] }))
      return decision
    })

    const setStatus = (candidateId: string, status: EvolutionCandidate["status"], publishedVersion: string | null) =>
      Effect.gen(function*() {
        const candidate = yield* store.get(candidateId)
        const now = yield* nowIso
        yield* store.upsert({ ...candidate, status, updatedAt: now, publishedVersion: publishedVersion ?? candidate.publishedVersion })
      })

    const publishCandidate = Effect.fn("WorldEvolution.publishCandidate")(function*(candidateId: string, definition: unknown, options?: { readonly makeCurrent?: boolean }) {
      yield* store.get(candidateId)
      const published = yield* registry.publish(definition, options)
      yield* setStatus(candidateId, "published", published.authority.worldModelVersion)
      return published
    })

    return WorldEvolution.of({
      consume,
      candidates: store.list,
      decisions: Effect.map(Ref.get(state), (s) => s.decisions),
      publishCandidate,
      dismissCandidate: (candidateId) => setStatus(candidateId, "dismissed", null)
    })
  })

  /** Needs a `WorldRegistry` and an `EvolutionCandidateStore`. */
  static readonly layerNoDeps = (threshold: PromotionThreshold = defaultPromotionThreshold) => Layer.effect(WorldEvolution, WorldEvolution.make(threshold))

  /** With the in-memory candidate store and the package's registry (both in the output). */
  static readonly layer = WorldEvolution.layerNoDeps().pipe(
    Layer.provideMerge(Layer.mergeAll(EvolutionCandidateStore.layerMemory, WorldRegistry.layer))
  )
}
