/**
 * The world-evolution loop's store on SQL (migration 8): `EvolutionCandidateRepo` and the
 * `EvolutionEventLog` over the outbox (migration 3), both ports of `@spectral/worlds`.
 * - Evidence and cursors run in their workspace's transaction (row-level security); recording an
 *   event inserts its evidence (a repeated event id is a no-op: `Duplicate`) and, under a row lock,
 *   folds it into the platform-level pattern totals, in the same transaction.
 * - Pattern totals and candidates are platform-level rows (no workspace id; counts and world-level
 *   names only); candidate status changes are compare-and-set under a row lock.
 * - Every row is decoded through its Schema; one that no longer decodes is a `Corrupt`
 *   EvolutionStoreError naming the table and the row, and nothing is overwritten.
 * Decides nothing (the worlds' `WorldEvolution` does).
 */
import type { StorageError } from "@spectral/engine"
import {
  applyTransition,
  CandidateNotFound,
  CandidateTransitionRefused,
  emptyTotals,
  EvolutionCandidate,
  EvolutionCandidateRepo,
  evolutionConsumer,
  EvolutionEventLog,
  EvolutionEvidence,
  EvolutionStoreError,
  foldEvidence,
  mergeCandidate,
  PatternTotals,
  type RecordResult,
  transitionAllowed
} from "@spectral/worlds"
import { Effect, Schema } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { toStorageError } from "../SqlFailure.ts"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const evidenceEntity = "evolution evidence"
const totalsEntity = "evolution pattern"
const candidateEntity = "evolution candidate"
const cursorEntity = "evolution cursor"
const eventEntity = "stored event"

const evolutionTypes = ["platform.failure_cluster.detected", "rubric.divergence"]

/** The worlds port's error, from the storage layer's. */
const fromStorage = (error: StorageError): EvolutionStoreError => {
  const r = error.reason
  switch (r._tag) {
    case "Unavailable":
      return new EvolutionStoreError({ reason: r })
    case "NotFound":
      return new EvolutionStoreError({ reason: { _tag: "Conflict", entity: r.entity, id: r.id, message: "not found" } })
    default:
      return new EvolutionStoreError({ reason: r })
  }
}

const CursorRow = Schema.Struct({ position: Schema.FiniteFromString })
const OutboxRow = Schema.Struct({ seq: Schema.FiniteFromString, id: Schema.String, doc: Schema.Unknown })
const CountRow = Schema.Struct({ n: Schema.Int })
const WorkspaceRow = Schema.Struct({ workspace: Schema.String })

const decodeShape = <A, I>(schema: Schema.Codec<A, I>, entity: string, id: string) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (row: unknown) =>
    decode(row).pipe(
      Effect.mapError((error) => new EvolutionStoreError({ reason: { _tag: "Corrupt", entity, id, message: error.message } }))
    )
}

