/**
 * Migration 7: what the scheduled data lifecycle needs.
 * - `sample_sets` keeps every version of a sample set: its key becomes (workspace, id, version), so
 *   storing version 2 no longer overwrites version 1 (a change set names the version it was
 *   measured on, which must still be there).
 * - `template_proposals`: prompt-template drafts inferred from ingested traces, stored as proposals
 *   awaiting a person's decision (never applied without one), with the same row-level security as
 *   every workspace table (empty workspace id refused, as migration 4 made the rule).
 * - `spectral.workspaces_to_sweep()`: the retention sweep must find every workspace with work
 *   (a trace not yet tombstoned, a sample not yet archived) after a restart, which row-level
 *   security hides from the app role. Like the dispatcher's discovery function (migration 3), it is
 *   SECURITY DEFINER, owned by the migrating role (which alone may read those two tables across
 *   workspaces, through the `lifecycle_discovery` policies), and returns workspace ids only.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["template_proposals"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = []

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    `ALTER TABLE spectral.sample_sets DROP CONSTRAINT sample_sets_pkey`,
    `ALTER TABLE spectral.sample_sets ADD PRIMARY KEY (workspace_id, id, version)`,
    `CREATE TABLE spectral.template_proposals (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      agent_name text COLLATE "C" NOT NULL,
      status text NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX template_proposals_in_order ON spectral.template_proposals (workspace_id, seq)`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ]),
    `CREATE POLICY lifecycle_discovery ON spectral.retention_records FOR SELECT TO CURRENT_USER USING (true)`,
    `CREATE POLICY lifecycle_discovery ON spectral.samples FOR SELECT TO CURRENT_USER USING (true)`,
    `CREATE FUNCTION spectral.workspaces_to_sweep() RETURNS SETOF text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT workspace_id FROM spectral.retention_records WHERE state <> 'TOMBSTONED' AND workspace_id <> ''
            UNION
            SELECT workspace_id FROM spectral.samples WHERE state <> 'archived' AND workspace_id <> '' $$`,
    `REVOKE ALL ON FUNCTION spectral.workspaces_to_sweep() FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION spectral.workspaces_to_sweep() TO spectral_app`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
