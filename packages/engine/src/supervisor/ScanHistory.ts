/**
 * The supervisor's history from storage: every completed scan of a workspace, oldest first, each
 * summarized from its stored baseline traces and world-model results (`summarizeScan`). Scans that
 * failed, were abandoned or are still running are not part of it (they measured nothing complete).
 * The history is continuous: scans of every world-model version are in it, in time order, each
 * carrying its version as attribution metadata (ADR-030). A completed scan's rows never change
 * (retention redacts content, never scores), so its summary is computed once: kept in storage
 * (`ScanRepo.saveSummaries`, under the settings it was computed with) and read back with every
 * other kept summary in one read; only scans without one have their rows read. A host may also
 * pass the summaries it holds (`cached`).
 */
import { Effect } from "effect"
import type { ScanHeader } from "../contracts/index.ts"
import { ScanRepo, ScanTraceRepo } from "../ports/Repositories.ts"
import { type ScanSummary, scanSummarySettings, summarizeScan, type SummarizeOptions } from "./ScanSummary.ts"

export interface ScanHistoryOptions extends SummarizeOptions {
  /** Only the newest this-many completed scans (default: all). */
  readonly limit?: number
  /** Summaries a host already holds, by scan id: reused instead of reading storage for them. */
  readonly cached?: ReadonlyMap<string, ScanSummary>
  /** The workspace's completed scans when the caller has just read them (`ScanRepo.listCompleted`): not read again. */
  readonly completed?: ReadonlyArray<ScanHeader>
}

export const loadScanHistory = Effect.fn("ScanHistory.loadScanHistory")(function*(workspaceId: string, options: ScanHistoryOptions = {}) {
  const scans = yield* ScanRepo
  const rows = yield* ScanTraceRepo
  const completed = [...(options.completed ?? (yield* scans.listCompleted(workspaceId)))]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id, undefined, { numeric: true }))
  const chosen = options.limit === undefined ? completed : completed.slice(Math.max(0, completed.length - options.limit))
  const held = options.cached ?? new Map<string, ScanSummary>()
  if (chosen.every((scan) => held.has(scan.id))) return chosen.map((scan) => held.get(scan.id)!)
  const settings = scanSummarySettings(options)
  const kept = yield* scans.summaries(workspaceId, settings)
  const missing = chosen.filter((scan) => !held.has(scan.id) && !kept.has(scan.id))
  const computed = new Map(yield* Effect.forEach(missing, (scan) =>
    Effect.map(
      Effect.all([rows.traces(workspaceId, scan.id), rows.results(workspaceId, scan.id)]),
      ([traces, results]) => [scan.id, summarizeScan(scan, traces, results, options)] as const
    )))
  if (computed.size > 0) yield* scans.saveSummaries(workspaceId, settings, [...computed.values()])
  return chosen.map((scan) => held.get(scan.id) ?? kept.get(scan.id) ?? computed.get(scan.id)!)
})
