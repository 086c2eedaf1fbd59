/**
 * WorkspaceRepo on SQL: one row per workspace in `spectral.workspaces`, the Workspace document as
 * JSONB. Does not own the transaction or the codecs (SqlRepoContext).
 */
import { WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { Effect } from "effect"
import { decodeRow, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

export const makeSqlWorkspaceRepo = ({ inWorkspace, json, single, sql }: SqlRepoContext): WorkspaceRepo["Service"] => {
  const encodeWorkspace = encodeDoc(Workspace, "workspace")
  const decodeWorkspace = decodeRow(Workspace, "workspace")
  return WorkspaceRepo.of({
    upsert: Effect.fn("SqlWorkspaceRepo.upsert")(function*(value) {
      const doc = yield* encodeWorkspace(value, value.id)
      yield* inWorkspace(
        value.id,
        "workspace",
        value.id,
        sql`INSERT INTO spectral.workspaces (workspace_id, doc) VALUES (${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()`
      )
    }),
    get: Effect.fn("SqlWorkspaceRepo.get")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "workspace",
        workspaceId,
        sql<DocRow>`SELECT workspace_id AS id, doc FROM spectral.workspaces WHERE workspace_id = ${workspaceId}`
      )
      return yield* single(rows, decodeWorkspace, "workspace", workspaceId)
    })
  })
}
