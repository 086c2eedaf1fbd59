/**
 * The SQL driver for every repository port, on effect/sql with @effect/sql-pg's PgClient.
 * Each row is a JSONB document encoded through its contract Schema, plus the columns the queries
 * filter and sort by; a row that no longer decodes is a `Corrupt` StorageError, never a crash.
 * Every call is one transaction that first sets `spectral.workspace_id` for that transaction only
 * (`set_config(..., true)`), so row-level security scopes it; with `assumeRole` it also switches to
 * that role for the transaction (`SET LOCAL ROLE`), for connections whose own role is privileged.
 * Behaves like the engine's MemoryStorage. Does not own connections or migrations.
 */
import {
  type ChangeSetAuditEntry,
  ChangeSetRepo,
  FailureClusterRepo,
  IngestKeyRepo,
  RetentionRepo,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo,
  StorageError,
  TraceRepo,
  WorkspaceRepo
} from "@spectral/engine"
import {
  ChangeSet,
  ChangeSetStatus,
  EvalResult,
  FailureCluster,
  PhaseName,
  RubricDivergenceRecord,
  Sample,
  SampleSet,
  Scan,
  ScanTrace,
  Trace,
  VerdictResult,
  Workspace
} from "@spectral/engine/contracts"
import { Context, Effect, Layer, Schema } from "effect"
import { PgClient } from "@effect/sql-pg"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { toStorageError } from "./SqlFailure.ts"

/** Every repository port; what the storage layers provide. */
export type Repositories =
  | WorkspaceRepo
  | ScanRepo
  | ScanTraceRepo
  | FailureClusterRepo
  | ChangeSetRepo
  | SampleRepo
  | TraceRepo
  | RetentionRepo
  | IngestKeyRepo

export interface SqlStorageOptions {
  /**
   * A role to switch to inside every transaction. Needed when the connection's own role bypasses
   * row-level security (embedded PGlite, whose only session is the superuser `postgres`).
   */
  readonly assumeRole?: string | undefined
  /** Rows per INSERT when writing a batch (default 500). */
  readonly batchSize?: number | undefined
}

const AuditEntry = Schema.Struct({
  id: Schema.String,
  workspaceId: Schema.String,
  changeSetId: Schema.String,
  action: Schema.String,
  actor: Schema.String,
  from: Schema.NullOr(ChangeSetStatus),
  to: Schema.NullOr(ChangeSetStatus),
  detail: Schema.String,
  at: Schema.String
})

const RetentionRecordDoc = Schema.Struct({
  workspaceId: Schema.String,
  traceId: Schema.String,
  state: Schema.Literals(["ACTIVE", "REFERENCED", "ORPHANED", "TOMBSTONED"]),
  ingestedAt: Schema.String,
  derivationCompletedAt: Schema.optionalKey(Schema.String),
  tombstonedAt: Schema.optionalKey(Schema.String)
})

const RetentionEventDoc = Schema.Struct({
  id: Schema.String,
  workspaceId: Schema.String,
  subjectKind: Schema.Literals(["trace", "sample", "legal_hold"]),
  subject: Schema.String,
  from: Schema.NullOr(Schema.String),
  to: Schema.String,
  reason: Schema.String,
  actor: Schema.String,
  at: Schema.String
})

const RetentionPolicyDoc = Schema.Struct({ workspaceId: Schema.String, entity: Schema.String, days: Schema.Finite })

const LegalHoldDoc = Schema.Struct({
  id: Schema.String,
  workspaceId: Schema.String,
  traceIds: Schema.Array(Schema.String),
  reason: Schema.String,
  placedAt: Schema.String,
  releasedAt: Schema.optionalKey(Schema.String)
})

const IngestKeyDoc = Schema.Struct({
  workspaceId: Schema.String,
  keyHash: Schema.String,
  label: Schema.String,
  createdAt: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String)
})

/** Wrapper for a phase output, so any JSON value (and `undefined`) round-trips. */
const PhaseOutputRow = Schema.Struct({ phase: PhaseName, output: Schema.Struct({ value: Schema.optional(Schema.Unknown) }) })

interface DocRow {
  readonly id: string
  readonly doc: unknown
}

type Codec<A> = Schema.Codec<A, unknown>

