/**
 * Migration 10, for the scan history: `scans.header`, a column Postgres computes from the scan's
 * document on every write (its `ScanHeader` fields: ids, state, attribution, verdict, blended score,
 * times; an absent one as JSON null), so listing completed scans reads none of the rest of the
 * document; and `scan_summaries` (workspace-scoped, append-only): the supervisor's summary of a
 * completed scan (`ScanSummary`: per agent its baseline score with a bootstrap interval), keyed by
 * (workspace, scan, settings) where `settings` names the interval level and resample count it was
 * computed with. A completed scan's rows never change, so its summary is computed once and read
 * back by the scan history instead of re-reading the scan's traces and results. Row-level security
 * like every workspace table; the app role may read and insert only.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["scan_summaries"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = ["scan_summaries"]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    // jsonb_build_object is only STABLE (it formats "any"); over jsonb values it is a pure function of the document.
    `CREATE FUNCTION spectral.scan_header(doc jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT jsonb_build_object(
        'id', doc->'id', 'workspaceId', doc->'workspaceId', 'state', doc->'state',
        'attribution', doc->'attribution', 'verdict', doc->'verdict', 'blendedScore', doc->'blendedScore',
        'createdAt', doc->'createdAt', 'updatedAt', doc->'updatedAt')
    $$`,
    `REVOKE ALL ON FUNCTION spectral.scan_header(jsonb) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION spectral.scan_header(jsonb) TO spectral_app`,
    `ALTER TABLE spectral.scans ADD COLUMN header jsonb GENERATED ALWAYS AS (spectral.scan_header(doc)) STORED`,
    `CREATE TABLE spectral.scan_summaries (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      scan_id text COLLATE "C" NOT NULL,
      settings text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, settings, scan_id)
    )`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`,
      appendOnlyTables.includes(table)
        ? `GRANT SELECT, INSERT ON spectral.${table} TO spectral_app`
        : `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ])
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
