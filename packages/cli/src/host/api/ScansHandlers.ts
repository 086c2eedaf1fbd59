/**
 * Handlers of the `scans` group: the workspace's scans (newest first), one scan with its phase
 * progress, its result (the verdict with every gate check and the composite scores, read back
 * through their schemas from the verdict phase's stored output) and its failure clusters; starting
 * a scan in this service (202 with its id at once, `ApiScanRunner`) and cancelling one (409 naming
 * the state when it already ended, and nothing changes).
 */
import { Effect, Option, Schema } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { FailureClusterRepo, ScanRepo, WorkspaceRepo } from "@spectral/engine"
import { CompositeScore, phaseOrder, type Scan } from "@spectral/engine/contracts"
import { type ScanDetail, SpectralApi } from "./Api.ts"
import { callerWorkspace, fromStorage, stored } from "./ApiAccess.ts"
import { ApiCaller } from "./ApiAuthorization.ts"
import { ApiConflict, ApiNotFound } from "./ApiErrors.ts"
import { ApiScanRunner, endOf, phaseStatuses } from "./ApiScanRunner.ts"

/** The path of a scan's progress stream. */
export const progressPath = (workspaceId: string, scanId: string) =>
  `/api/workspaces/${encodeURIComponent(workspaceId)}/scans/${encodeURIComponent(scanId)}/progress`

/** Where each phase stands: done, the one running (or that failed), the rest pending. */
export const phaseProgress = (scan: Scan): ScanDetail => {
  const phases = phaseStatuses(scan)
  return { scan, phases, phasesDone: phases.filter((p) => p.status === "done").length, phasesTotal: phases.length }
}

const VerdictPhaseOutput = Schema.Struct({ composite: CompositeScore })
const decodeVerdictOutput = Schema.decodeUnknownEffect(VerdictPhaseOutput)

export const ScansHandlers = HttpApiBuilder.group(
  SpectralApi,
  "scans",
  Effect.fn(function*(handlers) {
    const scans = yield* ScanRepo
    const clusters = yield* FailureClusterRepo
    const workspaces = yield* WorkspaceRepo
    const runner = yield* ApiScanRunner
    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* stored(scans.list(workspaceId))
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return phaseProgress(yield* stored(scans.get(workspaceId, params.scanId)))
        }))
      .handle("result", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const scan = yield* stored(scans.get(workspaceId, params.scanId))
          const noResult = new ApiNotFound({
            entity: "scan result",
            id: scan.id,
            message: `scan ${scan.id} has no verdict yet (state ${scan.state}, ${scan.completedPhases.length} of ${phaseOrder.length} phases done)`
          })
          const verdict = yield* scans.verdict(workspaceId, scan.id).pipe(
            Effect.catchTag("StorageError", (error) => error.reason._tag === "NotFound" ? Effect.fail(noResult) : stored(Effect.fail(error)))
          )
          const output = Option.getOrUndefined(yield* stored(scans.phaseOutput(workspaceId, scan.id, "verdict")))
          if (output === undefined) return yield* noResult
          const { composite } = yield* Effect.orDie(decodeVerdictOutput(output))
          return { verdict, composite }
        }))
      .handle("clusters", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const scan = yield* stored(scans.get(workspaceId, params.scanId))
          return yield* stored(clusters.list(workspaceId, scan.id))
        }))
      .handle("start", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          yield* workspaces.get(workspaceId).pipe(Effect.catchTag("StorageError", (error) =>
            error.reason._tag === "NotFound"
              ? Effect.fail(new ApiNotFound({ entity: "workspace", id: workspaceId, message: `workspace ${workspaceId} is not declared: PUT /api/workspaces/${workspaceId} first` }))
              : fromStorage(error)))
          const scan = yield* runner.start(workspaceId, payload.seed ?? 1).pipe(
            Effect.catch((refusal) =>
              refusal._tag === "Storage" ? fromStorage(refusal.error) : Effect.fail(new ApiConflict({ message: `the scan could not start: ${refusal.message}` })))
          )
          return { scanId: scan.id, state: scan.state, progress: progressPath(workspaceId, scan.id) }
        }))
      .handle("cancel", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          const caller = yield* ApiCaller
          const before = yield* stored(scans.get(workspaceId, params.scanId))
          const ended = (scan: Scan) =>
            new ApiConflict({ message: `cannot cancel scan ${scan.id}: it is ${scan.state}${scan.failureReason === undefined ? "" : ` (${scan.failureReason})`}, and only a scheduled or running scan can be cancelled` })
          if (endOf(before) !== undefined) return yield* ended(before)
          const after = yield* stored(runner.cancel(workspaceId, before.id, `API key "${caller.label}"`))
          // It ended on its own while being cancelled: say how, as for any ended scan.
          if (endOf(after) !== "cancelled") return yield* ended(after)
          return phaseProgress(after)
        }))
  })
)
