/**
 * Handlers of the `scans` group: the workspace's scans (newest first), one scan with its phase
 * progress, its result (the verdict with every gate check and the composite scores, read back
 * through their schemas from the verdict phase's stored output) and its failure clusters.
 */
import { Effect, Schema } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { FailureClusterRepo, ScanRepo } from "@spectral/engine"
import { CompositeScore, phaseOrder, type Scan } from "@spectral/engine/contracts"
import { type ScanDetail, SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiNotFound } from "./ApiErrors.ts"

/** Where each phase stands: done, the one running (or that failed), the rest pending. */
export const phaseProgress = (scan: Scan): ScanDetail => {
  const done = new Set(scan.completedPhases)
  const current = phaseOrder.find((phase) => !done.has(phase))
  const phases = phaseOrder.map((phase) => ({
    phase,
    status: done.has(phase)
      ? "done" as const
      : phase === current && scan.state === "running"
      ? "running" as const
      : phase === current && scan.state === "failed"
      ? "failed" as const
      : "pending" as const
  }))
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
          const output = (yield* stored(scans.phaseOutputs(workspaceId, scan.id))).get("verdict")
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
  })
)