export const makeSqlEvolutionCandidateRepo = ({ assumeRole, inWorkspace, json, single, sql }: SqlRepoContext): EvolutionCandidateRepo["Service"] => {
  const encodeEvidence = encodeDoc(EvolutionEvidence, evidenceEntity)
  const decodeEvidence = decodeRows(EvolutionEvidence, evidenceEntity)
  const encodeTotals = encodeDoc(PatternTotals, totalsEntity)
  const decodeTotals = decodeRow(PatternTotals, totalsEntity)
  const encodeCandidate = encodeDoc(EvolutionCandidate, candidateEntity)
  const decodeCandidate = decodeRow(EvolutionCandidate, candidateEntity)
  const decodeCandidates = decodeRows(EvolutionCandidate, candidateEntity)

  /** One platform-level transaction (no workspace set); SQL failures become EvolutionStoreErrors. */
  const platform = <A, E, R>(entity: string, id: string, body: Effect.Effect<A, E, R>) =>
    sql.withTransaction(assumeRole === undefined ? body : Effect.andThen(sql`SELECT set_config('role', ${assumeRole}, true)`, body)).pipe(
      Effect.mapError((error) => (isSqlError(error) ? fromStorage(toStorageError(entity, id, error)) : error as Exclude<E, SqlError>)),
      Effect.catchDefect((defect) => (isSqlError(defect) ? Effect.fail(fromStorage(toStorageError(entity, id, defect))) : Effect.die(defect)))
    )
  const scoped = <A, R>(workspaceId: string, entity: string, id: string, body: Effect.Effect<A, SqlError | EvolutionStoreError, R>) =>
    inWorkspace(workspaceId, entity, id, body).pipe(
      Effect.mapError((error): EvolutionStoreError => (error._tag === "StorageError" ? fromStorage(error) : error))
    )
  const storage = <A>(effect: Effect.Effect<A, StorageError>) => Effect.mapError(effect, fromStorage)

  const record = Effect.fn("SqlEvolutionCandidateRepo.record")(function*(evidence: EvolutionEvidence) {
    const doc = yield* storage(encodeEvidence(evidence, evidence.eventId))
    return yield* scoped(
      evidence.workspaceId,
      evidenceEntity,
      evidence.eventId,
      Effect.gen(function*(): Effect.fn.Return<RecordResult, SqlError | EvolutionStoreError> {
        const inserted = yield* sql`INSERT INTO spectral.evolution_evidence (workspace_id, event_id, pattern_id, usable, doc)
            VALUES (${evidence.workspaceId}, ${evidence.eventId}, ${evidence.patternId}, ${evidence.usable}, ${json(doc)})
            ON CONFLICT (workspace_id, event_id) DO NOTHING RETURNING event_id`
        if (inserted.length === 0) return { _tag: "Duplicate" }
        const empty = yield* storage(encodeTotals(emptyTotals(evidence), evidence.patternId))
        yield* sql`INSERT INTO spectral.evolution_patterns (id, world_model_id, doc)
            VALUES (${evidence.patternId}, ${evidence.worldModelId}, ${json(empty)}) ON CONFLICT (id) DO NOTHING`
        const locked = yield* sql<DocRow>`SELECT id, doc FROM spectral.evolution_patterns WHERE id = ${evidence.patternId} FOR UPDATE`
        const totals = yield* storage(single(locked, decodeTotals, totalsEntity, evidence.patternId))
        // after the lock: another transaction of this workspace for the pattern has committed or not started
        const prior = yield* sql`SELECT count(*)::int AS n FROM spectral.evolution_evidence
            WHERE workspace_id = ${evidence.workspaceId} AND pattern_id = ${evidence.patternId} AND usable AND event_id <> ${evidence.eventId}`
        const { n } = yield* decodeShape(CountRow, evidenceEntity, evidence.patternId)(prior[0])
        const next = foldEvidence(totals, evidence, n === 0)
        const nextDoc = yield* storage(encodeTotals(next, evidence.patternId))
        yield* sql`UPDATE spectral.evolution_patterns SET doc = ${json(nextDoc)}, updated_at = now() WHERE id = ${evidence.patternId}`
        return { _tag: "Recorded", totals: next }
      })
    )
  })

  const candidate = Effect.fn("SqlEvolutionCandidateRepo.candidate")(function*(candidateId: string) {
    const rows = yield* platform(candidateEntity, candidateId, sql<DocRow>`SELECT id, doc FROM spectral.evolution_candidates WHERE id = ${candidateId}`)
    if (rows[0] === undefined) return yield* new CandidateNotFound({ candidateId })
    return yield* storage(decodeCandidate(rows[0]))
  })

  return EvolutionCandidateRepo.of({
    record,
    evidence: Effect.fn("SqlEvolutionCandidateRepo.evidence")(function*(workspaceId: string, patternId?: string) {
      const rows = yield* scoped(
        workspaceId,
        evidenceEntity,
        patternId ?? "(all)",
        patternId === undefined
          ? sql<DocRow>`SELECT event_id AS id, doc FROM spectral.evolution_evidence WHERE workspace_id = ${workspaceId} ORDER BY seq`
          : sql<DocRow>`SELECT event_id AS id, doc FROM spectral.evolution_evidence
              WHERE workspace_id = ${workspaceId} AND pattern_id = ${patternId} ORDER BY seq`
      )
      return yield* storage(decodeEvidence(rows))
    }),
    saveCandidate: Effect.fn("SqlEvolutionCandidateRepo.saveCandidate")(function*(next: EvolutionCandidate) {
      return yield* platform(
        candidateEntity,
        next.id,
        Effect.gen(function*() {
          const rows = yield* sql<DocRow>`SELECT id, doc FROM spectral.evolution_candidates WHERE id = ${next.id} FOR UPDATE`
          const stored = rows[0] === undefined ? undefined : yield* storage(decodeCandidate(rows[0]))
          const merged = mergeCandidate(stored, next)
          const doc = yield* storage(encodeCandidate(merged, merged.id))
          yield* sql`INSERT INTO spectral.evolution_candidates (id, world_model_id, status, doc)
              VALUES (${merged.id}, ${merged.worldModelId}, ${merged.status}, ${json(doc)})
              ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc, updated_at = now()`
          return merged
        })
      )
    }),
    candidate,
    candidates: Effect.fn("SqlEvolutionCandidateRepo.candidates")(function*(filter = {}) {
      const world = filter.worldModelId ?? null
      const status = filter.status ?? null
      const rows = yield* platform(
        candidateEntity,
        "(list)",
        sql<DocRow>`SELECT id, doc FROM spectral.evolution_candidates
            WHERE (${world}::text IS NULL OR world_model_id = ${world}::text) AND (${status}::text IS NULL OR status = ${status}::text)
            ORDER BY seq`
      )
      return yield* storage(decodeCandidates(rows))
    }),
    transition: Effect.fn("SqlEvolutionCandidateRepo.transition")(function*(candidateId, change) {
      return yield* platform(
        candidateEntity,
        candidateId,
        Effect.gen(function*() {
          const rows = yield* sql<DocRow>`SELECT id, doc FROM spectral.evolution_candidates WHERE id = ${candidateId} FOR UPDATE`
          if (rows[0] === undefined) return yield* new CandidateNotFound({ candidateId })
          const stored = yield* storage(decodeCandidate(rows[0]))
          if (!transitionAllowed(stored.status, change.status)) {
            return yield* new CandidateTransitionRefused({ candidateId, from: stored.status, to: change.status })
          }
          const next = applyTransition(stored, change)
          const doc = yield* storage(encodeCandidate(next, candidateId))
          yield* sql`UPDATE spectral.evolution_candidates SET status = ${next.status}, doc = ${json(doc)}, updated_at = now() WHERE id = ${candidateId}`
          return next
        })
      )
    }),
    cursor: Effect.fn("SqlEvolutionCandidateRepo.cursor")(function*(workspaceId: string) {
      const rows = yield* scoped(
        workspaceId,
        cursorEntity,
        evolutionConsumer,
        sql`SELECT position::text AS position FROM spectral.evolution_cursors WHERE workspace_id = ${workspaceId} AND consumer = ${evolutionConsumer}`
      )
      if (rows[0] === undefined) return 0
      return (yield* decodeShape(CursorRow, cursorEntity, workspaceId)(rows[0])).position
    }),
    advanceCursor: Effect.fn("SqlEvolutionCandidateRepo.advanceCursor")(function*(workspaceId: string, position: number, eventId: string) {
      yield* scoped(
        workspaceId,
        cursorEntity,
        evolutionConsumer,
        sql`INSERT INTO spectral.evolution_cursors (workspace_id, consumer, position, doc)
            VALUES (${workspaceId}, ${evolutionConsumer}, ${position}::bigint, ${json({ lastEventId: eventId })})
            ON CONFLICT (workspace_id, consumer) DO UPDATE
              SET position = GREATEST(spectral.evolution_cursors.position, EXCLUDED.position),
                  doc = CASE WHEN EXCLUDED.position >= spectral.evolution_cursors.position THEN EXCLUDED.doc ELSE spectral.evolution_cursors.doc END,
                  updated_at = now()`
      )
    })
  })
}

