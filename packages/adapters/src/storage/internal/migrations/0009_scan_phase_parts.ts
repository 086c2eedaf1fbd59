/**
 * Migration 9: `scan_phase_parts` (workspace-scoped): the large arrays of a saved phase output (the
 * eval set's samples, each arm's runs: `PhaseOutputParts` in the engine's contracts), stored apart
 * from its `scan_phase_outputs` row in chunks of at most 1,000 items, keyed by (workspace, scan,
 * phase, part, chunk), so no single jsonb value grows with the eval set (Postgres refuses one over
 * 256 MB). The row keeps a reference in each part's place; rewriting a phase output replaces its
 * chunks. Row-level security like every workspace table.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["scan_phase_parts"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = []

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    `CREATE TABLE spectral.scan_phase_parts (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      scan_id text COLLATE "C" NOT NULL,
      phase text NOT NULL,
      part text COLLATE "C" NOT NULL,
      chunk integer NOT NULL CHECK (chunk >= 0),
      items jsonb NOT NULL,
      PRIMARY KEY (workspace_id, scan_id, phase, part, chunk)
    )`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ])
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
