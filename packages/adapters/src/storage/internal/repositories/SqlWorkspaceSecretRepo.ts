/**
 * WorkspaceSecretRepo on SQL: sealed workspace secrets (`spectral.workspace_secrets`, migration 6),
 * one row per (workspace, name), replaced on put. Holds ciphertext only; sealing and opening are the
 * engine's (`secrets/`).
 */
import { StorageError, WorkspaceSecretRepo } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { Effect, Schema } from "effect"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const entity = "workspace secret"

const SecretDoc = Schema.Struct({
  workspaceId: WorkspaceId,
  name: Schema.String,
  kekFingerprint: Schema.String,
  iv: Schema.String,
  ciphertext: Schema.String,
  tag: Schema.String,
  createdAt: Schema.String,
  rotatedAt: Schema.optionalKey(Schema.String)
})

export const makeSqlWorkspaceSecretRepo = ({ inWorkspace, json, single, sql }: SqlRepoContext): WorkspaceSecretRepo["Service"] => {
  const encode = encodeDoc(SecretDoc, entity)
  const decodeOne = decodeRow(SecretDoc, entity)
  const decodeAll = decodeRows(SecretDoc, entity)

  return WorkspaceSecretRepo.of({
    put: Effect.fn("SqlWorkspaceSecretRepo.put")(function*(record) {
      const doc = yield* encode(record, record.name)
      yield* inWorkspace(
        record.workspaceId,
        entity,
        record.name,
        sql`INSERT INTO spectral.workspace_secrets (workspace_id, name, doc)
            VALUES (${record.workspaceId}, ${record.name}, ${json(doc)})
            ON CONFLICT (workspace_id, name) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    get: Effect.fn("SqlWorkspaceSecretRepo.get")(function*(workspaceId, name) {
      const rows = yield* inWorkspace(
        workspaceId,
        entity,
        name,
        sql<DocRow>`SELECT name AS id, doc FROM spectral.workspace_secrets WHERE workspace_id = ${workspaceId} AND name = ${name}`
      )
      return yield* single(rows, decodeOne, entity, name)
    }),
    list: Effect.fn("SqlWorkspaceSecretRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        entity,
        "*",
        sql<DocRow>`SELECT name AS id, doc FROM spectral.workspace_secrets WHERE workspace_id = ${workspaceId} ORDER BY name`
      )
      return yield* decodeAll(rows)
    }),
    remove: Effect.fn("SqlWorkspaceSecretRepo.remove")(function*(workspaceId, name) {
      const removed = yield* inWorkspace(
        workspaceId,
        entity,
        name,
        sql`DELETE FROM spectral.workspace_secrets WHERE workspace_id = ${workspaceId} AND name = ${name} RETURNING name`
      )
      if (removed.length === 0) return yield* StorageError.notFound(entity, name)
    })
  })
}
