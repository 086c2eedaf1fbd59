/**
 * The in-process runner on a memory store (a host embedding the engine, one process): the scan
 * runs as the scan workflow on the runner the host built once beside its store; it completes with
 * the whole outcome (verdict, clusters, change set, card), submitted under its request id; the same
 * request id again joins that scan (no second scan, no model call); no request id starts a new one.
 * The embedded PGlite runner is probed with real processes in scanWorkflowResume.test.ts.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { ScanEngine } from "@spectral/engine"
import { Effect, Layer, Ref } from "effect"
import { EventBus } from "../../engine/src/ports/EventBus.ts"
import * as MemoryStorage from "../../engine/src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../engine/src/ports/Repositories.ts"
import { toyProvider, toyWorkspace } from "../../engine/test/optimize/ToyTeam.ts"
import { hookedToyModel } from "../../engine/test/pipeline/HookedToyModel.ts"
import * as InProcessRunner from "../src/runners/InProcessRunner.ts"

const calls = Ref.makeUnsafe(0)

const engine = ScanEngine.layer().pipe(
  Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(30), hookedToyModel(() => Ref.update(calls, (n) => n + 1))))
)

const workspace = toyWorkspace({ broken: "reader" })

const scan = (requestId?: string) =>
  InProcessRunner.runOnRunner({ workspaceId: workspace.id, seed: 3, concurrency: 4, requestId, exclusiveStore: false })

// Without the test services: the scan's lease heartbeats and the cluster's timers run on the real clock.
layer(InProcessRunner.layerMemory().pipe(Layer.provideMerge(engine)), { timeout: 120_000, excludeTestServices: true })("the in-process runner on a memory store", (it) => {
  it.effect("runs the scan as the workflow under its request id; the same id joins it, none starts another", () =>
    Effect.gen(function*() {
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const first = yield* scan("first")
      assert.strictEqual(first.scan.state, "completed")
      assert.strictEqual(first.requestId, "first")
      assert.isFalse(first.resumed)
      assert.isAbove(first.verdict.checksTotal, 0)
      assert.isAbove(first.diagnosis.clusters.length, 0, "the broken reader's failures are clustered")
      assert.isNotNull(first.changeSet)
      assert.strictEqual(first.card.changeSetStatus, first.changeSet?.status)
      const stored = yield* (yield* ScanRepo).get(workspace.id, first.scan.id)
      assert.strictEqual(stored.submission?.requestId, "first", "submitted as the workflow")

      const callsAfterFirst = yield* Ref.get(calls)
      const again = yield* scan("first")
      assert.strictEqual(again.scan.id, first.scan.id, "the same scan")
      assert.strictEqual(yield* Ref.get(calls), callsAfterFirst, "no model call")
      assert.deepStrictEqual((yield* (yield* ScanRepo).list(workspace.id)).map((s) => s.id), [first.scan.id])

      const next = yield* scan()
      assert.notStrictEqual(next.scan.id, first.scan.id)
      assert.strictEqual(next.scan.state, "completed")
      assert.strictEqual((yield* (yield* ScanRepo).list(workspace.id)).length, 2)
    }))
})
