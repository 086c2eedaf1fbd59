/**
 * ChangeSetRepo on SQL: change sets (`spectral.change_sets`; insert refuses a repeated id or
 * version, update is a compare-and-set on status) and their append-only audit
 * (`spectral.change_set_audit`). Does not decide transitions (the engine's ChangeSetLifecycle does).
 */
import { ChangeSetRepo, StorageError } from "@spectral/engine"
import { ChangeSet, ChangeSetAuditEntry } from "@spectral/engine/contracts"
import { Effect } from "effect"
import { decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

export const makeSqlChangeSetRepo = ({ inWorkspace, json, single, sql }: SqlRepoContext): ChangeSetRepo["Service"] => {
  const encodeChangeSet = encodeDoc(ChangeSet, "change set")
  const decodeChangeSet = decodeRow(ChangeSet, "change set")
  const decodeChangeSets = decodeRows(ChangeSet, "change set")
  const encodeAudit = encodeDoc(ChangeSetAuditEntry, "change set audit")
  const decodeAudit = decodeRows(ChangeSetAuditEntry, "change set audit")

  return ChangeSetRepo.of({
    insert: Effect.fn("SqlChangeSetRepo.insert")(function*(value) {
      const doc = yield* encodeChangeSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "change set",
        value.id,
        Effect.gen(function*() {
          const inserted = yield* sql`INSERT INTO spectral.change_sets (workspace_id, id, version, status, scan_id, created_at, doc)
              VALUES (${value.workspaceId}, ${value.id}, ${value.version}, ${value.status}, ${value.scanId},
                      ${value.createdAt}, ${json(doc)})
              ON CONFLICT DO NOTHING RETURNING id`
          if (inserted.length > 0) return
          const existing = yield* sql`SELECT 1 FROM spectral.change_sets WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`
          return yield* existing.length > 0
            ? StorageError.conflict("change set", value.id, "already exists")
            : StorageError.conflict("change set", value.id, `version ${value.version} already exists`)
        })
      )
    }),
    update: Effect.fn("SqlChangeSetRepo.update")(function*(value, expected) {
      const doc = yield* encodeChangeSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "change set",
        value.id,
        Effect.gen(function*() {
          const updated = yield* sql`UPDATE spectral.change_sets
              SET version = ${value.version}, status = ${value.status}, scan_id = ${value.scanId},
                  created_at = ${value.createdAt}, doc = ${json(doc)}, updated_at = now()
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} AND status = ${expected}
              RETURNING id`
          if (updated.length > 0) return
          const stored = yield* sql<{ readonly status: string }>`SELECT status FROM spectral.change_sets
              WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`
          return yield* stored[0] === undefined
            ? StorageError.notFound("change set", value.id)
            : StorageError.conflict("change set", value.id, `status is ${stored[0].status}, expected ${expected}`)
        })
      )
    }),
    get: Effect.fn("SqlChangeSetRepo.get")(function*(workspaceId, changeSetId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set",
        changeSetId,
        sql<DocRow>`SELECT id, doc FROM spectral.change_sets WHERE workspace_id = ${workspaceId} AND id = ${changeSetId}`
      )
      return yield* single(rows, decodeChangeSet, "change set", changeSetId)
    }),
    list: Effect.fn("SqlChangeSetRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.change_sets WHERE workspace_id = ${workspaceId} ORDER BY version DESC`
      )
      return yield* decodeChangeSets(rows)
    }),
    appendAudit: Effect.fn("SqlChangeSetRepo.appendAudit")(function*(entry: ChangeSetAuditEntry) {
      const doc = yield* encodeAudit(entry, entry.id)
      yield* inWorkspace(
        entry.workspaceId,
        "change set audit",
        entry.id,
        sql`INSERT INTO spectral.change_set_audit (workspace_id, id, change_set_id, doc)
            VALUES (${entry.workspaceId}, ${entry.id}, ${entry.changeSetId}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO NOTHING`
      )
    }),
    audit: Effect.fn("SqlChangeSetRepo.audit")(function*(workspaceId, changeSetId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "change set audit",
        changeSetId,
        sql<DocRow>`SELECT id, doc FROM spectral.change_set_audit
                    WHERE workspace_id = ${workspaceId} AND change_set_id = ${changeSetId} ORDER BY seq`
      )
      return yield* decodeAudit(rows)
    })
  })
}
