/**
 * RetentionRepo on SQL: a retention record per raw trace (`spectral.retention_records`), the audited
 * transition log (`spectral.retention_events`, append-only), policies per entity, legal holds, the
 * purge of raw traces, and the workspaces a sweep has work in (migration 5's discovery function). Does not decide transitions (the engine's traces/Retention does).
 */
import { RetentionRepo, type StorageError } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { Effect, Schema } from "effect"
import { makeWorkspaceTransaction } from "../WorkspaceTransaction.ts"
import { checkWorkspace, chunks, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const RetentionRecordDoc = Schema.Struct({
  workspaceId: WorkspaceId,
  traceId: Schema.String,
  state: Schema.Literals(["ACTIVE", "REFERENCED", "ORPHANED", "TOMBSTONED"]),
  ingestedAt: Schema.String,
  derivationCompletedAt: Schema.optionalKey(Schema.String),
  tombstonedAt: Schema.optionalKey(Schema.String)
})

const RetentionEventDoc = Schema.Struct({
  id: Schema.String,
  workspaceId: WorkspaceId,
  subjectKind: Schema.Literals(["trace", "sample", "legal_hold"]),
  subject: Schema.String,
  from: Schema.NullOr(Schema.String),
  to: Schema.String,
  reason: Schema.String,
  actor: Schema.String,
  at: Schema.String
})

const RetentionPolicyDoc = Schema.Struct({ workspaceId: WorkspaceId, entity: Schema.String, days: Schema.Finite })

const LegalHoldDoc = Schema.Struct({
  id: Schema.String,
  workspaceId: WorkspaceId,
  traceIds: Schema.Array(Schema.String),
  reason: Schema.String,
  placedAt: Schema.String,
  releasedAt: Schema.optionalKey(Schema.String)
})

export const makeSqlRetentionRepo = ({ assumeRole, batchSize, inWorkspace, json, sql }: SqlRepoContext): RetentionRepo["Service"] => {
  const { unscoped } = makeWorkspaceTransaction(sql, { assumeRole })
  const encodeRecord = encodeDoc(RetentionRecordDoc, "retention record")
  const decodeRecords = decodeRows(RetentionRecordDoc, "retention record")
  const encodeEvent = encodeDoc(RetentionEventDoc, "retention event")
  const decodeEvents = decodeRows(RetentionEventDoc, "retention event")
  const encodePolicy = encodeDoc(RetentionPolicyDoc, "retention policy")
  const decodePolicies = decodeRows(RetentionPolicyDoc, "retention policy")
  const encodeHold = encodeDoc(LegalHoldDoc, "legal hold")
  const decodeHolds = decodeRows(LegalHoldDoc, "legal hold")

  /** Write retention records; `replace` decides whether a known trace id is overwritten. */
  const writeRecords = (workspaceId: string, rows: ReadonlyArray<typeof RetentionRecordDoc.Type>, replace: boolean) =>
    Effect.gen(function*() {
      if (rows.length === 0) return
      yield* checkWorkspace("retention record", workspaceId, rows, (row) => row.traceId)
      const latest = [...new Map(rows.map((row) => [row.traceId, row] as const)).values()]
      const docs = yield* Effect.forEach(replace ? latest : rows, (row) => encodeRecord(row, row.traceId))
      yield* inWorkspace(
        workspaceId,
        "retention record",
        rows[0]!.traceId,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            replace
              ? sql`INSERT INTO spectral.retention_records (workspace_id, trace_id, state, doc)
                  SELECT ${workspaceId}, d->>'traceId', d->>'state', d
                  FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                  ON CONFLICT (workspace_id, trace_id) DO UPDATE SET state = EXCLUDED.state, doc = EXCLUDED.doc`
              : sql`INSERT INTO spectral.retention_records (workspace_id, trace_id, state, doc)
                  SELECT ${workspaceId}, d->>'traceId', d->>'state', d
                  FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                  ON CONFLICT (workspace_id, trace_id) DO NOTHING`,
          { discard: true }
        )
      )
    })

  const listIn = <A>(
    table: string,
    key: string,
    entity: string,
    decode: (rows: ReadonlyArray<DocRow>) => Effect.Effect<A, StorageError>
  ) =>
  (workspaceId: string) =>
    Effect.flatMap(
      inWorkspace(
        workspaceId,
        entity,
        "*",
        sql<DocRow>`SELECT ${sql(key)} AS id, doc FROM ${sql(`spectral.${table}`)}
                    WHERE workspace_id = ${workspaceId} ORDER BY seq`
      ),
      decode
    )

  return RetentionRepo.of({
    track: Effect.fn("SqlRetentionRepo.track")((workspaceId, rows) => writeRecords(workspaceId, rows, false)),
    saveRecords: Effect.fn("SqlRetentionRepo.saveRecords")((workspaceId, rows) => writeRecords(workspaceId, rows, true)),
    records: Effect.fn("SqlRetentionRepo.records")(listIn("retention_records", "trace_id", "retention record", decodeRecords)),
    appendEvents: Effect.fn("SqlRetentionRepo.appendEvents")(function*(workspaceId, rows) {
      if (rows.length === 0) return
      yield* checkWorkspace("retention event", workspaceId, rows)
      const docs = yield* Effect.forEach(rows, (row) => encodeEvent(row, row.id))
      yield* inWorkspace(
        workspaceId,
        "retention event",
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.retention_events (workspace_id, id, doc)
                SELECT ${workspaceId}, d->>'id', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, id) DO NOTHING`,
          { discard: true }
        )
      )
    }),
    events: Effect.fn("SqlRetentionRepo.events")(listIn("retention_events", "id", "retention event", decodeEvents)),
    setPolicy: Effect.fn("SqlRetentionRepo.setPolicy")(function*(policy) {
      const doc = yield* encodePolicy(policy, policy.entity)
      yield* inWorkspace(
        policy.workspaceId,
        "retention policy",
        policy.entity,
        sql`INSERT INTO spectral.retention_policies (workspace_id, entity, doc)
            VALUES (${policy.workspaceId}, ${policy.entity}, ${json(doc)})
            ON CONFLICT (workspace_id, entity) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    policies: Effect.fn("SqlRetentionRepo.policies")(listIn("retention_policies", "entity", "retention policy", decodePolicies)),
    saveHold: Effect.fn("SqlRetentionRepo.saveHold")(function*(hold) {
      const doc = yield* encodeHold(hold, hold.id)
      yield* inWorkspace(
        hold.workspaceId,
        "legal hold",
        hold.id,
        sql`INSERT INTO spectral.legal_holds (workspace_id, id, doc)
            VALUES (${hold.workspaceId}, ${hold.id}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    holds: Effect.fn("SqlRetentionRepo.holds")(listIn("legal_holds", "id", "legal hold", decodeHolds)),
    purgeTraces: Effect.fn("SqlRetentionRepo.purgeTraces")(function*(workspaceId, traceIds) {
      if (traceIds.length === 0) return 0
      const removed = yield* inWorkspace(
        workspaceId,
        "trace",
        traceIds[0]!,
        sql`DELETE FROM spectral.traces
            WHERE workspace_id = ${workspaceId}
              AND trace_id IN (SELECT jsonb_array_elements_text(${json(traceIds)}))
            RETURNING 1`
      )
      return removed.length
    }),
    // Across workspaces through migration 5's SECURITY DEFINER function: ids only, never rows.
    workspacesToSweep: Effect.fn("SqlRetentionRepo.workspacesToSweep")(function*() {
      const rows = yield* unscoped(
        sql<{ readonly workspace: string }>`SELECT w AS workspace FROM spectral.workspaces_to_sweep() AS w ORDER BY w`
      )
      return rows.map((row) => row.workspace)
    })
  })
}
