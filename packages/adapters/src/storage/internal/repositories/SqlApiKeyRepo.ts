/**
 * ApiKeyRepo on SQL: host API keys by hash only (`spectral.api_keys`, migration 7). The lookup by
 * hash is the one read that does not know its workspace: it runs under `spectral.api_key_hash`
 * instead, which the table's row-level security policy admits. Everything else runs in the key's
 * workspace.
 */
import { ApiKeyRepo } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { Effect, Schema } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import { toStorageError } from "../SqlFailure.ts"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const ApiKeyDoc = Schema.Struct({
  workspaceId: WorkspaceId,
  keyHash: Schema.String,
  scope: Schema.Literals(["read", "write", "admin"]),
  label: Schema.String,
  createdAt: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String)
})

export const makeSqlApiKeyRepo = ({ assumeRole, inWorkspace, json, single, sql }: SqlRepoContext): ApiKeyRepo["Service"] => {
  const encodeKey = encodeDoc(ApiKeyDoc, "api key")
  const decodeKey = decodeRow(ApiKeyDoc, "api key")
  const decodeKeys = decodeRows(ApiKeyDoc, "api key")

  return ApiKeyRepo.of({
    save: Effect.fn("SqlApiKeyRepo.save")(function*(key) {
      const doc = yield* encodeKey(key, key.label)
      yield* inWorkspace(
        key.workspaceId,
        "api key",
        key.label,
        sql`INSERT INTO spectral.api_keys (key_hash, workspace_id, doc)
            VALUES (${key.keyHash}, ${key.workspaceId}, ${json(doc)})
            ON CONFLICT (key_hash) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    findByHash: Effect.fn("SqlApiKeyRepo.findByHash")(function*(keyHash) {
      const rows = yield* sql.withTransaction(
        Effect.andThen(
          assumeRole === undefined
            ? sql`SELECT set_config('spectral.api_key_hash', ${keyHash}, true)`
            : sql`SELECT set_config('spectral.api_key_hash', ${keyHash}, true), set_config('role', ${assumeRole}, true)`,
          sql<DocRow>`SELECT 'hash' AS id, doc FROM spectral.api_keys WHERE key_hash = ${keyHash}`
        )
      ).pipe(
        Effect.mapError((error) => toStorageError("api key", "(hash)", error)),
        Effect.catchDefect((defect) =>
          isSqlError(defect) ? Effect.fail(toStorageError("api key", "(hash)", defect)) : Effect.die(defect)
        )
      )
      return yield* single(rows, decodeKey, "api key", "(hash)")
    }),
    list: Effect.fn("SqlApiKeyRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "api key",
        "(list)",
        sql<DocRow>`SELECT key_hash AS id, doc FROM spectral.api_keys WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeKeys(rows)
    })
  })
}
