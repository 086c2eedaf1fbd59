/**
 * The row-level-security probe, written once and run on each SQL backend: every workspace-scoped
 * table × select / insert / update / delete × own workspace / other workspace / no workspace set,
 * through raw SQL as the engine's role (`spectral_app`), plus a catalog check of the role and of
 * the tables' RLS flags. Other workspace → 0 rows or SQLSTATE 42501; no workspace, or the empty id
 * (what a reused connection reads back) → 0 rows (writes refused). Dropping any one policy makes that table's probe fail (the own-workspace cells).
 */
import { expect, layer } from "@effect/vitest"
import type { PgClient } from "@effect/sql-pg"
import { Context, Effect, type Layer } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { appendOnlyTables, appRole, workspaceTables } from "../../src/storage/internal/Migrations.ts"
import { sqlState } from "../../src/storage/internal/SqlFailure.ts"
import { freshWorkspaceId } from "./fixtures.ts"

/** Transactions as the app role, with the workspace set for the transaction (or not set at all). */
export class AppSession extends Context.Service<AppSession, {
  readonly run: <A>(
    workspaceId: string | undefined,
    f: (sql: PgClient.PgClient) => Effect.Effect<A, SqlError>
  ) => Effect.Effect<A, SqlError>
}>()("@spectral/adapters/test/storage/AppSession") {
  /** `client`'s session is the app role itself (a server connection, or the embedded store's session). */
  static readonly connected = (client: PgClient.PgClient) =>
    AppSession.of({
      run: (workspaceId, f) =>
        client.withTransaction(
          Effect.andThen(
            workspaceId === undefined ? Effect.void : Effect.asVoid(client`SELECT set_config('spectral.workspace_id', ${workspaceId}, true)`),
            f(client)
          )
        )
    })
}

type Column = readonly [name: string, type: string, value: unknown]

interface TableSpec {
  readonly table: (typeof workspaceTables)[number]
  /** The column that picks a probe row out (for `workspaces`, the workspace id itself). */
  readonly key: string
  /** The JSONB column an update changes. */
  readonly json: string
  /** Columns of a new row besides workspace_id and the key. */
  readonly columns: (key: string) => ReadonlyArray<Column>
}

const doc: Column = ["doc", "jsonb", "{}"]
const scanRow = (key: string): ReadonlyArray<Column> => [["scan_id", "text", `scan-${key}`], doc]

const specs: ReadonlyArray<TableSpec> = [
  { table: "workspaces", key: "workspace_id", json: "doc", columns: () => [doc] },
  {
    table: "scans",
    key: "id",
    json: "doc",
    columns: () => [["state", "text", "scheduled"], ["created_at", "text", "2025-01-01T00:00:00.000Z"], doc]
  },
  { table: "scan_phase_outputs", key: "scan_id", json: "output", columns: () => [["phase", "text", "observe"], ["output", "jsonb", "{}"]] },
  {
    table: "scan_phase_parts",
    key: "scan_id",
    json: "items",
    columns: () => [["phase", "text", "observe"], ["part", "text", "baseline.runs"], ["chunk", "integer", 0], ["items", "jsonb", "{}"]]
  },
  { table: "scan_summaries", key: "scan_id", json: "doc", columns: () => [["settings", "text", "level=0.95;resamples=1999"], doc] },
  { table: "verdicts", key: "scan_id", json: "doc", columns: (key) => [["id", "text", `verdict-${key}`], doc] },
  { table: "rubric_divergences", key: "scan_id", json: "doc", columns: (key) => [["id", "text", `divergence-${key}`], doc] },
  { table: "scan_traces", key: "id", json: "doc", columns: scanRow },
  { table: "eval_results", key: "id", json: "doc", columns: scanRow },
  { table: "failure_clusters", key: "id", json: "doc", columns: scanRow },
  {
    table: "change_sets",
    key: "id",
    json: "doc",
    columns: (key) => [
      ["version", "integer", key.length],
      ["status", "text", "proposed"],
      ["scan_id", "text", "scan-1"],
      ["created_at", "text", "2025-01-01T00:00:00.000Z"],
      doc
    ]
  },
  { table: "change_set_audit", key: "id", json: "doc", columns: () => [["change_set_id", "text", "cs-1"], doc] },
  { table: "samples", key: "id", json: "doc", columns: () => [["state", "text", "active"], doc] },
  { table: "sample_sets", key: "id", json: "doc", columns: (key) => [["version", "integer", key.length], doc] },
  { table: "traces", key: "trace_id", json: "doc", columns: (key) => [["span_id", "text", "span-1"], ["id", "text", `${key}/span-1`], doc] },
  { table: "retention_records", key: "trace_id", json: "doc", columns: () => [["state", "text", "ACTIVE"], doc] },
  { table: "retention_events", key: "id", json: "doc", columns: () => [doc] },
  { table: "retention_policies", key: "entity", json: "doc", columns: () => [doc] },
  { table: "legal_holds", key: "id", json: "doc", columns: () => [doc] },
  { table: "ingest_keys", key: "key_hash", json: "doc", columns: () => [doc] },
  {
    table: "event_outbox",
    key: "id",
    json: "doc",
    columns: () => [["type", "text", "scan.completed"], ["version", "integer", 1], doc]
  },
  { table: "processed_events", key: "event_id", json: "doc", columns: () => [["subscriber", "text", "probe"], doc] },
  {
    table: "dead_letters",
    key: "id",
    json: "doc",
    columns: (key) => [
      ["event_id", "text", `event-${key}`],
      ["reason", "text", "unknown_type"],
      ["type", "text", "probe"],
      ["error", "text", "probe"],
      doc
    ]
  },
  { table: "response_cache", key: "key", json: "doc", columns: () => [doc] },
  { table: "template_proposals", key: "id", json: "doc", columns: () => [["agent_name", "text", "probe"], ["status", "text", "proposed"], doc] },
  { table: "workspace_secrets", key: "name", json: "doc", columns: () => [doc] },
  { table: "api_keys", key: "key_hash", json: "doc", columns: () => [doc] },
  { table: "evolution_evidence", key: "event_id", json: "doc", columns: () => [["pattern_id", "text", "probe/cluster/probe"], ["usable", "boolean", true], doc] },
  { table: "evolution_cursors", key: "consumer", json: "doc", columns: () => [["position", "bigint", 1], doc] }
]

