/**
 * ADR-030: the world-model version is metadata on the EvalSet. A scan against 0.1.0 and one against
 * 0.2.0 each record the version they were attributed to, and nothing in the engine branches on it:
 * with the version swapped under identical rules the scan behaves identically apart from the
 * recorded attribution.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, ScanRepo, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
import { EvalSetProvider, type EvalSet } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { smallWorkspace } from "./ScanHarness.ts"

const withWorld = (world: Layer.Layer<EvalSetProvider>) =>
  ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, world, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1 })))
  )

/** The same world, but every EvalSet relabelled with another version (identical rules and stimuli). */
const relabelled = (version: string) =>
  Layer.effect(
    EvalSetProvider,
    Effect.gen(function*() {
      const inner = yield* EvalSetProvider
      const relabel = (set: EvalSet): EvalSet => ({
        ...set,
        attribution: { ...set.attribution, worldModelVersion: version, authority: { ...set.attribution.authority, worldModelVersion: version } }
      })
      return EvalSetProvider.of({ ...inner, evalSet: (request) => Effect.map(inner.evalSet(request), relabel) })
    })
  ).pipe(Layer.provide(WorldsEvalSetProvider.layer))

const scanOnce = Effect.gen(function*() {
  const workspace = smallWorkspace()
  yield* (yield* WorkspaceRepo).upsert(workspace)
  const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5 })
  const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)
  const history = yield* (yield* ScanRepo).list(workspace.id)
  return { outcome, traces, history }
})

describe("version attribution (ADR-030)", () => {
  it.effect("scans on 0.1.0 then on 0.2.0 record the version each was attributed to", () =>
    Effect.gen(function*() {
      const first = yield* scanOnce.pipe(Effect.provide(withWorld(WorldsEvalSetProvider.layer)))
      const second = yield* scanOnce.pipe(Effect.provide(withWorld(WorldsEvalSetProvider.layerCurrent({ "us-federal-individual-tax": "0.2.0" }))))
      assert.strictEqual(first.outcome.scan.attribution?.worldModelVersion, "0.1.0")
      assert.strictEqual(second.outcome.scan.attribution?.worldModelVersion, "0.2.0")
      assert.strictEqual(first.outcome.changeSet?.authority?.worldModelVersion, "0.1.0")
      assert.strictEqual(second.outcome.changeSet?.authority?.worldModelVersion, "0.2.0")
      assert.notStrictEqual(first.outcome.changeSet?.authority?.ruleSetHash, second.outcome.changeSet?.authority?.ruleSetHash)
      assert.strictEqual(second.outcome.card.authority?.worldModelVersion, "0.2.0")
    }))

  it.effect("with identical rules, a different version label changes nothing but the recorded attribution", () =>
    Effect.gen(function*() {
      const a = yield* scanOnce.pipe(Effect.provide(withWorld(WorldsEvalSetProvider.layer)))
      const b = yield* scanOnce.pipe(Effect.provide(withWorld(relabelled("9.9.9"))))
      assert.strictEqual(b.outcome.scan.attribution?.worldModelVersion, "9.9.9")
      assert.deepStrictEqual(b.outcome.verdict, a.outcome.verdict)
      assert.deepStrictEqual(b.outcome.diagnosis, a.outcome.diagnosis)
      assert.deepStrictEqual(b.traces, a.traces)
      // The change set surfaces the attribution it was measured against (metadata); apart from it, identical.
      const strip = (cs: typeof a.outcome.changeSet) =>
        JSON.stringify(cs === null ? null : { ...cs, authority: null, createdAt: "", updatedAt: "" }).replace(/@\d+\.\d+\.\d+/g, "@<version>")
      assert.strictEqual(strip(b.outcome.changeSet), strip(a.outcome.changeSet))
    }))
})
