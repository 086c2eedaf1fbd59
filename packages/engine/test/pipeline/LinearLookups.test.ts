/**
 * Per-stimulus work must not grow with the eval set: the card's per-agent runs and the
 * counterfactual blame's passing runs read each run a bounded number of times. A counting fake
 * (a Proxy over the runs array) counts element reads at 20 and at 80 stimuli; reads per stimulus
 * must stay flat (an O(N²) look-up would quadruple them).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { AgentPerformanceCard, Diagnosis, EvalSet } from "../../src/contracts/index.ts"
import type { ArmMeasurement, RunMeasurement } from "../../src/measurement/Measurement.ts"
import { buildCard } from "../../src/pipeline/Complete.ts"
import { counterfactualBlame } from "../../src/pipeline/Diagnose.ts"
import type { ObserveOutput } from "../../src/pipeline/Observe.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import type { VerdictOutput } from "../../src/pipeline/Verdict.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const counting = (runs: ReadonlyArray<RunMeasurement>) => {
  const counter = { reads: 0 }
  const proxy = new Proxy([...runs], {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) counter.reads++
      return Reflect.get(target, key, receiver)
    }
  })
  return { runs: proxy as ReadonlyArray<RunMeasurement>, counter }
}

const engine = (size: number) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(size), toyModel("reader"))))

/** One toy scan of `size` stimuli; then the card and the blame again on counting copies of its runs. */
const readsPerStimulus = (size: number) =>
  Effect.gen(function*() {
    const base = toyWorkspace({ broken: "reader", size })
    yield* (yield* WorkspaceRepo).upsert(base)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: base.id, seed: 3, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(base.id, outcome.scan.id)
    const observe = outputs.get("observe") as ObserveOutput
    const optimize = outputs.get("optimize") as OptimizeOutput
    const verdict = outputs.get("verdict") as VerdictOutput
    const context: ScanContext = {
      workspace: base,
      scan: outcome.scan,
      agents: [base.agents[1]!, base.agents[0]!],
      finalAgentIds: ["calculator"],
      baseline: outcome.changeSet!.agents,
      previousChangeSet: undefined,
      baselineChangeSet: undefined,
      concurrency: 4
    }
    const baseline = counting(observe.baseline.runs)
    const winner = optimize.winner === null ? undefined : counting(optimize.winner.measurement.runs)
    const card: AgentPerformanceCard = buildCard(
      context,
      { ...observe, baseline: { ...observe.baseline, runs: baseline.runs } satisfies ArmMeasurement },
      verdict.composite,
      outcome.diagnosis as Diagnosis,
      winner === undefined ? optimize : { ...optimize, winner: { ...optimize.winner!, measurement: { ...optimize.winner!.measurement, runs: winner.runs } } },
      outcome.verdict,
      outcome.changeSet!,
      "2026-01-01T00:00:00.000Z"
    )
    assert.strictEqual(card.agents.length, 2)
    const cardReads = baseline.counter.reads + (winner?.counter.reads ?? 0)
    const blameRuns = counting(observe.baseline.runs)
    yield* counterfactualBlame(context, observe.evalSet as EvalSet, blameRuns.runs)
    return { card: cardReads / size, blame: blameRuns.counter.reads / size }
  }).pipe(Effect.provide(engine(size)))

describe("look-ups per stimulus do not grow with the eval set", () => {
  it.effect("the card and the counterfactual blame read each run a bounded number of times", () =>
    Effect.gen(function*() {
      const small = yield* readsPerStimulus(20)
      const large = yield* readsPerStimulus(80)
      assert.isAbove(small.card, 0)
      assert.isAbove(small.blame, 0)
      assert.isBelow(large.card / small.card, 1.5, `card reads per stimulus: ${small.card} at 20, ${large.card} at 80`)
      assert.isBelow(large.blame / small.blame, 1.5, `blame reads per stimulus: ${small.blame} at 20, ${large.blame} at 80`)
    }), 120_000)
})
