/**
 * The port the evolution loop stores through: per-workspace evidence (idempotent per event), the
 * platform-level pattern totals it folds into (counts only), rule candidates with their promotion
 * state and its history (who, when), and each workspace's catch-up cursor over its stored events.
 * Schemas for everything stored, the typed errors, and the in-memory implementation (tests, the
 * embedded memory store). The SQL driver lives in `@spectral/adapters`
 * (`SqlEvolutionCandidateRepo`) and sees the same Schemas. Decides nothing.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { EvolutionEvidence, EvolutionSource, foldEvidence, emptyTotals, PatternEvidenceSchema, PatternTotals } from "./PatternTotals.ts"

export const CandidateStatus = Schema.Literals(["proposed", "published", "dismissed"])
export type CandidateStatus = typeof CandidateStatus.Type

export const CandidateKind = Schema.Literals(["rule_candidate", "rule_revision"])
export type CandidateKind = typeof CandidateKind.Type

export const StatusChange = Schema.Struct({
  status: CandidateStatus,
  actor: Schema.NonEmptyString,
  at: Schema.String,
  /** The world version published from the candidate. */
  publishedVersion: Schema.optionalKey(Schema.String),
  note: Schema.optionalKey(Schema.String)
})
export type StatusChange = typeof StatusChange.Type

/** A rule candidate: platform-level, so it holds counts and world-level names only. */
export const EvolutionCandidate = Schema.Struct({
  id: Schema.NonEmptyString,
  worldModelId: Schema.NonEmptyString,
  patternId: Schema.NonEmptyString,
  kind: CandidateKind,
  /** The rule a revision targets; null for a new rule candidate. */
  targetRuleId: Schema.NullOr(Schema.String),
  source: EvolutionSource,
  patternLabel: Schema.String,
  status: CandidateStatus,
  evidence: PatternEvidenceSchema,
  /** Share of the cluster's members inside the target rule's scope (null for divergences). */
  scopeCoverage: Schema.NullOr(Schema.Finite),
  rationale: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  publishedVersion: Schema.NullOr(Schema.String),
  /** Every status the candidate had, oldest first (the first is `proposed` by the loop). */
  history: Schema.Array(StatusChange)
})
export type EvolutionCandidate = typeof EvolutionCandidate.Type

export const EvolutionStoreErrorReason = Schema.Union([
  Schema.TaggedStruct("Unavailable", { message: Schema.String }),
  Schema.TaggedStruct("Refused", { entity: Schema.String, id: Schema.String, message: Schema.String }),
  Schema.TaggedStruct("Conflict", { entity: Schema.String, id: Schema.String, message: Schema.String }),
  Schema.TaggedStruct("Corrupt", { entity: Schema.String, id: Schema.String, message: Schema.String })
])

/** The store failed, refused, lost a race, or holds a row that no longer decodes (named). */
export class EvolutionStoreError extends Schema.TaggedError<EvolutionStoreError>()("EvolutionStoreError", {
  reason: EvolutionStoreErrorReason
}) {
  override get message(): string {
    const r = this.reason
    return r._tag === "Unavailable" ? `evolution store unavailable: ${r.message}`
      : r._tag === "Corrupt" ? `${r.entity} ${r.id} is corrupt: ${r.message}`
      : `${r.entity} ${r.id}: ${r.message}`
  }
}

export class CandidateNotFound extends Schema.TaggedError<CandidateNotFound>()("CandidateNotFound", {
  candidateId: Schema.String
}) {
  override get message(): string {
    return `no rule candidate "${this.candidateId}"`
  }
}

/** A status change the candidate's current status does not allow (a dismissed candidate is not published). */
export class CandidateTransitionRefused extends Schema.TaggedError<CandidateTransitionRefused>()("CandidateTransitionRefused", {
  candidateId: Schema.String,
  from: CandidateStatus,
  to: CandidateStatus
}) {
  override get message(): string {
    return `rule candidate "${this.candidateId}" is ${this.from}: it cannot become ${this.to}`
  }
}

export type RecordResult =
  | { readonly _tag: "Duplicate" }
  | { readonly _tag: "Recorded"; readonly totals: PatternTotals }

export interface CandidateFilter {
  readonly worldModelId?: string | undefined
  readonly status?: CandidateStatus | undefined
}

/** The cursor name the loop keeps per workspace over the stored events. */
export const evolutionConsumer = "world-evolution"

export class EvolutionCandidateRepo extends Context.Service<EvolutionCandidateRepo, {
  /**
   * Store one event's evidence in its workspace and fold it into the pattern's totals, in one
   * transaction; an event already recorded for that workspace is `Duplicate` and changes nothing.
   */
  readonly record: (evidence: EvolutionEvidence) => Effect.Effect<RecordResult, EvolutionStoreError>
  /** A workspace's own evidence, oldest first (optionally one pattern's). */
  readonly evidence: (workspaceId: string, patternId?: string) => Effect.Effect<ReadonlyArray<EvolutionEvidence>, EvolutionStoreError>
  /** Insert or replace a candidate's evidence and kind; its status and history are kept as stored. */
  readonly saveCandidate: (candidate: EvolutionCandidate) => Effect.Effect<EvolutionCandidate, EvolutionStoreError>
  readonly candidate: (candidateId: string) => Effect.Effect<EvolutionCandidate, CandidateNotFound | EvolutionStoreError>
  /** Oldest first. */
  readonly candidates: (filter?: CandidateFilter) => Effect.Effect<ReadonlyArray<EvolutionCandidate>, EvolutionStoreError>
  /** Compare-and-set on the status (`proposed` → `published` | `dismissed`), appending to the history. */
  readonly transition: (
    candidateId: string,
    change: StatusChange
  ) => Effect.Effect<EvolutionCandidate, CandidateNotFound | CandidateTransitionRefused | EvolutionStoreError>
  /** The last stored-event position a workspace's events were consumed up to (0: none). */
  readonly cursor: (workspaceId: string) => Effect.Effect<number, EvolutionStoreError>
  readonly advanceCursor: (workspaceId: string, position: number, eventId: string) => Effect.Effect<void, EvolutionStoreError>
}>()("@spectral/worlds/evolution/EvolutionCandidateRepo") {
  /** Everything in process memory (gone with it): tests and the embedded memory store. */
  static readonly layerMemory = Layer.effect(EvolutionCandidateRepo, Effect.suspend(() => makeMemoryEvolutionCandidateRepo))
}

