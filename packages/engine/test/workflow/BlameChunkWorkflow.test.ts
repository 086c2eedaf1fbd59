/**
 * Diagnose's counterfactual re-runs in chunks (child workflows, `BlameChunkWorkflow`) on an
 * in-memory cluster: a scan of the toy two-agent team (its reader broken, so many baseline runs
 * fail and are re-run with the reader's ground truth) reaches the in-process scan's diagnosis,
 * verdict, model calls and spend; the blame of every failing run is the one decided in process; a
 * budget the scan cannot finish within is never passed by blame chunks out at once; a blame chunk
 * sent twice under one key (replayed) makes its calls and is charged once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref, Schema, Tracer } from "effect"
import { ClusterWorkflowEngine, TestRunner } from "effect/cluster"
import type { LanguageModel } from "effect/ai"
import { BudgetLedger, CurrentLedger, openLedger } from "../../src/agents/BudgetLedger.ts"
import { ObserveOutput } from "../../src/contracts/PhaseOutputs.ts"
import { BlameDispatch } from "../../src/measurement/BlameDispatch.ts"
import { counterfactualBlame } from "../../src/pipeline/Diagnose.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { FailureClusterRepo, ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import * as BlameChunkWorkflow from "../../src/workflow/BlameChunkWorkflow.ts"
import * as MeasureChunkWorkflow from "../../src/workflow/MeasureChunkWorkflow.ts"
import * as ScanWorkflow from "../../src/workflow/ScanWorkflow.ts"
import { toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "../pipeline/HookedToyModel.ts"
import { recordingTracer } from "./RecordingTracer.ts"

const counted = (calls: Ref.Ref<number>) => hookedToyModel(() => Ref.update(calls, (n) => n + 1))

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(30), model)))

const chunking = { chunkSize: 4, inFlight: 3 }

/** The cluster's layers without the scans: blame chunks dispatched and carried. */
const clusterWith = <A, E, R>(workflows: Layer.Layer<A, E, R>, model: Layer.Layer<LanguageModel.LanguageModel>) =>
  workflows.pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(TestRunner.layer),
    Layer.provideMerge(engineWith(model))
  )

/** Scans and their chunks on an in-memory cluster, as a runner carries them: measurements and blame 4 at a time. */
const chunkedWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  clusterWith(
    Layer.mergeAll(
      ScanWorkflow.layer.pipe(Layer.provide(Layer.mergeAll(MeasureChunkWorkflow.layerDispatch(chunking), BlameChunkWorkflow.layerDispatch(chunking)))),
      MeasureChunkWorkflow.layer,
      BlameChunkWorkflow.layer
    ),
    model
  )

/** Only blame chunks, dispatched from this fiber (`BlameDispatch` in context) and carried by the cluster. */
const blameChunksWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  clusterWith(Layer.mergeAll(BlameChunkWorkflow.layerDispatch(chunking), BlameChunkWorkflow.layer), model)

const workspace = toyWorkspace({ broken: "reader" })

/** A stored value with the scan's id taken out (ids of clusters and traces name their scan). */
const withoutScanId = (value: unknown, scanId: string): unknown => JSON.parse(JSON.stringify(value).split(scanId).join("<scan>"))

const failingOf = (observe: ObserveOutput, threshold: number) => observe.baseline.runs.filter((r) => r.status === "ok" && (r.blended ?? 0) < threshold)

/** An in-process scan of the toy team; its Diagnose's inputs for running the blame again. */
const blameInputs = Effect.gen(function*() {
  yield* (yield* WorkspaceRepo).upsert(workspace)
  const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7, concurrency: 4 })
  const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
  const observe = yield* Schema.decodeUnknownEffect(ObserveOutput)(outputs.get("observe"))
  assert.isDefined(outcome.changeSet, "the toy scan proposes a change set")
  const context: ScanContext = {
    workspace,
    scan: outcome.scan,
    agents: [workspace.agents[1]!, workspace.agents[0]!],
    finalAgentIds: ["calculator"],
    baseline: outcome.changeSet!.agents,
    previousChangeSet: undefined,
    baselineChangeSet: undefined,
    concurrency: 4
  }
  return { context, observe }
}).pipe(Effect.provide(engineWith(hookedToyModel(() => Effect.void))))

