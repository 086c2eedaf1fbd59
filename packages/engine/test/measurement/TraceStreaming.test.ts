/**
 * A measurement streamed to a sink writes its traces and results in whole batches, in the jobs'
 * order, while it runs, and hands back only the last partial batch: the same traces, in the same
 * order, as the unstreamed measurement, never more than a batch waiting in memory (plus the runs in
 * flight) — a counting sink sees the batches grow with the eval set, the tail does not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { EvalResult, ScanTrace } from "../../src/contracts/index.ts"
import { measureArm, measureArmInto, type MeasureRequest } from "../../src/measurement/Measurement.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { toyEvalSet, toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const engine = ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(10), toyModel("reader"))))

const requestFor = (size: number): MeasureRequest => {
  const workspace = toyWorkspace({ broken: "reader", size })
  // Topological order: the reader feeds the calculator.
  const agents = [workspace.agents[1]!, workspace.agents[0]!]
  return {
    workspaceId: workspace.id,
    scanId: "stream-scan",
    arm: "baseline",
    agents,
    team: agents.map((agent) => ({ agentId: agent.id, version: 1, template: agent.template, hyperparameters: agent.hyperparameters })),
    samples: toyEvalSet(size).samples,
    framework: workspace.framework,
    phase: "observe",
    finalAgentIds: ["calculator"],
    concurrency: 3
  }
}

const streamed = (size: number, batchSize: number) =>
  Effect.gen(function*() {
    const batches: Array<{ readonly traces: ReadonlyArray<ScanTrace>; readonly results: ReadonlyArray<EvalResult> }> = []
    const measured = yield* measureArmInto(requestFor(size), {
      batchSize,
      write: (traces, results) => Effect.sync(() => void batches.push({ traces, results }))
    })
    return { batches, measured }
  })

describe("streaming a measurement's traces", () => {
  it.effect("writes whole batches in job order and returns the rest: the same traces as unstreamed", () =>
    Effect.gen(function*() {
      const whole = yield* measureArm(requestFor(23))
      const { batches, measured } = yield* streamed(23, 5)
      assert.deepStrictEqual(batches.map((b) => b.traces.length), [5, 5, 5, 5], "four whole batches of five while measuring")
      assert.strictEqual(measured.traces.length, 3, "the last three come back to the caller")
      const ids = [...batches.flatMap((b) => b.traces), ...measured.traces].map((t) => t.id)
      assert.deepStrictEqual(ids, whole.traces.map((t) => t.id), "the same traces in the same order")
      const resultIds = [...batches.flatMap((b) => b.results), ...measured.results].map((r) => r.id)
      assert.deepStrictEqual(resultIds, whole.results.map((r) => r.id))
      assert.deepStrictEqual(measured.measurement.runs.map((r) => r.traceId), whole.measurement.runs.map((r) => r.traceId), "the measurement keeps every run")
    }).pipe(Effect.provide(engine)))

  it.effect("what waits in memory stays under a batch however many stimuli are measured", () =>
    Effect.gen(function*() {
      const small = yield* streamed(12, 4)
      const large = yield* streamed(48, 4)
      assert.strictEqual(large.batches.length, 12, "the batches grow with the eval set")
      assert.isBelow(large.measured.traces.length, 4, "the tail does not")
      assert.isBelow(small.measured.traces.length, 4)
      assert.strictEqual(large.measured.measurement.runs.length, 48)
    }).pipe(Effect.provide(engine)))
})
