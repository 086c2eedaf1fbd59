/**
 * The per-scan rows written once and listed by scan: scan traces, eval results, failure clusters.
 * Each table holds (workspace_id, id, scan_id, doc); inserts are batched and idempotent on id, lists
 * come in insertion order. Shared by SqlScanTraceRepo and SqlFailureClusterRepo; owns no port.
 */
import { Effect } from "effect"
import {
  checkWorkspace,
  chunks,
  type Codec,
  decodeRows,
  type DocRow,
  encodeDoc,
  type SqlRepoContext
} from "./SqlRepoContext.ts"

export const scanRows = <A extends { readonly id: string; readonly scanId: string; readonly workspaceId: string }>(
  { batchSize, inWorkspace, json, sql }: SqlRepoContext,
  table: "scan_traces" | "eval_results" | "failure_clusters",
  schema: Codec<A>,
  entity: string
) => {
  const encode = encodeDoc(schema, entity)
  const decode = decodeRows(schema, entity)
  const insert = (workspaceId: string, rows: ReadonlyArray<A>) =>
    Effect.gen(function*() {
      if (rows.length === 0) return
      yield* checkWorkspace(entity, workspaceId, rows)
      const docs = yield* Effect.forEach(rows, (row) => encode(row, row.id))
      yield* inWorkspace(
        workspaceId,
        entity,
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO ${sql(`spectral.${table}`)} (workspace_id, id, scan_id, doc)
                SELECT ${workspaceId}, d->>'id', d->>'scanId', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, id) DO NOTHING`,
          { discard: true }
        )
      )
    })
  const list = (workspaceId: string, scanId: string) =>
    Effect.flatMap(
      inWorkspace(
        workspaceId,
        entity,
        scanId,
        sql<DocRow>`SELECT id, doc FROM ${sql(`spectral.${table}`)}
                    WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY seq`
      ),
      decode
    )
  return { insert, list }
}