const corrupt = (entity: string, id: string, message: string) =>
  new StorageError({ reason: { _tag: "Corrupt", entity, id, message } })

const decodeRow = <A>(schema: Codec<A>, entity: string) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (row: DocRow): Effect.Effect<A, StorageError> =>
    decode(row.doc).pipe(Effect.mapError((error) => corrupt(entity, row.id, error.message)))
}

const decodeRows = <A>(schema: Codec<A>, entity: string) => {
  const decode = decodeRow(schema, entity)
  return (rows: ReadonlyArray<DocRow>): Effect.Effect<ReadonlyArray<A>, StorageError> => Effect.forEach(rows, decode)
}

const encodeDoc = <A>(schema: Codec<A>, entity: string) => {
  const encode = Schema.encodeUnknownEffect(schema)
  return (value: A, id: string): Effect.Effect<unknown, StorageError> =>
    encode(value).pipe(Effect.mapError((error) => corrupt(entity, id, `refused to store an invalid value: ${error.message}`)))
}

const chunks = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}

/** A row must name the workspace it is written under (row-level security would refuse it anyway). */
const checkWorkspace = <A extends { readonly workspaceId: string }>(
  entity: string,
  workspaceId: string,
  rows: ReadonlyArray<A>,
  idOf: (row: A) => string = (row) => (row as unknown as { readonly id: string }).id
): Effect.Effect<void, StorageError> => {
  const stray = rows.find((row) => row.workspaceId !== workspaceId)
  return stray === undefined
    ? Effect.void
    : Effect.fail(StorageError.refused(entity, idOf(stray), `belongs to workspace "${stray.workspaceId}", not "${workspaceId}"`))
}

/** Last write wins for a repeated id, at the position of its first occurrence (like a Map). */
const dedupeById = <A extends { readonly id: string }>(rows: ReadonlyArray<A>): ReadonlyArray<A> =>
  [...new Map(rows.map((row) => [row.id, row] as const)).values()]

