/**
 * Which submission of the scan workflow a run of a workspace's scan joins (`spectral scan`, a host's
 * in-process runner): the scan a stopped process left behind when it is the one asked for, or a
 * new one; every other scan left behind is marked `abandoned` with the reason (`LeftBehind.ts`).
 *
 * A scan is left behind when no live process holds it. On a store this process has alone (the
 * embedded PGlite folder) that is every scan in progress. On a shared store (a PostgreSQL server)
 * it is one whose lease ran out: a lease still running is watched until it is renewed (a live
 * process: left alone) or runs out (resumed or abandoned here); and only a scan that a process
 * carried itself (`Scan.submission.carrier` "process", or none): the cluster's runners carry on
 * the scans submitted to them.
 *
 * Taking a scan over is one compare-and-set on the lease as it was observed (`ScanRepo.updateHeld`
 * with its owner, take and expiry): of two processes that found the same scan left behind, one
 * takes it, the other goes on as if it had not been there. The scan resumed is then held in the
 * name of its workflow execution (`workflow:<executionId>`) under a take of the plan's own, which
 * the execution replaces with its own take when it goes on (`ScanOrchestrator.continueHeld`). A scan
 * left behind without a submission (stored before scans ran as workflows) gets one here, so the
 * workflow carries it on too.
 */