/** The outbox's failure-cluster and divergence events, per workspace, after a `seq`. */
export const makeSqlEvolutionEventLog = ({ assumeRole, inWorkspace, sql }: SqlRepoContext): EvolutionEventLog["Service"] => {
  const platformRead = <A>(body: Effect.Effect<A, SqlError>) =>
    sql.withTransaction(assumeRole === undefined ? body : Effect.andThen(sql`SELECT set_config('role', ${assumeRole}, true)`, body)).pipe(
      Effect.mapError((error) => fromStorage(toStorageError(eventEntity, "(workspaces)", error))),
      Effect.catchDefect((defect) => (isSqlError(defect) ? Effect.fail(fromStorage(toStorageError(eventEntity, "(workspaces)", defect))) : Effect.die(defect)))
    )
  const decodeWorkspace = decodeShape(WorkspaceRow, eventEntity, "(workspaces)")
  return EvolutionEventLog.of({
    workspaces: Effect.gen(function*() {
      const rows = yield* platformRead(sql`SELECT w AS workspace FROM spectral.workspaces_with_evolution_events() AS w`.withoutTransform)
      return yield* Effect.forEach(rows, (row) => Effect.map(decodeWorkspace(row), (r) => r.workspace))
    }),
    after: Effect.fn("SqlEvolutionEventLog.after")(function*(workspaceId: string, position: number, limit: number) {
      const rows = yield* inWorkspace(
        workspaceId,
        eventEntity,
        `after ${position}`,
        sql`SELECT seq::text AS seq, id, doc FROM spectral.event_outbox
            WHERE workspace_id = ${workspaceId} AND type IN ${sql.in(evolutionTypes)} AND seq > ${position}::bigint
            ORDER BY seq LIMIT ${limit}`.withoutTransform
      ).pipe(Effect.mapError(fromStorage))
      return yield* Effect.forEach(rows, (row) =>
        Effect.map(decodeShape(OutboxRow, eventEntity, workspaceId)(row), (r) => ({ position: r.seq, eventId: r.id, document: r.doc })))
    })
  })
}
