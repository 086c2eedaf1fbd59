/**
 * TemplateProposalRepo on SQL: prompt-template proposals (`spectral.template_proposals`, migration
 * 7; insert refuses a repeated id, update is a compare-and-set on status, listed oldest first).
 * Does not decide anything (the engine's traces/TemplateProposals does).
 */
import { StorageError, TemplateProposalRepo } from "@spectral/engine"
import { TemplateProposal } from "@spectral/engine/contracts"
import { Effect } from "effect"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

const entity = "template proposal"

export const makeSqlTemplateProposalRepo = ({ inWorkspace, json, single, sql }: SqlRepoContext): TemplateProposalRepo["Service"] => {
  const encode = encodeDoc(TemplateProposal, entity)
  const decodeOne = decodeRow(TemplateProposal, entity)
  const decodeAll = decodeRows(TemplateProposal, entity)

  return TemplateProposalRepo.of({
    insert: Effect.fn("SqlTemplateProposalRepo.insert")(function*(value) {
      const doc = yield* encode(value, value.id)
      const inserted = yield* inWorkspace(
        value.workspaceId,
        entity,
        value.id,
        sql`INSERT INTO spectral.template_proposals (workspace_id, id, agent_name, status, doc)
            VALUES (${value.workspaceId}, ${value.id}, ${value.agentName}, ${value.status}, ${json(doc)})
            ON CONFLICT DO NOTHING RETURNING id`
      )
      if (inserted.length === 0) return yield* StorageError.conflict(entity, value.id, "already exists")
    }),
    update: Effect.fn("SqlTemplateProposalRepo.update")(function*(value, expected) {
      const doc = yield* encode(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        entity,
        value.id,
        Effect.gen(function*() {
          const updated = yield* sql`UPDATE spectral.template_proposals SET status = ${value.status}, doc = ${json(doc)}
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} AND status = ${expected} RETURNING id`
          if (updated.length > 0) return
          const stored = yield* sql<{ readonly status: string }>`SELECT status FROM spectral.template_proposals
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`
          return yield* stored[0] === undefined
            ? StorageError.notFound(entity, value.id)
            : StorageError.conflict(entity, value.id, `status is ${stored[0].status}, expected ${expected}`)
        })
      )
    }),
    get: Effect.fn("SqlTemplateProposalRepo.get")(function*(workspaceId, proposalId) {
      const rows = yield* inWorkspace(
        workspaceId,
        entity,
        proposalId,
        sql<DocRow>`SELECT id, doc FROM spectral.template_proposals WHERE workspace_id = ${workspaceId} AND id = ${proposalId}`
      )
      return yield* single(rows, decodeOne, entity, proposalId)
    }),
    list: Effect.fn("SqlTemplateProposalRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        entity,
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.template_proposals WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeAll(rows)
    })
  })
}
