/**
 * Migration 1: the `spectral` schema's workspace-scoped tables, their indexes, row-level security
 * (enabled and forced, one policy per table) and the `spectral_app` role with the DML it needs.
 * Runs as the owner of the schema; the role it creates (NOLOGIN) is what the engine connects as
 * once a host grants it LOGIN and a password.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Tables whose rows belong to one workspace; each gets RLS and the isolation policy. */
export const workspaceTables = [
  "workspaces",
  "scans",
  "scan_phase_outputs",
  "verdicts",
  "rubric_divergences",
  "scan_traces",
  "eval_results",
  "failure_clusters",
  "change_sets",
  "change_set_audit",
  "samples",
  "sample_sets",
  "traces"
] as const

/** Append-only tables: the app role may read and insert, never update or delete. */
export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = ["change_set_audit"]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const statements = [
    // Text keys sort byte-wise (COLLATE "C") so ordering does not depend on the server's locale.
    `CREATE TABLE spectral.workspaces (
      workspace_id text COLLATE "C" PRIMARY KEY,
      doc jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE spectral.scans (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      state text NOT NULL,
      created_at text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX scans_newest_first ON spectral.scans (workspace_id, created_at DESC, id DESC)`,
    `CREATE TABLE spectral.scan_phase_outputs (
      workspace_id text COLLATE "C" NOT NULL,
      scan_id text COLLATE "C" NOT NULL,
      phase text NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      output jsonb NOT NULL,
      PRIMARY KEY (workspace_id, scan_id, phase)
    )`,
    `CREATE TABLE spectral.verdicts (
      workspace_id text COLLATE "C" NOT NULL,
      scan_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, scan_id)
    )`,
    `CREATE TABLE spectral.rubric_divergences (
      workspace_id text COLLATE "C" NOT NULL,
      scan_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, scan_id)
    )`,
    ...["scan_traces", "eval_results", "failure_clusters"].flatMap((table) => [
      `CREATE TABLE spectral.${table} (
        workspace_id text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        scan_id text COLLATE "C" NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        doc jsonb NOT NULL,
        PRIMARY KEY (workspace_id, id)
      )`,
      `CREATE INDEX ${table}_by_scan ON spectral.${table} (workspace_id, scan_id, seq)`
    ]),
    `CREATE TABLE spectral.change_sets (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      version integer NOT NULL,
      status text NOT NULL,
      scan_id text COLLATE "C" NOT NULL,
      created_at text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id),
      CONSTRAINT change_sets_version_unique UNIQUE (workspace_id, version)
    )`,
    `CREATE TABLE spectral.change_set_audit (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      change_set_id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX change_set_audit_by_change_set ON spectral.change_set_audit (workspace_id, change_set_id, seq)`,
    `CREATE TABLE spectral.samples (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      state text NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX samples_in_order ON spectral.samples (workspace_id, seq)`,
    `CREATE TABLE spectral.sample_sets (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      version integer NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX sample_sets_newest_first ON spectral.sample_sets (workspace_id, version DESC, seq)`,
    `CREATE TABLE spectral.traces (
      workspace_id text COLLATE "C" NOT NULL,
      trace_id text COLLATE "C" NOT NULL,
      span_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, trace_id, span_id)
    )`,
    `CREATE INDEX traces_in_order ON spectral.traces (workspace_id, seq)`,
    // The role the engine connects as. A host may create it first (with LOGIN and a password);
    // otherwise it is created here without LOGIN and the host grants LOGIN afterwards.
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spectral_app') THEN
        CREATE ROLE spectral_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
      END IF;
    END $$`,
    `GRANT USAGE ON SCHEMA spectral TO spectral_app`,
    `GRANT SELECT ON spectral.migrations TO spectral_app`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table}
        USING (workspace_id = current_setting('spectral.workspace_id', true))
        WITH CHECK (workspace_id = current_setting('spectral.workspace_id', true))`,
      appendOnlyTables.includes(table)
        ? `GRANT SELECT, INSERT ON spectral.${table} TO spectral_app`
        : `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ])
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
