/**
 * Migration 6: `spectral.workspace_secrets`, a workspace's own provider credentials, stored only as
 * AEAD ciphertext (AES-256-GCM with the workspace id and the secret's name as associated data; the
 * engine's `secrets/` module seals and opens them), with the same row-level security as every
 * workspace table (empty workspace id refused, as migration 4 made the rule). No column holds a
 * plaintext, and no function reads the table across workspaces.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["workspace_secrets"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = []

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    `CREATE TABLE spectral.workspace_secrets (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      name text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      PRIMARY KEY (workspace_id, name)
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
