/**
 * Preflight: asks the world whether an eval set can be produced and the sample store how many
 * curated conformance samples exist, and writes the ScanReadinessObservation (mode
 * synthetic_only | conformance_only | blended). It never blocks a scan that can run.
 */
import { Context, Effect, Layer } from "effect"
import { nowIso } from "../clock/Time.ts"
import { EvalSetProvider, type ScanReadinessObservation } from "../contracts/index.ts"
import { SampleRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import type { ScanContext } from "./ScanContext.ts"

export class Preflight extends Context.Service<Preflight, {
  readonly run: (context: ScanContext) => Effect.Effect<ScanReadinessObservation, StorageError>
}>()("@spectral/engine/pipeline/Preflight") {
  static readonly layer = Layer.effect(
    Preflight,
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const samples = yield* SampleRepo
      const run = Effect.fn("Preflight.run")(function*(context: ScanContext) {
        const { workspace } = context
        const availability = yield* provider.availability({
          workspaceId: workspace.id,
          worldModelId: workspace.worldModelId,
          framework: workspace.framework,
          seed: context.scan.seed,
          size: workspace.framework.evalSetSize
        })
        const curated = (yield* samples.samples(workspace.id)).filter((s) => s.state === "active" && s.groundTruth !== undefined)
        const mode = availability.available
          ? curated.length > 0 ? "blended" as const : "synthetic_only" as const
          : "conformance_only" as const
        const now = yield* nowIso
        return {
          mode,
          curationSamplesCount: curated.length,
          evalSetAvailable: availability.available,
          reason: availability.available
            ? `${availability.reason}; ${curated.length} curated conformance sample(s)`
            : availability.reason,
          observedAt: now
        } satisfies ScanReadinessObservation
      })
      return Preflight.of({ run })
    })
  )
}
