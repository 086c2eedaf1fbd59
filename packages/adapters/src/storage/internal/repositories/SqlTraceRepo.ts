/**
 * TraceRepo on SQL: raw customer traces (`spectral.traces`), append-only and idempotent on
 * (traceId, spanId); `append` answers how many rows were new. Purging is SqlRetentionRepo's.
 */
import { TraceRepo } from "@spectral/engine"
import { Trace } from "@spectral/engine/contracts"
import { Effect } from "effect"
import { checkWorkspace, chunks, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

export const makeSqlTraceRepo = ({ batchSize, inWorkspace, json, sql }: SqlRepoContext): TraceRepo["Service"] => {
  const encodeTrace = encodeDoc(Trace, "trace")
  const decodeTraces = decodeRows(Trace, "trace")

  return TraceRepo.of({
    append: Effect.fn("SqlTraceRepo.append")(function*(workspaceId, rows) {
      if (rows.length === 0) return 0
      yield* checkWorkspace("trace", workspaceId, rows)
      const docs = yield* Effect.forEach(rows, (row) => encodeTrace(row, row.id))
      const inserted = yield* inWorkspace(
        workspaceId,
        "trace",
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.traces (workspace_id, trace_id, span_id, id, doc)
                SELECT ${workspaceId}, d->>'traceId', d->>'spanId', d->>'id', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, trace_id, span_id) DO NOTHING RETURNING 1`
        )
      )
      return inserted.reduce((total, batch) => total + batch.length, 0)
    }),
    list: Effect.fn("SqlTraceRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "trace",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.traces WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeTraces(rows)
    })
  })
}
