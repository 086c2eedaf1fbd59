/**
 * The evolution loop: consumes `platform.failure_cluster.detected` and `rubric.divergence` events,
 * keeps each as evidence in its own workspace and folds it into the pattern's cross-workspace
 * totals (counts only) through the `EvolutionCandidateRepo` port, so the loop is durable on a SQL
 * store: an event consumed twice counts once, and candidates survive a restart. On the totals it
 * applies the promotion threshold (frequency_pct >= 10, effect_size >= 15, actionable, seen in
 * `minWorkspaces` workspaces) and decides noise, observation, or a candidate; whether a candidate
 * revises an existing rule or asks for a new one is decided by the rules' own scope
 * (`evolution/RuleScope.ts`), not by word overlap. `catchUpEvolution` feeds it from the stored
 * events (`EvolutionEventLog`), remembering per workspace the last event consumed. Nothing is
 * published without an explicit `publishCandidate`; a dismissal is recorded with who and when.
 */
import { Clock, Context, Effect, Layer, Ref, Schema } from "effect"
import { SpectralEvent } from "@spectral/engine/contracts"
import type { PublishedWorldModel, WorldModelInvalid } from "./WorldModel.ts"
import { WorldRegistry, type WorldVersionConflict } from "./WorldRegistry.ts"
import {
  type CandidateFilter,
  type CandidateKind,
  CandidateNotFound,
  CandidateTransitionRefused,
  type EvolutionCandidate,
  EvolutionCandidateRepo,
  EvolutionStoreError,
  transitionAllowed
} from "./evolution/EvolutionCandidateRepo.ts"
import { EvolutionEventLog } from "./evolution/EvolutionEventLog.ts"
import { aggregateOf, type EvolutionEvidence, type EvolutionSource, type PatternEvidence, type PatternTotals } from "./evolution/PatternTotals.ts"
import { type ClusterMember, clusterScope, decideScope, membersOfSegments, type RuleScopeProfile, ruleScopeProfile } from "./evolution/RuleScope.ts"

export interface PromotionThreshold {
  readonly minFrequencyPct: number
  readonly minEffectSize: number
  readonly requireActionable: boolean
  /** Distinct workspaces whose evidence must agree before a candidate is raised. */
  readonly minWorkspaces: number
}
// Divergence events are measured on the same scale: frequency = disagreementRate x 100, effect = |divergence| x 100.

export const defaultPromotionThreshold: PromotionThreshold = { minFrequencyPct: 10, minEffectSize: 15, requireActionable: true, minWorkspaces: 2 }

export type EvolutionDecisionKind = "ignored" | "duplicate" | "observation" | "noise" | CandidateKind

export interface EvolutionDecision {
  readonly eventId: string
  readonly decision: EvolutionDecisionKind
  readonly patternLabel: string | null
  readonly reason: string
  readonly candidateId: string | null
  readonly evidence: PatternEvidence | null
}

/** Lower case, digits collapsed (severity variants share a pattern), single spaces. */
export const normalizePatternLabel = (label: string): string =>
  label.toLowerCase().replace(/\d+(\.\d+)?/g, "#").replace(/\s+/g, " ").trim()