import { Clock, Duration, Effect, Schedule } from "effect"
import type { Scan } from "../contracts/index.ts"
import { abandonedBecause, inProgress, resumableAmong, stoppedIn, withoutLease } from "../pipeline/LeftBehind.ts"
import { ScanFailed } from "../pipeline/ScanFailed.ts"
import { declarationDigest } from "../pipeline/ScanOrchestrator.ts"
import { observedHolder, ScanRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import { executionOwner, ScanWorkflow } from "./ScanWorkflow.ts"

export interface SubmissionRequest {
  readonly workspaceId: string
  readonly seed: number
  /** Model calls in flight at once (1–1024). */
  readonly concurrency: number
  /** Names the submission: the same id again joins its scan. Absent: the scan left behind, or a new one. */
  readonly requestId?: string | undefined
  /** The store is this process's alone: a scan in progress there has no live process. */
  readonly exclusiveStore: boolean
  /** How long a lease lasts without its heartbeat: a resumed scan's lease until its execution takes it, and the longest a live one is watched. */
  readonly leaseMs: number
}

export interface SubmissionPlan {
  /** The submission to run (`ScanWorkflow.execute` with this request id). */
  readonly requestId: string
  /** The submission carries on a scan left behind (counted in its `resumes`). */
  readonly resumed: boolean
  /** The scans left behind that were marked abandoned, as written. */
  readonly abandoned: ReadonlyArray<Scan>
}

/**
 * The scan as read once no live process holds it (undefined: one does). A lease still running on
 * a shared store is watched until it is renewed or the row changes (live), or it runs out.
 */
const leftBehind = Effect.fnUntraced(function*(scan: Scan, request: SubmissionRequest) {
  if (!inProgress(scan)) return undefined
  if (request.exclusiveStore) return scan
  // On a shared store, a scan submitted to the cluster's runners is theirs to carry on.
  if (scan.submission !== undefined && scan.submission.carrier !== "process") return undefined
  if (scan.lease === undefined) return scan
  const expiry = Date.parse(scan.lease.expiresAt)
  if (expiry <= (yield* Clock.currentTimeMillis)) return scan
  const scans = yield* ScanRepo
  const unchanged = (row: Scan) => inProgress(row) && row.updatedAt === scan.updatedAt && row.lease?.expiresAt === scan.lease?.expiresAt && row.lease?.take === scan.lease?.take
  const watched = yield* scans.get(scan.workspaceId, scan.id).pipe(
    Effect.repeat({
      schedule: Schedule.spaced(Duration.millis(Math.max(50, Math.min(1_000, request.leaseMs / 6)))),
      until: (row) => Effect.map(Clock.currentTimeMillis, (now) => !unchanged(row) || now >= expiry)
    })
  )
  return unchanged(watched) ? watched : undefined
})

/**
 * Plan the run of `request`: settle the scans left behind (one resumed, the others abandoned) and
 * name the submission to run. With `requestId`, only that submission's scan is looked at; on a
 * shared store, a live process running it is an error (`NotResumable`, `running_elsewhere`).
 */
export const plan = Effect.fn("ScanSubmissions.plan")(function*(request: SubmissionRequest) {
  const scans = yield* ScanRepo
  const workspace = yield* (yield* WorkspaceRepo).get(request.workspaceId)
  const all = yield* scans.list(workspace.id)
  const nowIso = new Date(yield* Clock.currentTimeMillis).toISOString()

  /** Take `scan` (as read) over for a submission, in one compare-and-set; false when another process changed it first. */
  const takeOver = Effect.fnUntraced(function*(scan: Scan) {
    const now = yield* Clock.currentTimeMillis
    const requestId = scan.submission?.requestId ?? globalThis.crypto.randomUUID()
    const executionId = scan.submission?.executionId ?? (yield* ScanWorkflow.executionId({
      workspaceId: scan.workspaceId,
      requestId,
      seed: scan.seed,
      concurrency: request.concurrency
    }))
    const taken: Scan = {
      ...scan,
      submission: scan.submission ?? { requestId, executionId, carrier: "process" },
      resumes: (scan.resumes ?? 0) + 1,
      lease: { owner: executionOwner(executionId), expiresAt: new Date(now + request.leaseMs).toISOString(), take: `plan:${globalThis.crypto.randomUUID()}` },
      updatedAt: new Date(now).toISOString()
    }
    return (yield* scans.updateHeld(taken, observedHolder(scan.lease))) ? requestId : undefined
  })

  if (request.requestId !== undefined) {
    const same = all.find((scan) => scan.submission?.requestId === request.requestId)
    if (same === undefined || !inProgress(same)) return { requestId: request.requestId, resumed: false, abandoned: [] } satisfies SubmissionPlan
    const left = yield* leftBehind(same, request)
    if (left === undefined) {
      return yield* new ScanFailed({
        scanId: same.id,
        phase: stoppedIn(same),
        reason: `the scan of submission ${request.requestId} is running in another process (${same.lease?.owner ?? "unknown"}, lease until ${same.lease?.expiresAt ?? "unknown"})`,
        cause: { _tag: "NotResumable", why: "running_elsewhere" }
      })
    }
    const taken = yield* takeOver(left)
    return { requestId: request.requestId, resumed: taken !== undefined, abandoned: [] } satisfies SubmissionPlan
  }

  const digest = declarationDigest(workspace)
  const found = yield* Effect.forEach(all, (scan) => leftBehind(scan, request), { concurrency: "unbounded" })
  const left = found.filter((scan): scan is Scan => scan !== undefined)
  // Newest first: the newest scan asked for is resumed, every other one left behind is abandoned.
  const resumable = resumableAmong(left, request.seed, digest)
  const abandoned: Array<Scan> = []
  for (const scan of left) {
    if (scan === resumable) continue
    const ended: Scan = { ...withoutLease(scan), state: "abandoned", failureReason: abandonedBecause(scan, request.seed, digest, resumable), updatedAt: nowIso }
    if (yield* scans.updateHeld(ended, observedHolder(scan.lease))) abandoned.push(ended)
  }
  const resumed = resumable === undefined ? undefined : yield* takeOver(resumable)
  if (resumed !== undefined) return { requestId: resumed, resumed: true, abandoned } satisfies SubmissionPlan
  return { requestId: globalThis.crypto.randomUUID(), resumed: false, abandoned } satisfies SubmissionPlan
})

/**
 * Carry a failed scan on (its provider is back, its key was fixed): a new submission of the same
 * scan, which goes on from what its finished phases saved, its ledger from what it had spent (the
 * plan's `seed` is the scan's). Only a failed scan: a completed or abandoned one, or one in
 * progress, is a ScanFailed (`NotResumable`) naming its state, an unknown id the store's `NotFound`;
 * nothing is written.
 */
export const retry = Effect.fn("ScanSubmissions.retry")(function*(request: {
  readonly workspaceId: string
  readonly scanId: string
  readonly concurrency: number
  readonly leaseMs: number
}) {
  const scans = yield* ScanRepo
  const scan = yield* scans.get(request.workspaceId, request.scanId)
  if (scan.state !== "failed") {
    return yield* new ScanFailed({
      scanId: scan.id,
      phase: stoppedIn(scan),
      reason: `the scan is ${scan.state}${scan.failureReason === undefined ? "" : ` (${scan.failureReason})`}: only a failed scan is carried on again`,
      cause: { _tag: "NotResumable", why: scan.state === "completed" ? "completed" : scan.state === "abandoned" ? "abandoned" : "running_elsewhere" }
    })
  }
  const now = yield* Clock.currentTimeMillis
  const requestId = globalThis.crypto.randomUUID()
  const executionId = yield* ScanWorkflow.executionId({ workspaceId: scan.workspaceId, requestId, seed: scan.seed, concurrency: request.concurrency })
  const { failure: _failure, failureReason: _reason, ...rest } = scan
  const taken: Scan = {
    ...rest,
    state: "running",
    submission: { requestId, executionId, carrier: "process" },
    resumes: (scan.resumes ?? 0) + 1,
    lease: { owner: executionOwner(executionId), expiresAt: new Date(now + request.leaseMs).toISOString(), take: `plan:${globalThis.crypto.randomUUID()}` },
    updatedAt: new Date(now).toISOString()
  }
  if (!(yield* scans.updateHeld(taken, observedHolder(scan.lease)))) {
    return yield* new ScanFailed({ scanId: scan.id, phase: stoppedIn(scan), reason: "another process carried the scan on first", cause: { _tag: "NotResumable", why: "taken_over" } })
  }
  return { requestId, resumed: true, abandoned: [], seed: scan.seed } satisfies SubmissionPlan & { readonly seed: number }
})
