import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { EvaluationFramework, type Workspace } from "../../src/contracts/index.ts"
import { summarizeByStimulus } from "../../src/measurement/Measurement.ts"
import type { ObserveOutput } from "../../src/pipeline/Observe.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { type ToyOptions, toyModel, toyProvider, toyWorkspace } from "./ToyTeam.ts"

// 160 stimuli: 40 in the holdout, enough for a batch of 10 to leave something unmeasured.
const options: ToyOptions = { broken: "reader", size: 160 }

const engine = ScanEngine.layer(undefined, []).pipe(
  Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(160), toyModel(options.broken)))
)

const scan = (workspace: Workspace) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
    return { outcome, observe: outputs.get("observe") as ObserveOutput, optimize: outputs.get("optimize") as OptimizeOutput }
  }).pipe(Effect.provide(engine))

const holdoutMeasured = (observe: ObserveOutput, optimize: OptimizeOutput) => {
  const holdout = new Set(observe.evalSet.samples.filter((s) => s.holdoutLayer !== "working").map((s) => s.id))
  return { holdout: holdout.size, measured: [...summarizeByStimulus(optimize.winner!.measurement).keys()].filter((id) => holdout.has(id)).length }
}

describe("sequential verdict on the toy team", () => {
  it.effect("a clear winner stops early, measures fewer holdout stimuli, and the verdict says go on those measured", () =>
    Effect.gen(function*() {
      const base = toyWorkspace(options)
      const fixed = yield* scan(base)
      const sequential = yield* scan({ ...base, framework: { ...base.framework, sequential: { enabled: true, batch: 10 } } })

      const all = holdoutMeasured(fixed.observe, fixed.optimize)
      assert.strictEqual(all.measured, all.holdout, "fixed n measures the whole holdout")
      assert.isUndefined(fixed.optimize.sequentialHoldout)

      const record = sequential.optimize.sequentialHoldout!
      const seen = holdoutMeasured(sequential.observe, sequential.optimize)
      assert.strictEqual(record.stopped, "better")
      assert.strictEqual(record.available, all.holdout)
      assert.isBelow(record.measured, record.available, "stopped before the end of the holdout")
      assert.strictEqual(seen.measured, record.measured, "the winner's measurement holds only the stimuli measured")
      assert.strictEqual(record.looks, record.measured / 10)
      assert.isAbove(record.low, 0)
      assert.strictEqual(sequential.optimize.winner!.candidate.id, fixed.optimize.winner!.candidate.id, "the same winner")

      // The same decision, on fewer holdout calls; the decision log and the gate say how many.
      assert.strictEqual(fixed.outcome.verdict.outcome, "go", fixed.outcome.verdict.explanation)
      assert.strictEqual(sequential.outcome.verdict.outcome, "go", sequential.outcome.verdict.explanation)
      assert.isBelow(sequential.outcome.spend.byPhase["optimize"]!.calls, fixed.outcome.spend.byPhase["optimize"]!.calls)
      const won = sequential.optimize.decisionLog.find((d) => d.outcome === "won")!
      assert.include(won.reason, `stopped after ${record.measured} of ${record.available} stimuli`)
      const interval = sequential.outcome.verdict.checks.find((c) => c.gate === "bootstrap_ci")!
      assert.strictEqual(interval.status, "pass")
      assert.include(interval.reason, `${record.observed} stimuli of the synthetic holdout`)
    }))

  it("is off when a stored framework leaves it out, and a partial setting gets the defaults", () => {
    const { sequential: _, ...stored } = Schema.encodeSync(EvaluationFramework)(toyWorkspace(options).framework)
    assert.isUndefined(Schema.decodeUnknownSync(EvaluationFramework)(stored).sequential)
    assert.deepStrictEqual(Schema.decodeUnknownSync(EvaluationFramework)({ ...stored, sequential: { enabled: true } }).sequential, { enabled: true, batch: 20 })
    assert.throws(() => Schema.decodeUnknownSync(EvaluationFramework)({ ...stored, sequential: { enabled: true, batch: 0 } }))
  })
})
