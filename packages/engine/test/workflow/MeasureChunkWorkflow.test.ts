/**
 * A scan whose measurements go out in chunks (child workflows, `MeasureChunkWorkflow`) on an
 * in-memory cluster: it reaches the verdict an in-process scan of the same seed reaches with the
 * same model calls, the same spend in its ledger and the same traces (none twice); a budget too
 * small for the scan is never passed by chunks measured at once; a chunk settled twice (replayed
 * after a crash) is charged once; the chunks' spans (their model calls) are in the scan's trace; a
 * dead provider fails the scan in Observe with its error after a few chunks, not all of them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref, Tracer } from "effect"
import { AiError } from "effect/ai"
import { ClusterWorkflowEngine, TestRunner } from "effect/cluster"
import { WorkflowEngine } from "effect/workflow"
import type { LanguageModel } from "effect/ai"
import { BudgetLedger, CurrentLedger, openLedger } from "../../src/agents/BudgetLedger.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { chunkBlock, sendUnderBlock } from "../../src/workflow/ChunkDispatch.ts"
import * as MeasureChunkWorkflow from "../../src/workflow/MeasureChunkWorkflow.ts"
import * as ScanWorkflow from "../../src/workflow/ScanWorkflow.ts"
import { toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "../pipeline/HookedToyModel.ts"
import { recordingTracer } from "./RecordingTracer.ts"

const counted = (calls: Ref.Ref<number>) => hookedToyModel(() => Ref.update(calls, (n) => n + 1))

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(30), model)))

/** Scans and their chunks on an in-memory cluster; measurements of more than 4 stimuli go out 4 at a time. */
const chunkedWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  Layer.mergeAll(
    ScanWorkflow.layer.pipe(Layer.provide(MeasureChunkWorkflow.layerDispatch({ chunkSize: 4, inFlight: 3 }))),
    MeasureChunkWorkflow.layer
  ).pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(TestRunner.layer),
    Layer.provideMerge(engineWith(model))
  )

const workspace = toyWorkspace({ broken: "reader" })

const tracesOf = (scanId: string) =>
  Effect.gen(function*() {
    const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, scanId)
    return { ids: traces.map((t) => t.id).sort(), distinct: new Set(traces.map((t) => t.id)).size }
  })

