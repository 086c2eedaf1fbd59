/**
 * ScanTraceRepo on SQL: a scan's traces (`spectral.scan_traces`) and eval results
 * (`spectral.eval_results`), written once per id and listed in insertion order (SqlScanRows).
 */
import { ScanTraceRepo } from "@spectral/engine"
import { EvalResult, ScanTrace } from "@spectral/engine/contracts"
import { Effect } from "effect"
import type { SqlRepoContext } from "./SqlRepoContext.ts"
import { scanRows } from "./SqlScanRows.ts"

export const makeSqlScanTraceRepo = (context: SqlRepoContext): ScanTraceRepo["Service"] => {
  const scanTraces = scanRows(context, "scan_traces", ScanTrace, "scan trace")
  const evalResults = scanRows(context, "eval_results", EvalResult, "eval result")

  return ScanTraceRepo.of({
    insertTraces: Effect.fn("SqlScanTraceRepo.insertTraces")(scanTraces.insert),
    insertResults: Effect.fn("SqlScanTraceRepo.insertResults")(evalResults.insert),
    traces: Effect.fn("SqlScanTraceRepo.traces")(scanTraces.list),
    results: Effect.fn("SqlScanTraceRepo.results")(evalResults.list)
  })
}
