/**
 * Migration 7: `spectral.api_keys`, the host API's per-workspace keys (scoped read / write / admin),
 * stored only as SHA-256 hashes, with the same row-level security as every workspace table (empty
 * workspace id refused) and, like ingest keys, a second read-only policy: a transaction that names a
 * key's hash in `spectral.api_key_hash` may read that one key without knowing its workspace (the
 * lookup that tells the API which workspace a request runs in). Knowing the hash is the capability.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["api_keys"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = []

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    `CREATE TABLE spectral.api_keys (
      key_hash text COLLATE "C" PRIMARY KEY,
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      doc jsonb NOT NULL
    )`,
    `CREATE INDEX api_keys_by_workspace ON spectral.api_keys (workspace_id, seq)`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ]),
    `CREATE POLICY api_key_lookup ON spectral.api_keys FOR SELECT
      USING (key_hash = NULLIF(current_setting('spectral.api_key_hash', true), ''))`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