const slug = (s: string) => s.replace(/[^a-z0-9#]+/g, "-").replace(/#/g, "n").replace(/^-|-$/g, "").slice(0, 60) || "pattern"

/** The id of a pattern (and of the candidate it may raise): world, source, normalized label. */
export const patternIdOf = (worldModelId: string, source: EvolutionSource, patternLabel: string): string =>
  `${worldModelId}/${source === "failure_cluster" ? "cluster" : "divergence"}/${slug(patternLabel)}`

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

const measure = (m: { readonly _tag: "Present"; readonly value: number } | { readonly _tag: "Absent" }) => (m._tag === "Present" ? m.value : undefined)

/** A world id the registry does not know, named with the ones it does. */
export class EvolutionWorldUnknown extends Schema.TaggedError<EvolutionWorldUnknown>()("EvolutionWorldUnknown", {
  worldModelId: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `no world model "${this.worldModelId}" (known: ${this.known.join(", ")})`
  }
}

export interface ConsumeOptions {
  /** The cluster's member stimuli (segment, and facts when known); default: the event's segment counts. */
  readonly members?: ReadonlyArray<ClusterMember> | undefined
}

export class WorldEvolution extends Context.Service<WorldEvolution, {
  /** Feed one event; events other than the two it reads are ignored, repeats (per workspace) are duplicates. */
  readonly consume: (event: SpectralEvent, options?: ConsumeOptions) => Effect.Effect<EvolutionDecision, EvolutionStoreError>
  /** Stored candidates, oldest first; an unknown `worldModelId` in the filter is `EvolutionWorldUnknown`. */
  readonly candidates: (filter?: CandidateFilter) => Effect.Effect<ReadonlyArray<EvolutionCandidate>, EvolutionStoreError | EvolutionWorldUnknown>
  /** Every decision this instance took (observations and noise included), in order. */
  readonly decisions: Effect.Effect<ReadonlyArray<EvolutionDecision>>
  /** The explicit publication step: publish a new version written from a proposed candidate. */
  readonly publishCandidate: (
    candidateId: string,
    definition: unknown,
    options?: { readonly makeCurrent?: boolean; readonly actor?: string }
  ) => Effect.Effect<PublishedWorldModel, CandidateNotFound | CandidateTransitionRefused | EvolutionStoreError | WorldModelInvalid | WorldVersionConflict>
  readonly dismissCandidate: (
    candidateId: string,
    options?: { readonly actor?: string; readonly note?: string }
  ) => Effect.Effect<EvolutionCandidate, CandidateNotFound | CandidateTransitionRefused | EvolutionStoreError>
}>()("@spectral/worlds/WorldEvolution") {
  static readonly make = Effect.fnUntraced(function*(threshold: PromotionThreshold = defaultPromotionThreshold) {
    const registry = yield* WorldRegistry
    const repo = yield* EvolutionCandidateRepo
    const decisions = yield* Ref.make<ReadonlyArray<EvolutionDecision>>([])
    const profiles = new Map<string, RuleScopeProfile>()
    const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    /** The scope profile of the world's current version (cached per rule set); none for an unknown world. */
    const profileOf = (worldModelId: string) =>
      Effect.gen(function*() {
        const model = yield* registry.current(worldModelId)
        const cached = profiles.get(model.authority.ruleSetHash)
        if (cached !== undefined) return cached
        const generator = yield* Effect.option(registry.generator(worldModelId))
        const profile: RuleScopeProfile = generator._tag === "Some"
          ? ruleScopeProfile(model, generator.value)
          : { model, examples: 0, segments: {}, rules: model.definition.rules.map((r) => ({ ruleId: r.id, title: r.title, statement: r.statement, baseRate: 0, bySegment: {} })) }
        profiles.set(model.authority.ruleSetHash, profile)
        return profile
      }).pipe(Effect.option)

    const evidenceOf = Effect.fnUntraced(function*(event: SpectralEvent, options: ConsumeOptions) {
      if (event.type === "platform.failure_cluster.detected") {
        const p = event.payload
        const label = normalizePatternLabel(p.label)
        const profile = yield* profileOf(p.authority.worldModelId)
        const members = options.members ?? membersOfSegments(p.segments)
        const evidence: EvolutionEvidence = {
          workspaceId: event.workspaceId,
          eventId: event.id,
          patternId: patternIdOf(p.authority.worldModelId, "failure_cluster", label),
          worldModelId: p.authority.worldModelId,
          source: "failure_cluster",
          patternLabel: label,
          scanId: p.scanId,
          clusterId: p.clusterId,
          authorityVersion: p.authority.worldModelVersion,
          occurredAt: event.occurredAt,
          usable: true,
          members: p.memberCount,
          frequencyPct: p.frequencyPct,
          effectSize: p.effectSize,
          actionable: p.actionable,
          segments: p.segments,
          scope: profile._tag === "Some" ? scaleScope(clusterScope(profile.value, members), members.length, p.memberCount) : {},
          scopeFromFacts: options.members !== undefined && options.members.some((m) => m.facts !== undefined),
          explanations: p.representativeExplanations.slice(0, 5)
        }
        return evidence
      }
      if (event.type === "rubric.divergence") {
        const p = event.payload
        const gap = measure(p.divergence)
        const rate = measure(p.disagreementRate)
        const usable = gap !== undefined && rate !== undefined
        const evidence: EvolutionEvidence = {
          workspaceId: event.workspaceId,
          eventId: event.id,
          patternId: patternIdOf(p.authority.worldModelId, "rubric_divergence", "rubric divergence"),
          worldModelId: p.authority.worldModelId,
          source: "rubric_divergence",
          patternLabel: "rubric divergence",
          scanId: p.scanId,
          clusterId: null,
          authorityVersion: p.authority.worldModelVersion,
          occurredAt: event.occurredAt,
          usable,
          members: p.stimuliCount,
          frequencyPct: usable ? 100 * rate : 0,
          effectSize: usable ? 100 * Math.abs(gap) : 0,
          actionable: usable,
          segments: {},
          scope: {},
          scopeFromFacts: false,
          explanations: []
        }
        return evidence
      }
      return undefined
    })

    const raise = Effect.fnUntraced(function*(totals: PatternTotals, evidence: PatternEvidence, reason: string, text: string) {
      const profile = yield* profileOf(totals.worldModelId)
      const scope = totals.source === "rubric_divergence" ? undefined
        : profile._tag === "Some" ? decideScope(profile.value, totals.scope, totals.members, text)
        : { kind: "rule_candidate" as const, targetRuleId: null, coverage: 0, baseRate: 0, reason: `world ${totals.worldModelId} is not in the registry: its rules' scope is unknown, draft a new rule` }
      const now = yield* nowIso
      const kind: CandidateKind = scope === undefined ? "rule_revision" : scope.kind
      const candidate: EvolutionCandidate = {
        id: totals.patternId,
        worldModelId: totals.worldModelId,
        patternId: totals.patternId,
        kind,
        targetRuleId: scope?.targetRuleId ?? null,
        source: totals.source,
        patternLabel: totals.patternLabel,
        status: "proposed",
        evidence: { ...evidence, frequencyPct: round(evidence.frequencyPct), effectSize: round(evidence.effectSize), actionableShare: round(evidence.actionableShare) },
        scopeCoverage: scope === undefined ? null : round(scope.coverage),
        rationale: scope === undefined
          ? `${reason}; the world model and the rubric disagree across workspaces: review the rules these stimuli exercise`
          : `${reason}; ${scope.reason}`,
        createdAt: now,
        updatedAt: now,
        publishedVersion: null,
        history: [{ status: "proposed", actor: "world-evolution", at: now }]
      }
      return yield* repo.saveCandidate(candidate)
    })

    const consume = Effect.fn("WorldEvolution.consume")(function*(event: SpectralEvent, options: ConsumeOptions = {}) {
      const evidence = yield* evidenceOf(event, options)
      const decision: EvolutionDecision = yield* Effect.gen(function*() {
        if (evidence === undefined) {
          return { eventId: event.id, decision: "ignored", patternLabel: null, reason: `${event.type} carries no world signal`, candidateId: null, evidence: null } as const
        }
        const recorded = yield* repo.record(evidence)
        if (recorded._tag === "Duplicate") {
          return { eventId: event.id, decision: "duplicate", patternLabel: evidence.patternLabel, reason: `event ${event.id} was already consumed for workspace ${event.workspaceId}`, candidateId: null, evidence: null } as const
        }
        const aggregate = aggregateOf(recorded.totals)
        const verdict = meetsThreshold(aggregate, threshold)
        const base = { eventId: event.id, patternLabel: evidence.patternLabel, evidence: aggregate }
        if (!verdict.passes) return { ...base, decision: "noise", reason: verdict.reason, candidateId: null } as const
        if (aggregate.workspaces < threshold.minWorkspaces) {
          return {
            ...base,
            decision: "observation",
            reason: `${verdict.reason}, but seen in ${aggregate.workspaces} workspace(s); ${threshold.minWorkspaces} needed for a candidate`,
            candidateId: null
          } as const
        }
        const candidate = yield* raise(recorded.totals, aggregate, verdict.reason, `${evidence.patternLabel} ${evidence.explanations.join(" ")}`)
        return { ...base, decision: candidate.kind, reason: candidate.rationale, candidateId: candidate.id }
      })
      if (decision.decision !== "duplicate") yield* Ref.update(decisions, (list) => [...list, decision])
      return decision
    })

    const candidates = Effect.fn("WorldEvolution.candidates")(function*(filter: CandidateFilter = {}) {
      if (filter.worldModelId !== undefined) {
        const known = (yield* registry.list).map((w) => w.worldModelId)
        if (!known.includes(filter.worldModelId)) return yield* new EvolutionWorldUnknown({ worldModelId: filter.worldModelId, known })
      }
      return yield* repo.candidates(filter)
    })

    const publishCandidate = Effect.fn("WorldEvolution.publishCandidate")(function*(
      candidateId: string,
      definition: unknown,
      options: { readonly makeCurrent?: boolean; readonly actor?: string } = {}
    ) {
      const candidate = yield* repo.candidate(candidateId)
      if (!transitionAllowed(candidate.status, "published")) {
        return yield* new CandidateTransitionRefused({ candidateId, from: candidate.status, to: "published" })
      }
      const published = yield* registry.publish(definition, options.makeCurrent === undefined ? undefined : { makeCurrent: options.makeCurrent })
      yield* repo.transition(candidateId, {
        status: "published",
        actor: options.actor ?? "operator",
        at: yield* nowIso,
        publishedVersion: published.authority.worldModelVersion
      })
      return published
    })

    const dismissCandidate = Effect.fn("WorldEvolution.dismissCandidate")(function*(candidateId: string, options: { readonly actor?: string; readonly note?: string } = {}) {
      return yield* repo.transition(candidateId, {
        status: "dismissed",
        actor: options.actor ?? "operator",
        at: yield* nowIso,
        ...(options.note === undefined ? {} : { note: options.note })
      })
    })

    return WorldEvolution.of({ consume, candidates, decisions: Ref.get(decisions), publishCandidate, dismissCandidate })
  })

  /** Needs a `WorldRegistry` and an `EvolutionCandidateRepo`. */
  static readonly layerNoDeps = (threshold: PromotionThreshold = defaultPromotionThreshold) => Layer.effect(WorldEvolution, WorldEvolution.make(threshold))

  /** With the in-memory candidate repo and the package's registry (both in the output). */
  static readonly layer = WorldEvolution.layerNoDeps().pipe(
    Layer.provideMerge(Layer.mergeAll(EvolutionCandidateRepo.layerMemory, WorldRegistry.layer))
  )
}

const round = (x: number) => Math.round(x * 1000) / 1000

/** Scope counts for the members given, scaled to the cluster's member count (a sample of members may be given). */
const scaleScope = (scope: Record<string, number>, given: number, members: number): Record<string, number> => {
  if (given === 0 || given === members) return scope
  return Object.fromEntries(Object.entries(scope).map(([k, v]) => [k, (v * members) / given]))
}

export interface CatchUpReport {
  readonly workspaces: number
  /** Stored events read (all types), duplicates included. */
  readonly read: number
  readonly consumed: number
  readonly duplicates: number
  /** Stored events that do not decode as a `SpectralEvent`: left where they are, named here. */
  readonly malformed: ReadonlyArray<{ readonly workspaceId: string; readonly eventId: string; readonly message: string }>
  readonly decisions: ReadonlyArray<EvolutionDecision>
}

export interface CatchUpOptions<R = never> {
  /** Events read per batch (default 200). */
  readonly batchSize?: number
  /** The cluster's member stimuli for a failure-cluster event, when the host can find them. */
  readonly resolveMembers?: (event: Extract<SpectralEvent, { type: "platform.failure_cluster.detected" }>) => Effect.Effect<ReadonlyArray<ClusterMember> | undefined, never, R>
}

const decodeEvent = Schema.decodeUnknownEffect(SpectralEvent)

/**
 * Consume every stored event each workspace has after its cursor, in order, moving the cursor past
 * each one (an event read twice is a duplicate and counts once). Idempotent: a second run with no
 * new events reads nothing.
 */
export const catchUpEvolution = <R = never>(options: CatchUpOptions<R> = {}) => Effect.gen(function*() {
  const evolution = yield* WorldEvolution
  const repo = yield* EvolutionCandidateRepo
  const log = yield* EvolutionEventLog
  const batchSize = options.batchSize ?? 200
  const workspaces = yield* log.workspaces
  let read = 0
  let consumed = 0
  let duplicates = 0
  const malformed: Array<CatchUpReport["malformed"][number]> = []
  const taken: Array<EvolutionDecision> = []
  for (const workspaceId of workspaces) {
    let position = yield* repo.cursor(workspaceId)
    while (true) {
      const batch = yield* log.after(workspaceId, position, batchSize)
      if (batch.length === 0) break
      for (const stored of batch) {
        read++
        const decoded = yield* Effect.result(decodeEvent(stored.document))
        if (decoded._tag === "Failure") {
          malformed.push({ workspaceId, eventId: stored.eventId, message: decoded.failure.message })
        } else {
          const event = decoded.success
          const members = event.type === "platform.failure_cluster.detected" && options.resolveMembers !== undefined
            ? yield* options.resolveMembers(event)
            : undefined
          const decision = yield* evolution.consume(event, { members })
          if (decision.decision === "duplicate") duplicates++
          else {
            consumed++
            taken.push(decision)
          }
        }
        position = stored.position
        yield* repo.advanceCursor(workspaceId, position, stored.eventId)
      }
      if (batch.length < batchSize) break
    }
  }
  const report: CatchUpReport = { workspaces: workspaces.length, read, consumed, duplicates, malformed, decisions: taken }
  return report
}).pipe(Effect.withSpan("WorldEvolution.catchUp"))