type Outcome = { readonly rows: number } | { readonly sqlstate: string | undefined }

const outcome = <R>(effect: Effect.Effect<ReadonlyArray<unknown>, SqlError, R>): Effect.Effect<Outcome, never, R> =>
  Effect.match(effect, {
    onSuccess: (rows) => ({ rows: rows.length }),
    onFailure: (error) => ({ sqlstate: sqlState(error) })
  })

const refused: Outcome = { sqlstate: "42501" }
const rows = (n: number): Outcome => ({ rows: n })

const probeTable = (spec: TableSpec) =>
  Effect.gen(function*() {
    const session = yield* AppSession
    const a = freshWorkspaceId("rls-a")
    const b = freshWorkspaceId("rls-b")
    const keyIsWorkspace = spec.key === "workspace_id"
    const keyA = keyIsWorkspace ? a : `${spec.table}-a-${a}`
    const keyB = keyIsWorkspace ? b : `${spec.table}-b-${b}`
    const table = `spectral.${spec.table}`

    const insert = (workspaceId: string, key: string) => (sql: PgClient.PgClient) => {
      const columns: ReadonlyArray<Column> = [
        ["workspace_id", "text", workspaceId],
        ...(keyIsWorkspace ? [] : [[spec.key, "text", key] as const]),
        ...spec.columns(key)
      ]
      const placeholders = columns.map(([, type], i) => `$${i + 1}::${type}`).join(", ")
      return sql.unsafe(
        `INSERT INTO ${table} (${columns.map(([name]) => name).join(", ")}) VALUES (${placeholders}) RETURNING 1`,
        columns.map(([, , value]) => value)
      )
    }
    const selectKey = (key: string) => (sql: PgClient.PgClient) =>
      sql.unsafe(`SELECT ${spec.json}->'probed' AS probed FROM ${table} WHERE ${spec.key} = $1`, [key])
    const selectAll = (sql: PgClient.PgClient) => sql.unsafe(`SELECT 1 FROM ${table}`)
    const update = (key: string) => (sql: PgClient.PgClient) =>
      sql.unsafe(`UPDATE ${table} SET ${spec.json} = ${spec.json} || '{"probed": true}'::jsonb WHERE ${spec.key} = $1 RETURNING 1`, [key])
    const moveTo = (workspaceId: string, key: string) => (sql: PgClient.PgClient) =>
      sql.unsafe(`UPDATE ${table} SET workspace_id = $1 WHERE ${spec.key} = $2 RETURNING 1`, [workspaceId, key])
    const remove = (key: string) => (sql: PgClient.PgClient) =>
      sql.unsafe(`DELETE FROM ${table} WHERE ${spec.key} = $1 RETURNING 1`, [key])

    const as = (workspaceId: string | undefined, f: (sql: PgClient.PgClient) => Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
      outcome(session.run(workspaceId, f))

    const matrix = {
      insertOwn: yield* as(a, insert(a, keyA)),
      insertOwnB: yield* as(b, insert(b, keyB)),
      insertOther: yield* as(a, insert(b, keyIsWorkspace ? freshWorkspaceId("rls-c") : `${keyB}-2`)),
      insertUnset: yield* as(undefined, insert(a, keyIsWorkspace ? freshWorkspaceId("rls-d") : `${keyA}-2`)),
      // The empty id is what a reused connection reads back once any transaction set a workspace.
      insertEmpty: yield* as("", insert("", keyIsWorkspace ? "" : `${keyA}-empty`)),
      selectEmpty: yield* as("", selectAll),
      selectOwn: yield* as(a, selectKey(keyA)),
      selectOther: yield* as(a, selectKey(keyB)),
      selectEverythingOwn: yield* as(a, selectAll),
      selectUnset: yield* as(undefined, selectAll),
      updateOther: yield* as(a, update(keyB)),
      updateUnset: yield* as(undefined, update(keyA)),
      moveToOther: yield* as(a, moveTo(b, keyA)),
      updateOwn: yield* as(a, update(keyA)),
      deleteOther: yield* as(a, remove(keyB)),
      deleteUnset: yield* as(undefined, remove(keyA)),
      otherStillThere: yield* as(b, selectKey(keyB)),
      deleteOwn: yield* as(a, remove(keyA))
    }
    const otherUntouched = yield* session.run(b, selectKey(keyB))
    const appendOnly = appendOnlyTables.includes(spec.table)
    expect(matrix).toEqual({
      insertOwn: rows(1),
      insertOwnB: rows(1),
      insertOther: refused,
      insertUnset: refused,
      insertEmpty: refused,
      selectEmpty: rows(0),
      selectOwn: rows(1),
      selectOther: rows(0),
      selectEverythingOwn: rows(1),
      selectUnset: rows(0),
      // The audit is append-only: the app role has no UPDATE or DELETE at all.
      updateOther: appendOnly ? refused : rows(0),
      updateUnset: appendOnly ? refused : rows(0),
      moveToOther: refused,
      updateOwn: appendOnly ? refused : rows(1),
      deleteOther: appendOnly ? refused : rows(0),
      deleteUnset: appendOnly ? refused : rows(0),
      otherStillThere: rows(1),
      deleteOwn: appendOnly ? refused : rows(1)
    })
    expect(otherUntouched).toEqual([{ probed: null }])
  })

export const rlsProbe = <E>(backend: string, session: Layer.Layer<AppSession, E>) =>
  layer(session, { timeout: "120 seconds", excludeTestServices: true })(`row-level security: ${backend}`, (it) => {
    it.effect("every workspace-scoped table has a probe", () =>
      Effect.sync(() => expect(specs.map((spec) => spec.table).sort()).toEqual([...workspaceTables].sort())))

    for (const spec of specs) {
      it.effect(`${spec.table}: select/insert/update/delete × own/other/no workspace`, () => probeTable(spec))
    }

    const keyTables = [
      { table: "ingest_keys", setting: "spectral.ingest_key_hash", other: "spectral.api_key_hash" },
      { table: "api_keys", setting: "spectral.api_key_hash", other: "spectral.ingest_key_hash" }
    ] as const
    for (const { other, setting, table: keyTable } of keyTables) {
      it.effect(`${keyTable}: naming a hash in ${setting} reveals that one key (read only), whatever the workspace; ${other} does not`, () =>
        Effect.gen(function*() {
          const session = yield* AppSession
          const a = freshWorkspaceId("rls-a")
          const b = freshWorkspaceId("rls-b")
          const hashA = `hash-${a}`
          const table = `spectral.${keyTable}`
          yield* session.run(a, (sql) => sql`INSERT INTO ${sql(table)} (key_hash, workspace_id, doc) VALUES (${hashA}, ${a}, '{}')`)
          yield* session.run(b, (sql) => sql`INSERT INTO ${sql(table)} (key_hash, workspace_id, doc) VALUES (${`hash-${b}`}, ${b}, '{}')`)
          const lookup = <A>(hash: string, workspaceId: string | undefined, f: (sql: PgClient.PgClient) => Effect.Effect<A, SqlError>, name: string = setting) =>
            session.run(workspaceId, (sql) => Effect.andThen(sql`SELECT set_config(${name}, ${hash}, true)`, f(sql)))
          const everything = (sql: PgClient.PgClient) => sql<{ workspace_id: string }>`SELECT workspace_id FROM ${sql(table)}`
          expect(yield* lookup(hashA, undefined, everything)).toEqual([{ workspace_id: a }])
          expect(yield* lookup(hashA, undefined, everything, other)).toEqual([])
          expect(yield* lookup(hashA, b, (sql) => sql`SELECT 1 FROM ${sql(table)} WHERE workspace_id = ${a}`)).toHaveLength(1)
          expect(yield* lookup("hash-unknown", undefined, everything)).toEqual([])
          expect(yield* lookup(hashA, b, (sql) => sql`UPDATE ${sql(table)} SET doc = '{"x":1}' WHERE key_hash = ${hashA} RETURNING 1`)).toEqual([])
          expect(yield* lookup(hashA, b, (sql) => sql`DELETE FROM ${sql(table)} WHERE key_hash = ${hashA} RETURNING 1`)).toEqual([])
          expect(yield* lookup(hashA, undefined, (sql) => sql`SELECT doc FROM ${sql(table)}`)).toEqual([{ doc: {} }])
        }))
    }

    it.effect("event_outbox: the dispatcher's discovery function names workspaces with due events, nothing else", () =>
      Effect.gen(function*() {
        const session = yield* AppSession
        const a = freshWorkspaceId("rls-a")
        const b = freshWorkspaceId("rls-b")
        yield* session.run(a, (sql) =>
          sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc) VALUES (${a}, 'e-1', 'probe', 1, '{}')`)
        yield* session.run(b, (sql) =>
          sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc, delivered_at)
              VALUES (${b}, 'e-1', 'probe', 1, '{}', now())`)
        const found = yield* session.run(undefined, (sql) =>
          sql<{ w: string }>`SELECT w FROM spectral.workspaces_with_pending_events() AS w`)
        expect(found.map((row) => row.w)).toContain(a)
        expect(found.map((row) => row.w)).not.toContain(b)
        // The app role still reads no other workspace's outbox rows.
        expect(yield* session.run(b, (sql) => sql`SELECT 1 FROM spectral.event_outbox WHERE workspace_id = ${a}`)).toEqual([])
        expect(yield* session.run(undefined, (sql) => sql`SELECT 1 FROM spectral.event_outbox`)).toEqual([])
      }))

    it.effect("catalog: the engine's role is not superuser, has no BYPASSRLS, owns nothing; every table forces RLS", () =>
      Effect.gen(function*() {
        const session = yield* AppSession
        const facts = yield* session.run(undefined, (sql) =>
          Effect.all({
            role: sql<{ role: string; superuser: boolean; bypass: boolean }>`
              SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass
              FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`.withoutTransform,
            tables: sql<{ table: string; rls: boolean; forced: boolean; ownedByApp: boolean; policies: number }>`
              SELECT c.relname AS "table", c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') AS "ownedByApp",
                (SELECT count(*)::int FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) AS policies
              FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'spectral' AND c.relkind = 'r'
                AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
              ORDER BY c.relname`.withoutTransform,
            ownsAnything: sql<{ owns: boolean }>`
              SELECT EXISTS (
                SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'spectral' AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
              ) AS owns`.withoutTransform
          }))
        expect(facts.role).toEqual([{ role: appRole, superuser: false, bypass: false }])
        expect(facts.ownsAnything).toEqual([{ owns: false }])
        expect(facts.tables.map((t) => t.table)).toEqual([...workspaceTables].sort())
        for (const table of facts.tables) {
          // ingest_keys has a second, SELECT-only policy: the lookup by hash; event_outbox one for its
          // owner (the dispatcher's discovery function), which the app role is not a member of, and
          // retention_records and samples likewise (the lifecycle's discovery function, migration 5).
          const twoPolicies = ["ingest_keys", "event_outbox", "retention_records", "samples", "api_keys"]
          const policies = twoPolicies.includes(table.table) ? 2 : 1
          expect(table, table.table).toEqual({ table: table.table, rls: true, forced: true, ownedByApp: false, policies })
        }
      }))
  })
