/**
 * ScanTraceRepo on SQL: a scan's traces (`spectral.scan_traces`) and eval results
 * (`spectral.eval_results`), written once per id and listed in insertion order (SqlScanRows), a
 * scan's traces of one arm page by page (keyset on `seq`, on the `scan_traces_by_scan` index), and
 * the redaction of one stimulus's content from both (one workspace transaction: the rows are read
 * under lock, redacted by the engine's `redactStimulusContent` / `redactEvalResult`, written back).
 */
import {
  redactEvalResult,
  redactStimulusContent,
  type ScanTracePage,
  scanTracePageProblem,
  ScanTraceRepo,
  type StimulusRedaction,
  StorageError
} from "@spectral/engine"
import { EvalResult, ScanTrace } from "@spectral/engine/contracts"
import { Effect } from "effect"
import { decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"
import { scanRows } from "./SqlScanRows.ts"

export const makeSqlScanTraceRepo = (context: SqlRepoContext): ScanTraceRepo["Service"] => {
  const { inWorkspace, json, sql } = context
  const scanTraces = scanRows(context, "scan_traces", ScanTrace, "scan trace")
  const evalResults = scanRows(context, "eval_results", EvalResult, "eval result")
  const decodeTraces = decodeRows(ScanTrace, "scan trace")
  const encodeTrace = encodeDoc(ScanTrace, "scan trace")
  const decodeResults = decodeRows(EvalResult, "eval result")
  const encodeResult = encodeDoc(EvalResult, "eval result")

  /** Replace the documents of the rows that changed (by id) in one of the two tables. */
  const rewrite = (table: "scan_traces" | "eval_results", workspaceId: string, docs: ReadonlyArray<{ readonly id: string; readonly doc: unknown }>) =>
    docs.length === 0
      ? Effect.void
      : sql`UPDATE ${sql(`spectral.${table}`)} AS t SET doc = input.d->'doc'
            FROM jsonb_array_elements(${json(docs)}) AS input(d)
            WHERE t.workspace_id = ${workspaceId} AND t.id = input.d->>'id'`.pipe(Effect.asVoid)

  /**
   * The page after the cursor trace's `seq` (looked up by its primary key, within the scan), read
   * in `seq` order on (workspace_id, scan_id, seq); the arm is filtered on the rows read.
   */
  const tracesPage = (workspaceId: string, scanId: string, page: ScanTracePage) => {
    const problem = scanTracePageProblem(page)
    if (problem !== undefined) return Effect.fail(StorageError.refused("scan trace page", scanId, problem))
    return inWorkspace(
      workspaceId,
      "scan trace",
      page.after ?? scanId,
      Effect.gen(function*() {
        let from = "0"
        if (page.after !== undefined) {
          const cursor = yield* sql<{ readonly seq: string }>`SELECT seq::text AS seq FROM spectral.scan_traces
                                                            WHERE workspace_id = ${workspaceId} AND id = ${page.after} AND scan_id = ${scanId}`
          if (cursor[0] === undefined) return yield* Effect.fail(StorageError.notFound("scan trace", page.after))
          from = cursor[0].seq
        }
        return yield* sql<DocRow>`SELECT id, doc FROM spectral.scan_traces
                                  WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId}
                                    AND seq > ${from}::bigint AND doc->>'arm' = ${page.arm}
                                  ORDER BY seq LIMIT ${page.limit}`
      })
    ).pipe(Effect.flatMap(decodeTraces))
  }

  const redactStimulus = (workspaceId: string, stimulusId: string, marker: string) =>
    inWorkspace(
      workspaceId,
      "scan trace",
      stimulusId,
      Effect.gen(function*() {
        const traces = yield* decodeTraces(
          yield* sql<DocRow>`SELECT id, doc FROM spectral.scan_traces
                             WHERE workspace_id = ${workspaceId} AND doc->>'stimulusId' = ${stimulusId}
                             ORDER BY seq FOR UPDATE`
        )
        const changedTraces = yield* Effect.forEach(
          traces.flatMap((trace) => {
            const redacted = redactStimulusContent(trace, stimulusId, marker) as ScanTrace
            return JSON.stringify(redacted) === JSON.stringify(trace) ? [] : [redacted]
          }),
          (trace) => Effect.map(encodeTrace(trace, trace.id), (doc) => ({ id: trace.id, doc }))
        )
        yield* rewrite("scan_traces", workspaceId, changedTraces)
        const results = traces.length === 0 ? [] : yield* decodeResults(
          yield* sql<DocRow>`SELECT id, doc FROM spectral.eval_results
                             WHERE workspace_id = ${workspaceId}
                               AND doc->>'traceId' IN (SELECT jsonb_array_elements_text(${json(traces.map((t) => t.id))}))
                             ORDER BY seq FOR UPDATE`
        )
        const changedResults = yield* Effect.forEach(
          results.flatMap((result) => {
            const redacted = redactEvalResult(result, marker)
            return redacted.explanation === result.explanation ? [] : [redacted]
          }),
          (result) => Effect.map(encodeResult(result, result.id), (doc) => ({ id: result.id, doc }))
        )
        yield* rewrite("eval_results", workspaceId, changedResults)
        return { scanTraces: changedTraces.length, evalResults: changedResults.length } satisfies StimulusRedaction
      })
    )

  return ScanTraceRepo.of({
    insertTraces: Effect.fn("SqlScanTraceRepo.insertTraces")(scanTraces.insert),
    insertResults: Effect.fn("SqlScanTraceRepo.insertResults")(evalResults.insert),
    traces: Effect.fn("SqlScanTraceRepo.traces")(scanTraces.list),
    tracesPage: Effect.fn("SqlScanTraceRepo.tracesPage")(tracesPage),
    results: Effect.fn("SqlScanTraceRepo.results")(evalResults.list),
    redactStimulus: Effect.fn("SqlScanTraceRepo.redactStimulus")(redactStimulus)
  })
}
