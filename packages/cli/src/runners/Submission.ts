/**
 * Scans submitted to the runners: submit (the workflow execution is keyed by workspace and request
 * id, so a repeated submission joins the first), wait until a runner recorded the scan, follow its
 * phases on the store until it ends, and describe a stored scan as `spectral scans status` prints it.
 */
import { type PhaseName, phaseOrder, type Scan } from "@spectral/engine/contracts"
import { ScanRepo, type ScanProgressReporter, ScanWorkflow } from "@spectral/engine"
import { Duration, Effect, Schedule, Schema } from "effect"

export class SubmissionNotStarted extends Schema.TaggedError<SubmissionNotStarted>()("SubmissionNotStarted", {
  requestId: Schema.String,
  message: Schema.String
}) {}

const terminal = (scan: Scan): boolean => scan.state === "completed" || scan.state === "failed" || scan.state === "abandoned"

/** The scan a runner recorded for this submission, once it has (polling the store every `everyMs`). */
export const startedScan = (workspaceId: string, requestId: string, options: { readonly timeoutMs: number; readonly everyMs?: number }) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const find = Effect.map(scans.list(workspaceId), (all) => all.find((s) => s.submission?.requestId === requestId))
    const found = yield* find.pipe(
      Effect.repeat({ schedule: Schedule.spaced(Duration.millis(options.everyMs ?? 200)), until: (scan) => scan !== undefined }),
      Effect.timeoutOption(Duration.millis(options.timeoutMs))
    )
    if (found._tag === "None" || found.value === undefined) {
      return yield* new SubmissionNotStarted({
        requestId,
        message: `no runner started submission ${requestId} within ${Math.round(options.timeoutMs / 1000)} s: is a \`spectral runner\` running on this database?`
      })
    }
    return found.value
  })

/** Follow a scan on the store until it ends, reporting each phase it finishes; the final row. */
export const follow = (workspaceId: string, scanId: string, reporter: ScanProgressReporter | undefined, everyMs = 250) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const reported = new Set<PhaseName>()
    const look = Effect.gen(function*() {
      const scan = yield* scans.get(workspaceId, scanId)
      for (const phase of scan.completedPhases) {
        if (reported.has(phase)) continue
        reported.add(phase)
        if (reporter !== undefined) yield* reporter.report({ _tag: "PhaseFinished", scanId, phase, resumed: false })
      }
      return scan
    })
    return yield* look.pipe(Effect.repeat({ schedule: Schedule.spaced(Duration.millis(everyMs)), until: terminal }))
  })

/** A new submission's request id, when none is given. */
export const newRequestId = (): string => globalThis.crypto.randomUUID()

export const submit = (submission: ScanWorkflow.ScanSubmission) => ScanWorkflow.ScanWorkflow.execute(submission, { discard: true })

/** What `spectral scans status` prints of a stored scan. */
/**
 * The process a lease names: its take's process (`host:pid`, a runner's `host:port/pid`), or the
 * owner for a lease without one, without the instance suffix (`#…`).
 */
const carrierOf = (lease: NonNullable<Scan["lease"]>): string => (lease.take ?? lease.owner).split("#")[0] ?? lease.owner

export const statusOf = (scan: Scan) => ({
  scanId: scan.id,
  workspaceId: scan.workspaceId,
  state: scan.state,
  phasesDone: scan.completedPhases.length,
  phasesTotal: phaseOrder.length,
  completedPhases: scan.completedPhases,
  running: terminal(scan) ? null : phaseOrder.find((p) => !scan.completedPhases.includes(p)) ?? null,
  verdict: scan.verdict ?? null,
  changeSetId: scan.changeSetId ?? null,
  failure: scan.failure === undefined ? null : { phase: scan.failure.phase, cause: scan.failure.cause._tag, reason: scan.failureReason ?? "" },
  submission: scan.submission ?? null,
  /** Who carries a scan in progress and until when its lease holds without a heartbeat (past it: left behind). */
  carriedBy: terminal(scan) || scan.lease === undefined ? null : { process: carrierOf(scan.lease), leaseExpiresAt: scan.lease.expiresAt },
  resumes: scan.resumes ?? 0,
  updatedAt: scan.updatedAt
})
