/**
 * Each rubric explanation is screened once in a Diagnose run: Diagnose screens the failing
 * explanations before clustering, and the clusterer (the offline one) clusters what it is given
 * without screening it again. The screen module is wrapped to count, per trace, how often its
 * explanation went through `screenFailures` (and how often `screenExplanation` was called directly).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { vi } from "vitest"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { scriptedModel } from "../clustering/ScriptedLabelModel.ts"
import { toyAnswer, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const screened = vi.hoisted(() => ({ byTrace: new Map<string, number>(), direct: 0 }))

vi.mock("../../src/clustering/ExplanationScreen.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/clustering/ExplanationScreen.ts")>()
  return {
    ...original,
    screenExplanation: (explanation: string) => {
      screened.direct++
      return original.screenExplanation(explanation)
    },
    screenFailures: <F extends { readonly traceId: string; readonly explanation: string }>(failures: ReadonlyArray<F>) => {
      for (const f of failures) screened.byTrace.set(f.traceId, (screened.byTrace.get(f.traceId) ?? 0) + 1)
      return original.screenFailures(failures)
    }
  }
})

describe("Diagnose screens each explanation once", () => {
  it.effect("every failing trace's explanation goes through the screen exactly once in a scan", () =>
    Effect.gen(function*() {
      screened.byTrace.clear()
      screened.direct = 0
      const model = scriptedModel((user, system, parameters) => toyAnswer(system, user, parameters.temperature, "calculator"))
      const workspace = toyWorkspace({ broken: "calculator" })
      const outcome = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5, concurrency: 4 })
      }).pipe(Effect.provide(ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), model.layer)))))
      const diagnosis = outcome.diagnosis
      assert.isAbove(diagnosis.failingCount, 0)
      assert.isAbove(diagnosis.clusters.length, 0)
      // The failing traces Diagnose clustered are exactly the ones screened, each once.
      const clustered = diagnosis.clusters.flatMap((c) => c.memberTraceIds)
      assert.isTrue(clustered.every((id) => screened.byTrace.has(id)), "every clustered trace was screened")
      assert.strictEqual(screened.byTrace.size, diagnosis.failingCount)
      const repeated = [...screened.byTrace].filter(([, n]) => n !== 1)
      assert.deepStrictEqual(repeated, [], "explanations screened more than once")
      assert.strictEqual(screened.direct, 0)
    }))
})