export const makeSqlStorage = Effect.fnUntraced(function*(options: SqlStorageOptions = {}) {
  const sql = yield* PgClient.PgClient
  const batchSize = options.batchSize ?? 500
  const assumeRole = options.assumeRole

  const enterWorkspace = (workspaceId: string) =>
    assumeRole === undefined
      ? sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true)`
      : sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true), set_config('role', ${assumeRole}, true)`

  /** One transaction scoped to one workspace; SQL failures become StorageErrors. */
  const inWorkspace = <A, E, R>(
    workspaceId: string,
    entity: string,
    id: string,
    body: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, SqlError> | StorageError, R> =>
    sql.withTransaction(Effect.andThen(enterWorkspace(workspaceId), body)).pipe(
      Effect.mapError((error) =>
        isSqlError(error) ? toStorageError(entity, id, error) : error as Exclude<E, SqlError>
      ),
      // effect/sql turns a failed ROLLBACK or COMMIT cleanup into a defect; when the connection is
      // gone (the usual reason) that is still just an unavailable database, so keep it typed.
      Effect.catchDefect((defect) =>
        isSqlError(defect) ? Effect.fail(toStorageError(entity, id, defect)) : Effect.die(defect)
      )
    )

  const single = <A>(
    rows: ReadonlyArray<DocRow>,
    decode: (row: DocRow) => Effect.Effect<A, StorageError>,
    entity: string,
    id: string
  ): Effect.Effect<A, StorageError> => rows[0] === undefined ? Effect.fail(StorageError.notFound(entity, id)) : decode(rows[0])

  const json = (value: unknown) => sql.json(value)

  // ---- workspaces

  const encodeWorkspace = encodeDoc(Workspace, "workspace")
  const decodeWorkspace = decodeRow(Workspace, "workspace")
  const workspace = WorkspaceRepo.of({
    upsert: Effect.fn("SqlWorkspaceRepo.upsert")(function*(value) {
      const doc = yield* encodeWorkspace(value, value.id)
      yield* inWorkspace(
        value.id,
        "workspace",
        value.id,
        sql`INSERT INTO spectral.workspaces (workspace_id, doc) VALUES (${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()`
      )
    }),
    get: Effect.fn("SqlWorkspaceRepo.get")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "workspace",
        workspaceId,
        sql<DocRow>`SELECT workspace_id AS id, doc FROM spectral.workspaces WHERE workspace_id = ${workspaceId}`
      )
      return yield* single(rows, decodeWorkspace, "workspace", workspaceId)
    })
  })

  // ---- scans, phase outputs, verdicts, divergences

  const encodeScan = encodeDoc(Scan, "scan")
  const decodeScan = decodeRow(Scan, "scan")
  const decodeScans = decodeRows(Scan, "scan")
  const encodeVerdict = encodeDoc(VerdictResult, "verdict")
  const decodeVerdict = decodeRow(VerdictResult, "verdict")
  const encodeDivergence = encodeDoc(RubricDivergenceRecord, "divergence")
  const decodeDivergence = decodeRow(RubricDivergenceRecord, "divergence")
  const decodePhaseOutput = Schema.decodeUnknownEffect(PhaseOutputRow)

  const scan = ScanRepo.of({
    insert: Effect.fn("SqlScanRepo.insert")(function*(value) {
      const doc = yield* encodeScan(value, value.id)
      const rows = yield* inWorkspace(
        value.workspaceId,
        "scan",
        value.id,
        sql`INSERT INTO spectral.scans (workspace_id, id, state, created_at, doc)
            VALUES (${value.workspaceId}, ${value.id}, ${value.state}, ${value.createdAt}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO NOTHING RETURNING id`
      )
      if (rows.length === 0) return yield* StorageError.conflict("scan", value.id, "already exists")
    }),
    update: Effect.fn("SqlScanRepo.update")(function*(value) {
      const doc = yield* encodeScan(value, value.id)
      const rows = yield* inWorkspace(
        value.workspaceId,
        "scan",
        value.id,
        sql`UPDATE spectral.scans
            SET state = ${value.state}, created_at = ${value.createdAt}, doc = ${json(doc)}, updated_at = now()
            WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} RETURNING id`
      )
      if (rows.length === 0) return yield* StorageError.notFound("scan", value.id)
    }),
    get: Effect.fn("SqlScanRepo.get")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "scan",
        scanId,
        sql<DocRow>`SELECT id, doc FROM spectral.scans WHERE workspace_id = ${workspaceId} AND id = ${scanId}`
      )
      return yield* single(rows, decodeScan, "scan", scanId)
    }),
    list: Effect.fn("SqlScanRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "scan",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.scans WHERE workspace_id = ${workspaceId}
                    ORDER BY created_at DESC, id DESC`
      )
      return yield* decodeScans(rows)
    }),
    savePhaseOutput: Effect.fn("SqlScanRepo.savePhaseOutput")(function*(workspaceId, scanId, phase, output) {
      yield* inWorkspace(
        workspaceId,
        "phase output",
        `${scanId}/${phase}`,
        sql`INSERT INTO spectral.scan_phase_outputs (workspace_id, scan_id, phase, output)
            VALUES (${workspaceId}, ${scanId}, ${phase}, ${json({ value: output })})
            ON CONFLICT (workspace_id, scan_id, phase) DO UPDATE SET output = EXCLUDED.output`
      )
    }),
    phaseOutputs: Effect.fn("SqlScanRepo.phaseOutputs")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "phase output",
        scanId,
        sql<{ readonly phase: string; readonly output: unknown }>`SELECT phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY seq`
      )
      const decoded = yield* Effect.forEach(rows, (row) =>
        decodePhaseOutput(row).pipe(
          Effect.mapError((error) => corrupt("phase output", `${scanId}/${row.phase}`, error.message))
        ))
      return new Map(decoded.map((row) => [row.phase, row.output.value] as const))
    }),
    saveVerdict: Effect.fn("SqlScanRepo.saveVerdict")(function*(value) {
      const doc = yield* encodeVerdict(value, value.scanId)
      yield* inWorkspace(
        value.workspaceId,
        "verdict",
        value.scanId,
        sql`INSERT INTO spectral.verdicts (workspace_id, scan_id, id, doc)
            VALUES (${value.workspaceId}, ${value.scanId}, ${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id, scan_id) DO UPDATE SET id = EXCLUDED.id, doc = EXCLUDED.doc`
      )
    }),
    verdict: Effect.fn("SqlScanRepo.verdict")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "verdict",
        scanId,
        sql<DocRow>`SELECT scan_id AS id, doc FROM spectral.verdicts WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId}`
      )
      return yield* single(rows, decodeVerdict, "verdict", scanId)
    }),
    saveDivergence: Effect.fn("SqlScanRepo.saveDivergence")(function*(value) {
      const doc = yield* encodeDivergence(value, value.scanId)
      yield* inWorkspace(
        value.workspaceId,
        "divergence",
        value.scanId,
        sql`INSERT INTO spectral.rubric_divergences (workspace_id, scan_id, id, doc)
            VALUES (${value.workspaceId}, ${value.scanId}, ${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id, scan_id) DO UPDATE SET id = EXCLUDED.id, doc = EXCLUDED.doc`
      )
    }),
    divergence: Effect.fn("SqlScanRepo.divergence")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "divergence",
        scanId,
        sql<DocRow>`SELECT scan_id AS id, doc FROM spectral.rubric_divergences
                    WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId}`
      )
      return yield* single(rows, decodeDivergence, "divergence", scanId)
    })
  })

  // ---- per-scan rows: traces, results, clusters (idempotent on id)

  const scanRows = <A extends { readonly id: string; readonly scanId: string; readonly workspaceId: string }>(
    table: "scan_traces" | "eval_results" | "failure_clusters",
    schema: Codec<A>,
    entity: string
  ) => {
    const encode = encodeDoc(schema, entity)
    const decode = decodeRows(schema, entity)
    const insert = (workspaceId: string, rows: ReadonlyArray<A>) =>
      Effect.gen(function*() {
        if (rows.length === 0) return
        yield* checkWorkspace(entity, workspaceId, rows)
        const docs = yield* Effect.forEach(rows, (row) => encode(row, row.id))
        yield* inWorkspace(
          workspaceId,
          entity,
          rows[0]!.id,
          Effect.forEach(
            chunks(docs, batchSize),
            (batch) =>
              sql`INSERT INTO ${sql(`spectral.${table}`)} (workspace_id, id, scan_id, doc)
                  SELECT ${workspaceId}, d->>'id', d->>'scanId', d
                  FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                  ON CONFLICT (workspace_id, id) DO NOTHING`,
            { discard: true }
          )
        )
      })
    const list = (workspaceId: string, scanId: string) =>
      Effect.flatMap(
        inWorkspace(
          workspaceId,
          entity,
          scanId,
          sql<DocRow>`SELECT id, doc FROM ${sql(`spectral.${table}`)}
                      WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY seq`
        ),
        decode
      )
    return { insert, list }
  }

  const scanTraces = scanRows("scan_traces", ScanTrace, "scan trace")
  const evalResults = scanRows("eval_results", EvalResult, "eval result")
  const clusters = scanRows("failure_clusters", FailureCluster, "failure cluster")

  const scanTrace = ScanTraceRepo.of({
    insertTraces: Effect.fn("SqlScanTraceRepo.insertTraces")(scanTraces.insert),
    insertResults: Effect.fn("SqlScanTraceRepo.insertResults")(evalResults.insert),
    traces: Effect.fn("SqlScanTraceRepo.traces")(scanTraces.list),
    results: Effect.fn("SqlScanTraceRepo.results")(evalResults.list)
  })

  const cluster = FailureClusterRepo.of({
    insert: Effect.fn("SqlFailureClusterRepo.insert")(clusters.insert),
    list: Effect.fn("SqlFailureClusterRepo.list")(clusters.list)
  })

  // ---- change sets (compare-and-set on status) and their append-only audit

  const encodeChangeSet = encodeDoc(ChangeSet, "change set")
  const decodeChangeSet = decodeRow(ChangeSet, "change set")
  const decodeChangeSets = decodeRows(ChangeSet, "change set")
  const encodeAudit = encodeDoc(AuditEntry, "change set audit")
  const decodeAudit = decodeRows(AuditEntry, "change set audit")

  const changeSet = ChangeSetRepo.of({
    insert: Effect.fn("SqlChangeSetRepo.insert")(function*(value) {
      const doc = yield* encodeChangeSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "change set",
        value.id,
        Effect.gen(function*() {
          const inserted = yield* sql`INSERT INTO spectral.change_sets (workspace_id, id, version, status, scan_id, created_at, doc)
              VALUES (${value.workspaceId}, ${value.id}, ${value.version}, ${value.status}, ${value.scanId},
                      ${value.createdAt}, ${json(doc)})
              ON CONFLICT DO NOTHING RETURNING id`
          if (inserted.length > 0) return
          const existing = yield* sql`SELECT 1 FROM spectral.change_sets WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`
          return yield* existing.length > 0
            ? StorageError.conflict("change set", value.id, "already exists")
            : StorageError.conflict("change set", value.id, `version ${value.version} already exists`)
        })
      )
    }),
    update: Effect.fn("SqlChangeSetRepo.update")(function*(value, expected) {
      const doc = yield* encodeChangeSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "change set",
        value.id,
        Effect.gen(function*() {
          const updated = yield* sql`UPDATE spectral.change_sets
              SET version = ${value.version}, status = ${value.status}, scan_id = ${value.scanId},
                  created_at = ${value.createdAt}, doc = ${json(doc)}, updated_at = now()
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} AND status = ${expected}
              RETURNING id`
          if (updated.length > 0) return
          const stored = yield* sql<{ readonly status: string }>`SELECT status FROM spectral.change_sets
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`
          return yield* stored[0] === undefined
            ? StorageError.notFound("change set", value.id)
            : StorageError.conflict("change set", value.id, `status is ${stored[0].status}, expected ${expected}`)
        })
      )
    }),
    get: Effect.fn("SqlChangeSetRepo.get")(function*(workspaceId, changeSetId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set",
        changeSetId,
        sql<DocRow>`SELECT id, doc FROM spectral.change_sets WHERE workspace_id = ${workspaceId} AND id = ${changeSetId}`
      )
      return yield* single(rows, decodeChangeSet, "change set", changeSetId)
    }),
    list: Effect.fn("SqlChangeSetRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.change_sets WHERE workspace_id = ${workspaceId} ORDER BY version DESC`
      )
      return yield* decodeChangeSets(rows)
    }),
    appendAudit: Effect.fn("SqlChangeSetRepo.appendAudit")(function*(entry: ChangeSetAuditEntry) {
      const doc = yield* encodeAudit(entry, entry.id)
      yield* inWorkspace(
        entry.workspaceId,
        "change set audit",
        entry.id,
        sql`INSERT INTO spectral.change_set_audit (workspace_id, id, change_set_id, doc)
            VALUES (${entry.workspaceId}, ${entry.id}, ${entry.changeSetId}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO NOTHING`
      )
    }),
    audit: Effect.fn("SqlChangeSetRepo.audit")(function*(workspaceId, changeSetId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set audit",
        changeSetId,
        sql<DocRow>`SELECT id, doc FROM spectral.change_set_audit
                    WHERE workspace_id = ${workspaceId} AND change_set_id = ${changeSetId} ORDER BY seq`
      )
      return yield* decodeAudit(rows)
    })
  })

  // ---- samples and sample sets

  const encodeSample = encodeDoc(Sample, "sample")
  const decodeSamples = decodeRows(Sample, "sample")
  const encodeSampleSet = encodeDoc(SampleSet, "sample set")
  const decodeSampleSets = decodeRows(SampleSet, "sample set")

  const sample = SampleRepo.of({
    upsertSamples: Effect.fn("SqlSampleRepo.upsertSamples")(function*(workspaceId, rows) {
      if (rows.length === 0) return
      yield* checkWorkspace("sample", workspaceId, rows)
      const docs = yield* Effect.forEach(dedupeById(rows), (row) => encodeSample(row, row.id))
      yield* inWorkspace(
        workspaceId,
        "sample",
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.samples (workspace_id, id, state, doc)
                SELECT ${workspaceId}, d->>'id', d->>'state', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, id) DO UPDATE SET state = EXCLUDED.state, doc = EXCLUDED.doc`,
          { discard: true }
        )
      )
    }),
    samples: Effect.fn("SqlSampleRepo.samples")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "sample",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.samples WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeSamples(rows)
    }),
    insertSampleSet: Effect.fn("SqlSampleRepo.insertSampleSet")(function*(value) {
      const doc = yield* encodeSampleSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "sample set",
        value.id,
        sql`INSERT INTO spectral.sample_sets (workspace_id, id, version, doc)
            VALUES (${value.workspaceId}, ${value.id}, ${value.version}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO UPDATE SET version = EXCLUDED.version, doc = EXCLUDED.doc`
      )
    }),
    sampleSets: Effect.fn("SqlSampleRepo.sampleSets")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "sample set",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.sample_sets WHERE workspace_id = ${workspaceId}
                    ORDER BY version DESC, seq`
      )
      return yield* decodeSampleSets(rows)
    })
  })

  // ---- raw traces (append-only, idempotent on traceId + spanId)

  const encodeTrace = encodeDoc(Trace, "trace")
  const decodeTraces = decodeRows(Trace, "trace")

  const trace = TraceRepo.of({
    append: Effect.fn("SqlTraceRepo.append")(function*(workspaceId, rows) {
      if (rows.length === 0) return 0
      yield* checkWorkspace("trace", workspaceId, rows)
      const docs = yield* Effect.forEach(rows, (row) => encodeTrace(row, row.id))
      const inserted = yield* inWorkspace(
        workspaceId,
        "trace",
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.traces (workspace_id, trace_id, span_id, id, doc)
                SELECT ${workspaceId}, d->>'traceId', d->>'spanId', d->>'id', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, trace_id, span_id) DO NOTHING RETURNING 1`
        )
      )
      return inserted.reduce((total, batch) => total + batch.length, 0)
    }),
    list: Effect.fn("SqlTraceRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "trace",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.traces WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeTraces(rows)
    })
  })

  // ---- retention: records per raw trace, the audited transition log, policies, legal holds

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

  const retention = RetentionRepo.of({
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
    })
  })

  // ---- ingest keys (hash only); the lookup by hash is the one read that does not know its workspace

  const encodeKey = encodeDoc(IngestKeyDoc, "ingest key")
  const decodeKey = decodeRow(IngestKeyDoc, "ingest key")

  const ingestKey = IngestKeyRepo.of({
    save: Effect.fn("SqlIngestKeyRepo.save")(function*(key) {
      const doc = yield* encodeKey(key, key.label)
      yield* inWorkspace(
        key.workspaceId,
        "ingest key",
        key.label,
        sql`INSERT INTO spectral.ingest_keys (key_hash, workspace_id, doc)
            VALUES (${key.keyHash}, ${key.workspaceId}, ${json(doc)})
            ON CONFLICT (key_hash) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    findByHash: Effect.fn("SqlIngestKeyRepo.findByHash")(function*(keyHash) {
      const rows = yield* sql.withTransaction(
        Effect.andThen(
          assumeRole === undefined
            ? sql`SELECT set_config('spectral.ingest_key_hash', ${keyHash}, true)`
            : sql`SELECT set_config('spectral.ingest_key_hash', ${keyHash}, true), set_config('role', ${assumeRole}, true)`,
          sql<DocRow>`SELECT 'hash' AS id, doc FROM spectral.ingest_keys WHERE key_hash = ${keyHash}`
        )
      ).pipe(
        Effect.mapError((error) => toStorageError("ingest key", "(hash)", error)),
        Effect.catchDefect((defect) =>
          isSqlError(defect) ? Effect.fail(toStorageError("ingest key", "(hash)", defect)) : Effect.die(defect)
        )
      )
      return yield* single(rows, decodeKey, "ingest key", "(hash)")
    })
  })

  return { workspace, scan, scanTrace, cluster, changeSet, sample, trace, retention, ingestKey }
})

/** The repositories as a context (what every storage layer provides). */
export const repositoriesContext = (s: Effect.Success<ReturnType<typeof makeSqlStorage>>) =>
  Context.make(WorkspaceRepo, s.workspace).pipe(
    Context.add(ScanRepo, s.scan),
    Context.add(ScanTraceRepo, s.scanTrace),
    Context.add(FailureClusterRepo, s.cluster),
    Context.add(ChangeSetRepo, s.changeSet),
    Context.add(SampleRepo, s.sample),
    Context.add(TraceRepo, s.trace),
    Context.add(RetentionRepo, s.retention),
    Context.add(IngestKeyRepo, s.ingestKey)
  )

/** Every repository port on the PgClient in context (migrations must have run). */
export const SqlStorage = {
  layerNoDeps: (options: SqlStorageOptions = {}): Layer.Layer<Repositories, never, PgClient.PgClient> =>
    Layer.effectContext(Effect.map(makeSqlStorage(options), repositoriesContext))
}
