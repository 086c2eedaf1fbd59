/**
 * The supervisor's history from storage: every completed scan of a workspace, oldest first, each
 * summarized from its stored baseline traces and world-model results (`summarizeScan`). Scans that
 * failed, were abandoned or are still running are not part of it (they measured nothing complete).
 * The history is continuous: scans of every world-model version are in it, in time order, each
 * carrying its version as attribution metadata (ADR-030). A completed scan's rows never change
 * (retention redacts content, never scores), so a host may cache summaries by scan id.
 */
import { Effect } from "effect"
import { ScanRepo, ScanTraceRepo } from "../ports/Repositories.ts"
import { type ScanSummary, summarizeScan, type SummarizeOptions } from "./ScanSummary.ts"

export interface ScanHistoryOptions extends SummarizeOptions {
  /** Only the newest this-many completed scans (default: all). */
  readonly limit?: number
  /** Summaries a host already holds, by scan id: reused instead of re-reading the scan's rows. */
  readonly cached?: ReadonlyMap<string, ScanSummary>
}

export const loadScanHistory = Effect.fn("ScanHistory.loadScanHistory")(function*(workspaceId: string, options: ScanHistoryOptions = {}) {
  const scans = yield* ScanRepo
  const rows = yield* ScanTraceRepo
  const completed = (yield* scans.list(workspaceId))
    .filter((scan) => scan.state === "completed")
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id, undefined, { numeric: true }))
  const chosen = options.limit === undefined ? completed : completed.slice(Math.max(0, completed.length - options.limit))
  return yield* Effect.forEach(chosen, (scan) => {
    const known = options.cached?.get(scan.id)
    return known !== undefined
      ? Effect.succeed(known)
      : Effect.map(
        Effect.all([rows.traces(workspaceId, scan.id), rows.results(workspaceId, scan.id)]),
        ([traces, results]) => summarizeScan(scan, traces, results, options)
      )
  })
})