describe("counterfactual re-runs in chunks on the cluster", () => {
  it.live("a scan reaches the in-process scan's diagnosis, verdict, model calls and spend", () =>
    Effect.gen(function*() {
      const localCalls = yield* Ref.make(0)
      const expected = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7, concurrency: 4 })
        const stored = yield* (yield* ScanRepo).get(workspace.id, outcome.scan.id)
        const observe = yield* Schema.decodeUnknownEffect(ObserveOutput)((yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)).get("observe"))
        return {
          verdict: outcome.verdict,
          spend: stored.spend,
          failing: failingOf(observe, workspace.framework.passThreshold).length,
          diagnosis: withoutScanId(outcome.diagnosis, outcome.scan.id),
          clusters: withoutScanId(yield* (yield* FailureClusterRepo).list(workspace.id, outcome.scan.id), outcome.scan.id)
        }
      }).pipe(Effect.provide(engineWith(counted(localCalls))))
      assert.isAbove(expected.failing, 2 * chunking.chunkSize, "more failing runs than a chunk: the blame goes out in chunks")

      const calls = yield* Ref.make(0)
      const { spans, tracer: native } = recordingTracer()
      const summary = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const summary = yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: workspace.id, requestId: "chunked-blame", seed: 7, concurrency: 4 })
        assert.strictEqual(summary.state, "completed")
        assert.strictEqual(summary.verdict, expected.verdict.outcome)
        assert.strictEqual(summary.checksPassed, expected.verdict.checksPassed)
        assert.strictEqual(yield* Ref.get(calls), yield* Ref.get(localCalls), "the chunks make the calls the in-process scan makes")
        const clusters = yield* (yield* FailureClusterRepo).list(workspace.id, summary.scanId)
        assert.isAbove(clusters.length, 0)
        assert.deepStrictEqual(withoutScanId(clusters, summary.scanId), expected.clusters, "the same clusters, members and blame per agent")
        const stored = yield* (yield* ScanRepo).get(workspace.id, summary.scanId)
        assert.strictEqual(stored.spend?.total.calls, expected.spend?.total.calls, "every chunk's calls are in the scan's ledger, once")
        const diagnosed = stored.spend?.byPhase["diagnose"]
        assert.isAbove(diagnosed?.calls ?? 0, 0, "Diagnose re-ran the team")
        assert.deepStrictEqual({ ...diagnosed, usd: 0 }, { ...expected.spend?.byPhase["diagnose"], usd: 0 })
        assert.closeTo(diagnosed?.usd ?? -1, expected.spend?.byPhase["diagnose"]?.usd ?? 0, 1e-12, "the same dollars (summed in another order)")
        const blameBlocks = (stored.spend?.settledBlocks ?? []).filter((key) => key.startsWith("diagnose/blame/"))
        assert.strictEqual(blameBlocks.length, Math.ceil(expected.failing / chunking.chunkSize), "one block settled per chunk of failing runs")
        return summary
      }).pipe(Effect.provide(chunkedWith(counted(calls)).pipe(Layer.provide(Layer.succeed(Tracer.Tracer)(native)))))
      const chunks = spans.filter((s) => s.name === "spectral.blame_chunk")
      assert.strictEqual(chunks.length, Math.ceil(expected.failing / chunking.chunkSize), "each chunk of failing runs ran as its own execution")
      const expectedTrace = ScanWorkflow.scanTraceParent(summary.scanId).traceId
      assert.deepStrictEqual(chunks.filter((s) => s.traceId !== expectedTrace).map((s) => s.name), [], "every blame chunk joins the scan's trace")
    }))

  it.live("the blame of every failing run is the one decided in process, with the same calls and spend", () =>
    Effect.gen(function*() {
      const { context, observe } = yield* blameInputs
      const failing = failingOf(observe, workspace.framework.passThreshold)
      const budget = { maxCalls: 10_000, maxTokens: 10_000_000, maxUsd: 100 }

      const localCalls = yield* Ref.make(0)
      const expected = yield* Effect.gen(function*() {
        const ledger = yield* openLedger(budget)
        const blame = yield* counterfactualBlame(context, observe.evalSet, observe.baseline.runs).pipe(Effect.provideService(CurrentLedger, ledger))
        return { blame: [...blame.entries()], spend: (yield* Ref.get(ledger)).byPurpose }
      }).pipe(Effect.provide(engineWith(counted(localCalls))))
      assert.isAbove(yield* Ref.get(localCalls), 0, "the failing runs were re-run")

      const calls = yield* Ref.make(0)
      const { spans, tracer: native } = recordingTracer()
      yield* Effect.gen(function*() {
        assert.isDefined(yield* BlameDispatch, "a dispatcher is in context")
        const ledger = yield* openLedger(budget)
        const blame = yield* counterfactualBlame(context, observe.evalSet, observe.baseline.runs).pipe(Effect.provideService(CurrentLedger, ledger))
        const state = yield* Ref.get(ledger)
        assert.deepStrictEqual([...blame.entries()], expected.blame, "the same shares for every run, in the same order")
        assert.isTrue(failing.every((run) => blame.has(run.traceId)), "every failing run is blamed")
        assert.strictEqual(yield* Ref.get(calls), yield* Ref.get(localCalls), "the chunks make the re-runs made in process")
        assert.deepStrictEqual(
          Object.fromEntries(Object.entries(state.byPurpose).map(([purpose, spend]) => [purpose, { ...spend, usd: 0 }])),
          Object.fromEntries(Object.entries(expected.spend).map(([purpose, spend]) => [purpose, { ...spend, usd: 0 }])),
          "the scan's ledger is charged what the in-process re-runs spent"
        )
        assert.strictEqual(state.inFlight.calls, 0, "every block released")
      }).pipe(Effect.provide(blameChunksWith(counted(calls)).pipe(Layer.provide(Layer.succeed(Tracer.Tracer)(native)))))
      assert.strictEqual(spans.filter((s) => s.name === "spectral.blame_chunk").length, Math.ceil(failing.length / chunking.chunkSize))
    }))

  it.live("a budget the scan cannot finish within is never passed by blame chunks out at once", () =>
    Effect.gen(function*() {
      // The calls an in-process scan makes before its Diagnose, and in it.
      const spent = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7, concurrency: 8 })
        return (yield* (yield* ScanRepo).get(workspace.id, outcome.scan.id)).spend!
      }).pipe(Effect.provide(engineWith(hookedToyModel(() => Effect.void))))
      const diagnosed = spent.byPhase["diagnose"]?.calls ?? 0
      const before = (spent.byPhase["observe"]?.calls ?? 0) + (spent.byPhase["evaluate"]?.calls ?? 0)
      assert.isAbove(diagnosed, 8)
      const maxCalls = before + Math.floor(diagnosed / 2)
      const tight = { ...workspace, id: "tight", framework: { ...workspace.framework, economics: { ...workspace.framework.economics, maxCallsPerScan: maxCalls } } }

      const calls = yield* Ref.make(0)
      const { spans, tracer: native } = recordingTracer()
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(tight)
        const outcome = yield* Effect.result(ScanWorkflow.ScanWorkflow.execute({ workspaceId: tight.id, requestId: "tight", seed: 7, concurrency: 8 }))
        const scan = (yield* (yield* ScanRepo).list(tight.id))[0]!
        assert.isAtMost(yield* Ref.get(calls), maxCalls, "no more model calls than the budget allows")
        assert.strictEqual(scan.spend?.total.calls, yield* Ref.get(calls), "the ledger counts every call the chunks made")
        assert.isAtMost(scan.spend?.byPhase["diagnose"]?.calls ?? 0, maxCalls - before, "Diagnose spent no more than was left to it")
        if (outcome._tag === "Success") assert.strictEqual(outcome.success.state, "completed")
        else assert.strictEqual(scan.state, "failed")
      }).pipe(Effect.provide(chunkedWith(counted(calls)).pipe(Layer.provide(Layer.succeed(Tracer.Tracer)(native)))))
      assert.isAtLeast(spans.filter((s) => s.name === "spectral.blame_chunk").length, 2, "the blame went out in chunks, several at once")
    }))

  it.live("a blame chunk sent twice under one key makes its calls and is charged once", () =>
    Effect.gen(function*() {
      const { context, observe } = yield* blameInputs
      const failing = failingOf(observe, workspace.framework.passThreshold).slice(0, chunking.chunkSize)
      const stimuli = new Set(failing.map((run) => run.stimulusId))
      const request = {
        workspaceId: workspace.id,
        scanId: context.scan.id,
        agents: context.agents,
        finalAgentIds: context.finalAgentIds,
        team: context.baseline,
        passThreshold: workspace.framework.passThreshold,
        runs: failing,
        samples: observe.evalSet.samples.filter((sample) => stimuli.has(sample.id)),
        passing: observe.baseline.runs.filter((run) => stimuli.has(run.stimulusId) && run.status === "ok" && (run.blended ?? 0) >= workspace.framework.passThreshold),
        concurrency: 2
      }
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        const dispatch = (yield* BlameDispatch)!
        const ledger = yield* openLedger({ maxCalls: 1_000, maxTokens: 1_000_000, maxUsd: 10 })
        yield* Effect.gen(function*() {
          const first = yield* dispatch.blame({ key: "diagnose/blame/0/replayed", request })
          const madeOnce = yield* Ref.get(calls)
          assert.isAbove(madeOnce, 0, "the chunk re-ran the team")
          const charged = (yield* (yield* BudgetLedger).snapshot).total.calls
          assert.strictEqual(charged, madeOnce, "the block settled at what its calls spent")
          const again = yield* dispatch.blame({ key: "diagnose/blame/0/replayed", request })
          assert.deepStrictEqual(again, first, "the recorded outcome")
          assert.strictEqual(yield* Ref.get(calls), madeOnce, "no call made again")
          const snapshot = yield* (yield* BudgetLedger).snapshot
          assert.strictEqual(snapshot.total.calls, charged, "charged once")
          assert.strictEqual(snapshot.inFlight.calls, 0, "both blocks released")
          assert.deepStrictEqual(Object.keys(first.shares).sort(), failing.map((run) => run.traceId).sort(), "shares for each run of the chunk")
        }).pipe(Effect.provideService(CurrentLedger, ledger))
      }).pipe(Effect.provide(blameChunksWith(counted(calls))))
    }))
})
