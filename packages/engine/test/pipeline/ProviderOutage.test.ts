/**
 * A model provider that fails (an outage) is a failed scan, never a measurement: once more of
 * Observe's baseline runs have failed for infrastructure reasons than the framework's
 * `maxInfraFailureRate` allows of all the runs planned, no further model call is started, Observe
 * fails with the provider's error, the scan is `failed` with it, and nothing is stored as measured
 * (no traces, no change set). Failures within the threshold are quarantined as before and the scan
 * completes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref } from "effect"
import { AiError, type LanguageModel } from "effect/ai"
import type { Workspace } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "./HookedToyModel.ts"

const PROVIDER_ERROR = "TransportError: Connection error. (POST http://127.0.0.1:9/v1/chat/completions)"

/** Calls whose index `fails` picks fail as a dead endpoint would; `calls` counts them all. */
const outageModel = (calls: Ref.Ref<number>, fails: (index: number) => boolean) =>
  hookedToyModel(({ index }) =>
    Effect.gen(function*() {
      yield* Ref.update(calls, (n) => n + 1)
      if (!fails(index)) return
      yield* Effect.sleep("5 millis")
      return yield* AiError.make({
        module: "OpenAiCompatible",
        method: "generateText",
        reason: new AiError.NetworkError({ reason: "TransportError", method: "POST", url: "http://127.0.0.1:9/v1/chat/completions", description: "Connection error." })
      })
    }))

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), model)))

const scanOf = (workspace: Workspace, concurrency: number) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    return yield* Effect.exit((yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency }))
  })

describe("a model provider outage", () => {
  it.live("every call failing: the scan fails in observe with the provider's error, within a few calls, storing no measurement", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const workspace = toyWorkspace({ broken: "reader" })
      const result = yield* Effect.gen(function*() {
        const exit = yield* scanOf(workspace, 4)
        const [scan] = yield* (yield* ScanRepo).list(workspace.id)
        const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, scan!.id)
        const changeSets = yield* (yield* ChangeSetRepo).list(workspace.id)
        return { exit, scan: scan!, traces, changeSets }
      }).pipe(Effect.provide(engineWith(outageModel(calls, () => true))))
      assert.isTrue(Exit.isFailure(result.exit), "the scan did not complete")
      const failure = Exit.isFailure(result.exit) ? result.exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const error = (failure as { readonly error: { readonly _tag: string; readonly phase: string; readonly reason: string } }).error
      assert.strictEqual(error._tag, "ScanFailed")
      assert.strictEqual(error.phase, "observe")
      assert.include(error.reason, PROVIDER_ERROR)
      assert.include(error.reason, "of 40 baseline runs")
      assert.strictEqual(result.scan.state, "failed")
      assert.include(result.scan.failureReason ?? "", PROVIDER_ERROR)
      assert.isUndefined(result.scan.lease, "a failed scan holds no lease")
      // 5% of 40 runs is 2 failures: the third trips it; only calls already in flight then (4
      // permits, and a few started as the first ones failed) were made — not one per stimulus.
      assert.isAtMost(yield* Ref.get(calls), 3 + 2 * 4, "model calls stop once the threshold is certainly exceeded")
      assert.deepStrictEqual(result.traces, [], "a failed Observe stores nothing as measured")
      assert.deepStrictEqual(result.changeSets, [], "no change set, validated or otherwise")
    }))

  it.live("failures within maxInfraFailureRate are quarantined and the scan completes", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const workspace = toyWorkspace({ broken: "reader" })
      // One failing call (the first stimulus's reader): 1 of 40 runs, below 5%.
      const exit = yield* scanOf(workspace, 1).pipe(Effect.provide(engineWith(outageModel(calls, (index) => index === 0))))
      assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? String(exit.cause) : "")
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value.scan.state, "completed")
        assert.strictEqual(exit.value.diagnosis.quarantine.infraFailures.length, 1)
      }
    }))
})
