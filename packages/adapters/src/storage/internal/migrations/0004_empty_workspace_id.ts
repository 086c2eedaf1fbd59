/**
 * Migration 4: the empty workspace id names no workspace. A connection that once set
 * `spectral.workspace_id` (even transaction-locally) reads it back as '' afterwards, not as unset,
 * so an isolation policy comparing against the raw setting let a reused connection with no
 * workspace set see and write rows whose `workspace_id` is ''. Every isolation policy now compares
 * against `NULLIF(setting, '')` (no workspace set, or an empty one, matches nothing), every
 * workspace-scoped table refuses new rows with an empty `workspace_id` (NOT VALID: rows already
 * there are not checked, and no policy shows them), the ingest-key lookup likewise ignores an empty
 * hash, and the dispatcher's discovery function never names the empty id.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import * as WorkspaceTables0001 from "./0001_workspace_tables.ts"
import * as RetentionAndIngestKeys0002 from "./0002_retention_and_ingest_keys.ts"
import * as EventsAndResponseCache0003 from "./0003_events_and_response_cache.ts"

/** The tables it changes: every workspace-scoped table so far (it adds none). */
const tables: ReadonlyArray<string> = [
  ...WorkspaceTables0001.workspaceTables,
  ...RetentionAndIngestKeys0002.workspaceTables,
  ...EventsAndResponseCache0003.workspaceTables
]

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    ...tables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ADD CONSTRAINT ${table}_workspace_id_not_empty CHECK (workspace_id <> '') NOT VALID`,
      `ALTER POLICY workspace_isolation ON spectral.${table}
        USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`
    ]),
    `ALTER POLICY ingest_key_lookup ON spectral.ingest_keys
      USING (key_hash = NULLIF(current_setting('spectral.ingest_key_hash', true), ''))`,
    `CREATE OR REPLACE FUNCTION spectral.workspaces_with_pending_events() RETURNS SETOF text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT DISTINCT workspace_id FROM spectral.event_outbox
            WHERE delivered_at IS NULL AND next_attempt_at <= now() AND workspace_id <> '' $$`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