/** Whether a candidate in `from` may move to `to`. */
export const transitionAllowed = (from: CandidateStatus, to: CandidateStatus): boolean => from === "proposed" && to !== "proposed"

/** Keep the stored status and history; take everything else from the loop's newer view. */
export const mergeCandidate = (stored: EvolutionCandidate | undefined, next: EvolutionCandidate): EvolutionCandidate =>
  stored === undefined
    ? next
    : { ...next, status: stored.status, history: stored.history, createdAt: stored.createdAt, publishedVersion: stored.publishedVersion }

/** Apply a status change (after `transitionAllowed`). */
export const applyTransition = (candidate: EvolutionCandidate, change: StatusChange): EvolutionCandidate => ({
  ...candidate,
  status: change.status,
  updatedAt: change.at,
  publishedVersion: change.publishedVersion ?? candidate.publishedVersion,
  history: [...candidate.history, change]
})

export const matchesFilter = (candidate: EvolutionCandidate, filter: CandidateFilter = {}): boolean =>
  (filter.worldModelId === undefined || candidate.worldModelId === filter.worldModelId) &&
  (filter.status === undefined || candidate.status === filter.status)

const makeMemoryEvolutionCandidateRepo = Effect.gen(function*() {
  interface MemoryState {
    readonly evidence: ReadonlyMap<string, EvolutionEvidence>
    readonly totals: ReadonlyMap<string, PatternTotals>
    readonly candidates: ReadonlyMap<string, EvolutionCandidate>
    readonly cursors: ReadonlyMap<string, number>
  }
  const state = yield* Ref.make<MemoryState>({ evidence: new Map(), totals: new Map(), candidates: new Map(), cursors: new Map() })
  const key = (workspaceId: string, eventId: string) => `${workspaceId}\u0000${eventId}`
  return EvolutionCandidateRepo.of({
    record: (evidence) =>
      Ref.modify(state, (s): readonly [RecordResult, MemoryState] => {
        if (s.evidence.has(key(evidence.workspaceId, evidence.eventId))) return [{ _tag: "Duplicate" }, s]
        const first = ![...s.evidence.values()].some((e) => e.workspaceId === evidence.workspaceId && e.patternId === evidence.patternId && e.usable)
        const totals = foldEvidence(s.totals.get(evidence.patternId) ?? emptyTotals(evidence), evidence, first)
        return [
          { _tag: "Recorded", totals },
          {
            ...s,
            evidence: new Map(s.evidence).set(key(evidence.workspaceId, evidence.eventId), evidence),
            totals: new Map(s.totals).set(evidence.patternId, totals)
          }
        ]
      }),
    evidence: (workspaceId, patternId) =>
      Effect.map(Ref.get(state), (s) =>
        [...s.evidence.values()].filter((e) => e.workspaceId === workspaceId && (patternId === undefined || e.patternId === patternId))),
    saveCandidate: (candidate) =>
      Ref.modify(state, (s): readonly [EvolutionCandidate, MemoryState] => {
        const merged = mergeCandidate(s.candidates.get(candidate.id), candidate)
        return [merged, { ...s, candidates: new Map(s.candidates).set(candidate.id, merged) }]
      }),
    candidate: (candidateId) =>
      Effect.flatMap(Ref.get(state), (s) => {
        const found = s.candidates.get(candidateId)
        return found === undefined ? Effect.fail(new CandidateNotFound({ candidateId })) : Effect.succeed(found)
      }),
    candidates: (filter) => Effect.map(Ref.get(state), (s) => [...s.candidates.values()].filter((c) => matchesFilter(c, filter))),
    transition: (candidateId, change) =>
      Effect.flatMap(Ref.get(state), (s): Effect.Effect<EvolutionCandidate, CandidateNotFound | CandidateTransitionRefused> => {
        const found = s.candidates.get(candidateId)
        if (found === undefined) return Effect.fail(new CandidateNotFound({ candidateId }))
        if (!transitionAllowed(found.status, change.status)) {
          return Effect.fail(new CandidateTransitionRefused({ candidateId, from: found.status, to: change.status }))
        }
        const next = applyTransition(found, change)
        return Effect.as(Ref.update(state, (t) => ({ ...t, candidates: new Map(t.candidates).set(candidateId, next) })), next)
      }),
    cursor: (workspaceId) => Effect.map(Ref.get(state), (s) => s.cursors.get(workspaceId) ?? 0),
    advanceCursor: (workspaceId, position) =>
      Ref.update(state, (s) => ({ ...s, cursors: new Map(s.cursors).set(workspaceId, Math.max(position, s.cursors.get(workspaceId) ?? 0)) }))
  })
})
