/**
 * IngestKeyRepo on SQL: ingest keys by hash only (`spectral.ingest_keys`). The lookup by hash is the
 * one read that does not know its workspace: it runs under `spectral.ingest_key_hash` instead, which
 * the table's row-level security policy admits.
 */
import { IngestKeyRepo } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { Effect, Schema } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import { toStorageError } from "../SqlFailure.ts"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const IngestKeyDoc = Schema.Struct({
  workspaceId: WorkspaceId,
  keyHash: Schema.String,
  label: Schema.String,
  createdAt: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String)
})

export const makeSqlIngestKeyRepo = ({ assumeRole, inWorkspace, json, single, sql }: SqlRepoContext): IngestKeyRepo["Service"] => {
  const encodeKey = encodeDoc(IngestKeyDoc, "ingest key")
  const decodeKey = decodeRow(IngestKeyDoc, "ingest key")
  const decodeKeys = decodeRows(IngestKeyDoc, "ingest key")

  return IngestKeyRepo.of({
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
    }),
    list: Effect.fn("SqlIngestKeyRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "ingest key",
        "(list)",
        sql<DocRow>`SELECT key_hash AS id, doc FROM spectral.ingest_keys WHERE workspace_id = ${workspaceId} ORDER BY doc->>'createdAt', key_hash`
      )
      return yield* decodeKeys(rows)
    })
  })
}