describe("measurements in chunks on the cluster", () => {
  it.live("reach the in-process scan's verdict, model calls, spend and traces", () =>
    Effect.gen(function*() {
      const localCalls = yield* Ref.make(0)
      const expected = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7, concurrency: 4 })
        const stored = yield* (yield* ScanRepo).get(workspace.id, outcome.scan.id)
        return { verdict: outcome.verdict, spend: stored.spend, traces: yield* tracesOf(outcome.scan.id) }
      }).pipe(Effect.provide(engineWith(counted(localCalls))))

      const calls = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const summary = yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: workspace.id, requestId: "chunked", seed: 7, concurrency: 4 })
        assert.strictEqual(summary.state, "completed")
        assert.strictEqual(summary.verdict, expected.verdict.outcome)
        assert.strictEqual(summary.checksPassed, expected.verdict.checksPassed)
        assert.strictEqual(yield* Ref.get(calls), yield* Ref.get(localCalls), "the chunks make the calls the in-process scan makes")
        const stored = yield* (yield* ScanRepo).get(workspace.id, summary.scanId)
        assert.strictEqual(stored.spend?.total.calls, expected.spend?.total.calls, "every chunk's calls are in the scan's ledger, once")
        const observed = stored.spend?.byPhase["observe"]
        assert.deepStrictEqual({ ...observed, usd: 0 }, { ...expected.spend?.byPhase["observe"], usd: 0 })
        assert.closeTo(observed?.usd ?? -1, expected.spend?.byPhase["observe"]?.usd ?? 0, 1e-12, "the same dollars (summed in another order)")
        assert.isAbove(stored.spend?.settledBlocks?.length ?? 0, 7, "the baseline's 30 stimuli went out in chunks of 4")
        const traces = yield* tracesOf(summary.scanId)
        assert.strictEqual(traces.distinct, traces.ids.length, "no trace twice")
        assert.deepStrictEqual(
          traces.ids.map((id) => id.slice(id.indexOf(":", id.indexOf(":scan:") + 6))),
          expected.traces.ids.map((id) => id.slice(id.indexOf(":", id.indexOf(":scan:") + 6))),
          "the same traces (arms, stimuli, epochs) as the in-process scan"
        )
      }).pipe(Effect.provide(chunkedWith(counted(calls))))
    }))

  it.live("a budget the scan cannot finish within is never passed by chunks out at once", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const tight = { ...workspace, id: "tight", framework: { ...workspace.framework, economics: { ...workspace.framework.economics, maxCallsPerScan: 100 } } }
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(tight)
        const outcome = yield* Effect.result(ScanWorkflow.ScanWorkflow.execute({ workspaceId: tight.id, requestId: "tight", seed: 7, concurrency: 8 }))
        const scan = (yield* (yield* ScanRepo).list(tight.id))[0]!
        assert.isAtMost(yield* Ref.get(calls), 100, "no more model calls than the budget allows")
        assert.strictEqual(scan.spend?.total.calls, yield* Ref.get(calls), "the ledger counts every call the chunks made")
        // The budget stopped the work: the scan's spend says so, as an in-process scan's does.
        assert.isTrue(scan.spend?.exhausted, "the scan's ledger is marked exhausted")
        if (outcome._tag === "Success") assert.strictEqual(outcome.success.state, "completed")
        else assert.strictEqual(scan.state, "failed")
      }).pipe(Effect.provide(chunkedWith(counted(calls))))
    }))

  it.effect("a chunk whose block ran out marks the scan's ledger exhausted there, as a call refused in process would; so does a chunk with no call left", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      const engine = yield* WorkflowEngine.WorkflowEngine
      const state = yield* openLedger({ maxCalls: 10, maxTokens: 100_000, maxUsd: 100 })
      yield* Effect.gen(function*() {
        const spend = { "agent:reader": { calls: 4, tokens: 40, usd: 0.04, cachedCalls: 0 } }
        const block = yield* chunkBlock(ledger, "optimize", 3)
        assert.strictEqual(block.calls, 4, "its planned calls and a quarter more")
        const ranOut = { _tag: "BudgetExhausted" as const, message: "block spent", spend, limit: "calls" as const }
        yield* sendUnderBlock(ledger, engine, "optimize", "optimize/cand/0/abc", block, Effect.succeed(ranOut), (o) => o.limit)
        const after = yield* ledger.snapshot
        assert.isTrue(after.exhausted)
        assert.deepStrictEqual(after.exhaustedAt, { phase: "optimize", limit: "calls" })
        assert.strictEqual(after.total.calls, 4, "what it spent is charged")
        // A chunk that finished within its block marks nothing.
        const fresh = yield* openLedger({ maxCalls: 10, maxTokens: 100_000, maxUsd: 100 })
        yield* Effect.gen(function*() {
          const fine = yield* chunkBlock(ledger, "observe", 3)
          yield* sendUnderBlock(ledger, engine, "observe", "observe/base/0/abc", fine, Effect.succeed({ spend }), () => undefined)
          assert.isFalse((yield* ledger.snapshot).exhausted)
          // Spend the rest: the next chunk finds not one call left, and the ledger says where.
          const rest = yield* chunkBlock(ledger, "observe", 6)
          yield* sendUnderBlock(ledger, engine, "observe", "observe/base/1/def", rest, Effect.succeed({ spend: { "agent:reader": { calls: 6, tokens: 60, usd: 0.06, cachedCalls: 0 } } }), () => undefined)
          const refused = yield* Effect.flip(chunkBlock(ledger, "observe", 3))
          assert.strictEqual(refused._tag, "BudgetExhausted")
          assert.deepStrictEqual((yield* ledger.snapshot).exhaustedAt, { phase: "observe", limit: "calls" })
        }).pipe(Effect.provideService(CurrentLedger, fresh))
      }).pipe(Effect.provideService(CurrentLedger, state))
    }).pipe(Effect.provide(Layer.merge(BudgetLedger.layer, WorkflowEngine.layerMemory))))

  it.effect("a block settled twice under one key (a chunk replayed after a crash) is charged once", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      const state = yield* openLedger({ maxCalls: 10, maxTokens: 1_000, maxUsd: 1 })
      yield* Effect.gen(function*() {
        const spend = { "agent:reader": { calls: 3, tokens: 30, usd: 0.03, cachedCalls: 0 } }
        const first = yield* ledger.reserveBlock("observe", { calls: 4, tokens: 40, usd: 0.04 })
        assert.strictEqual((yield* ledger.snapshot).inFlight.calls, 4, "the block is held while out")
        yield* ledger.settleBlock(first, "observe/baseline/0/abc", spend)
        const replayed = yield* ledger.reserveBlock("observe", { calls: 4, tokens: 40, usd: 0.04 })
        yield* ledger.settleBlock(replayed, "observe/baseline/0/abc", spend)
        const snapshot = yield* ledger.snapshot
        assert.strictEqual(snapshot.total.calls, 3)
        assert.strictEqual(snapshot.inFlight.calls, 0, "both blocks released")
        const refused = yield* Effect.flip(ledger.reserveBlock("observe", { calls: 8, tokens: 0, usd: 0 }))
        assert.strictEqual(refused._tag, "BudgetExhausted", "a block over what is left is refused")
      }).pipe(Effect.provideService(CurrentLedger, state))
    }).pipe(Effect.provide(BudgetLedger.layer)))

  it.live("the chunks' spans and their model calls are in the trace derived from the scan's id", () =>
    Effect.gen(function*() {
      const { spans, tracer: native } = recordingTracer()
      const summary = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: workspace.id, requestId: "traced", seed: 7, concurrency: 4 })
      }).pipe(Effect.provide(chunkedWith(hookedToyModel(() => Effect.void)).pipe(Layer.provide(Layer.succeed(Tracer.Tracer)(native)))))
      const expected = ScanWorkflow.scanTraceParent(summary.scanId).traceId
      const chunks = spans.filter((s) => s.name === "spectral.measure_chunk")
      assert.isAbove(chunks.length, 7, "the chunks were measured as their own executions")
      const ofScan = spans.filter((s) => s.name === "spectral.measure_chunk" || s.name === "chat")
      const outside = ofScan.filter((s) => s.traceId !== expected)
      assert.deepStrictEqual(outside.map((s) => s.name), [], "every chunk and model-call span joins the scan's trace")
    }))

  it.live("a dead provider fails the scan in Observe with the provider's error; no further chunk goes out once that is clear", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const dead = hookedToyModel(() =>
        Effect.andThen(
          Ref.update(calls, (n) => n + 1),
          AiError.make({
            module: "OpenAiCompatible",
            method: "generateText",
            reason: new AiError.NetworkError({ reason: "TransportError", method: "POST", url: "http://127.0.0.1:9/v1/chat/completions", description: "Connection error." })
          })
        ))
      const outage = { ...workspace, id: "outage" }
      const exit = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(outage)
        return yield* Effect.exit(ScanWorkflow.ScanWorkflow.execute({ workspaceId: outage.id, requestId: "dead", seed: 7, concurrency: 2 }))
      }).pipe(Effect.provide(chunkedWith(dead)))
      assert.strictEqual(exit._tag, "Failure")
      const failure = exit._tag === "Failure" ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const error = (failure as { readonly error: { readonly _tag: string; readonly phase: string; readonly reason: string } } | undefined)?.error
      assert.strictEqual(error?._tag, "ScanFailed")
      assert.strictEqual(error?.phase, "observe")
      assert.include(error?.reason ?? "", "Connection error", "the provider's error, in words")
      // 30 stimuli in chunks of 4, 3 out at once: the check trips within the first chunks back.
      assert.isBelow(yield* Ref.get(calls), 30, "far fewer calls than measuring every stimulus would make")
    }))
})
