/**
 * The evidence the evolution loop keeps, as Schema-typed records, and how it aggregates.
 * - `EvolutionEvidence`: one consumed event, kept in its own workspace (ids, explanations and all).
 * - `PatternTotals`: what every workspace's evidence for one pattern adds up to, counts and sums
 *   only (events, workspaces, members, weighted frequency and effect, segment and rule-scope
 *   counts, world versions): never a workspace id, scan id or explanation, so it can be shared
 *   across workspaces. `foldEvidence` adds one record; `aggregateOf` turns totals into the
 *   member-weighted means the promotion threshold reads.
 * Owns no storage (the `EvolutionCandidateRepo` port does) and no decision (`WorldEvolution`).
 */
import { Schema } from "effect"

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Amount = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

export const EvolutionSource = Schema.Literals(["failure_cluster", "rubric_divergence"])
export type EvolutionSource = typeof EvolutionSource.Type

/** One consumed event's evidence, in the workspace that produced it. */
export const EvolutionEvidence = Schema.Struct({
  workspaceId: Schema.NonEmptyString,
  eventId: Schema.NonEmptyString,
  patternId: Schema.NonEmptyString,
  worldModelId: Schema.NonEmptyString,
  source: EvolutionSource,
  patternLabel: Schema.String,
  scanId: Schema.String,
  /** The failure cluster (null for a divergence record). */
  clusterId: Schema.NullOr(Schema.String),
  authorityVersion: Schema.String,
  occurredAt: Schema.String,
  /** A divergence record without both measures counts as an event but carries no numbers. */
  usable: Schema.Boolean,
  /** Cluster members, or the divergence record's stimuli. */
  members: Count,
  frequencyPct: Schema.Finite,
  effectSize: Schema.Finite,
  actionable: Schema.Boolean,
  segments: Schema.Record(Schema.String, Count),
  /** Members inside each rule's scope (expected counts when members are known by segment only). */
  scope: Schema.Record(Schema.String, Amount),
  /** Whether members' own facts were placed against the rules (otherwise their segments were). */
  scopeFromFacts: Schema.Boolean,
  explanations: Schema.Array(Schema.String)
})
export type EvolutionEvidence = typeof EvolutionEvidence.Type

/** Every workspace's evidence for one pattern, summed: counts only. */
export const PatternTotals = Schema.Struct({
  patternId: Schema.NonEmptyString,
  worldModelId: Schema.NonEmptyString,
  source: EvolutionSource,
  patternLabel: Schema.String,
  events: Count,
  usableEvents: Count,
  /** Distinct workspaces with usable evidence. */
  workspaces: Count,
  members: Count,
  /** Σ members × frequency and Σ members × effect over usable events. */
  weightedFrequency: Schema.Finite,
  weightedEffect: Schema.Finite,
  /** Plain sums over usable events (the mean when no event has members). */
  frequencySum: Schema.Finite,
  effectSum: Schema.Finite,
  actionableEvents: Count,
  segments: Schema.Record(Schema.String, Count),
  scope: Schema.Record(Schema.String, Amount),
  /** Members whose scope came from their own facts. */
  membersWithFacts: Count,
  authorityVersions: Schema.Array(Schema.String),
  lastEventAt: Schema.String
})
export type PatternTotals = typeof PatternTotals.Type

export const emptyTotals = (evidence: Pick<EvolutionEvidence, "patternId" | "worldModelId" | "source" | "patternLabel" | "occurredAt">): PatternTotals => ({
  patternId: evidence.patternId,
  worldModelId: evidence.worldModelId,
  source: evidence.source,
  patternLabel: evidence.patternLabel,
  events: 0,
  usableEvents: 0,
  workspaces: 0,
  members: 0,
  weightedFrequency: 0,
  weightedEffect: 0,
  frequencySum: 0,
  effectSum: 0,
  actionableEvents: 0,
  segments: {},
  scope: {},
  membersWithFacts: 0,
  authorityVersions: [],
  lastEventAt: evidence.occurredAt
})

const addCounts = (into: Readonly<Record<string, number>>, more: Readonly<Record<string, number>>): Record<string, number> => {
  const out: Record<string, number> = { ...into }
  for (const [k, v] of Object.entries(more)) out[k] = (out[k] ?? 0) + v
  return out
}

/**
 * Add one record. `firstFromWorkspace`: the workspace had no usable evidence for this pattern
 * before (the caller knows, from its own workspace's rows).
 */
export const foldEvidence = (totals: PatternTotals, evidence: EvolutionEvidence, firstFromWorkspace: boolean): PatternTotals => {
  const versions = [...new Set([...totals.authorityVersions, evidence.authorityVersion])].sort()
  const lastEventAt = evidence.occurredAt > totals.lastEventAt ? evidence.occurredAt : totals.lastEventAt
  if (!evidence.usable) return { ...totals, events: totals.events + 1, authorityVersions: versions, lastEventAt }
  return {
    ...totals,
    events: totals.events + 1,
    usableEvents: totals.usableEvents + 1,
    workspaces: totals.workspaces + (firstFromWorkspace ? 1 : 0),
    members: totals.members + evidence.members,
    weightedFrequency: totals.weightedFrequency + evidence.members * evidence.frequencyPct,
    weightedEffect: totals.weightedEffect + evidence.members * evidence.effectSize,
    frequencySum: totals.frequencySum + evidence.frequencyPct,
    effectSum: totals.effectSum + evidence.effectSize,
    actionableEvents: totals.actionableEvents + (evidence.actionable ? 1 : 0),
    segments: addCounts(totals.segments, evidence.segments),
    scope: addCounts(totals.scope, evidence.scope),
    membersWithFacts: totals.membersWithFacts + (evidence.scopeFromFacts ? evidence.members : 0),
    authorityVersions: versions,
    lastEventAt
  }
}

/** What the promotion threshold reads: counts and member-weighted means. */
export interface PatternEvidence {
  readonly events: number
  readonly workspaces: number
  readonly members: number
  /** Member-weighted mean over the usable events (plain mean when no event has members). */
  readonly frequencyPct: number
  readonly effectSize: number
  readonly actionableShare: number
  readonly segments: Readonly<Record<string, number>>
  readonly authorityVersions: ReadonlyArray<string>
}

export const PatternEvidenceSchema = Schema.Struct({
  events: Count,
  workspaces: Count,
  members: Count,
  frequencyPct: Schema.Finite,
  effectSize: Schema.Finite,
  actionableShare: Schema.Finite,
  segments: Schema.Record(Schema.String, Count),
  authorityVersions: Schema.Array(Schema.String)
})

export const aggregateOf = (totals: PatternTotals): PatternEvidence => {
  const n = totals.usableEvents
  const byMembers = totals.members > 0
  return {
    events: totals.events,
    workspaces: totals.workspaces,
    members: totals.members,
    frequencyPct: n === 0 ? 0 : byMembers ? totals.weightedFrequency / totals.members : totals.frequencySum / n,
    effectSize: n === 0 ? 0 : byMembers ? totals.weightedEffect / totals.members : totals.effectSum / n,
    actionableShare: n === 0 ? 0 : totals.actionableEvents / n,
    segments: totals.segments,
    authorityVersions: totals.authorityVersions
  }
}
