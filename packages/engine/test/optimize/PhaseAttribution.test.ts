/**
 * Every model call is booked under the phase that made it: the counterfactual re-runs of credit
 * assignment belong to `diagnose`, not to a catch-all.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { type ToyOptions, toyModel, toyProvider, toyWorkspace } from "./ToyTeam.ts"

describe("phase attribution", () => {
  it.effect("credit-assignment re-runs are booked under diagnose", () =>
    Effect.gen(function*() {
      const options: ToyOptions = { broken: "reader" }
      const workspace = toyWorkspace(options)
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
      assert.isAbove(outcome.spend.byPhase["diagnose"]?.calls ?? 0, 0, JSON.stringify(outcome.spend.byPhase))
      assert.isUndefined(outcome.spend.byPhase["other"], "nothing is booked under other")
    }).pipe(Effect.provide(ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("reader")))))))
})
