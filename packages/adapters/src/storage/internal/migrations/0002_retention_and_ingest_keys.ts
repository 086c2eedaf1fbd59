/**
 * Migration 2: retention (records per raw trace, the audited transition log, policies, legal holds)
 * and OTLP ingest keys (stored only as hashes), with the same row-level security as migration 1.
 * Ingest keys have a second, read-only policy: a transaction that names a key's hash in
 * `spectral.ingest_key_hash` may read that one key without knowing its workspace (the lookup that
 * tells the receiver which workspace a request belongs to). Knowing the hash is the capability.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = [
  "retention_records",
  "retention_events",
  "retention_policies",
  "legal_holds",
  "ingest_keys"
] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = ["retention_events"]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const isolation = `USING (workspace_id = current_setting('spectral.workspace_id', true))
        WITH CHECK (workspace_id = current_setting('spectral.workspace_id', true))`
  const statements = [
    `CREATE TABLE spectral.retention_records (
      workspace_id text COLLATE "C" NOT NULL,
      trace_id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      state text NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, trace_id)
    )`,
    `CREATE INDEX retention_records_in_order ON spectral.retention_records (workspace_id, seq)`,
    `CREATE TABLE spectral.retention_events (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX retention_events_in_order ON spectral.retention_events (workspace_id, seq)`,
    `CREATE TABLE spectral.retention_policies (
      workspace_id text COLLATE "C" NOT NULL,
      entity text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, entity)
    )`,
    `CREATE TABLE spectral.legal_holds (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE TABLE spectral.ingest_keys (
      key_hash text COLLATE "C" PRIMARY KEY,
      workspace_id text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL
    )`,
    `CREATE INDEX ingest_keys_by_workspace ON spectral.ingest_keys (workspace_id)`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} ${isolation}`,
      appendOnlyTables.includes(table)
        ? `GRANT SELECT, INSERT ON spectral.${table} TO spectral_app`
        : `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ]),
    `CREATE POLICY ingest_key_lookup ON spectral.ingest_keys FOR SELECT
      USING (key_hash = current_setting('spectral.ingest_key_hash', true))`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
