/**
 * A scan as a durable workflow on effect/cluster's workflow engine (an in-memory cluster here; the
 * CLI suite runs runner processes on Postgres): it completes with the verdict an in-process scan
 * of the same seed reaches, making the same model calls; submitting the same request twice runs
 * one scan and the second submission makes no model call; every span of the scan (its phases,
 * its model calls) is in the trace derived from the scan id, so runners that hand a scan over join
 * one trace; a submission of a workspace that does not exist fails with a typed ScanFailed naming it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref, Tracer } from "effect"
import { ClusterWorkflowEngine, TestRunner } from "effect/cluster"
import type { LanguageModel } from "effect/ai"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ChangeSetRepo, ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import * as ScanWorkflow from "../../src/workflow/ScanWorkflow.ts"
import { toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "../pipeline/HookedToyModel.ts"
import { recordingTracer } from "./RecordingTracer.ts"

const counted = (calls: Ref.Ref<number>) => hookedToyModel(() => Ref.update(calls, (n) => n + 1))

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(30), model)))

/** The engine with the scan workflow registered on an in-memory cluster's workflow engine. */
const durableWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanWorkflow.layer.pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(TestRunner.layer),
    Layer.provideMerge(engineWith(model))
  )

const workspace = toyWorkspace({ broken: "reader" })

/** The in-process scan of the same seed: its verdict and its model calls. */
const reference = Effect.gen(function*() {
  const calls = yield* Ref.make(0)
  return yield* Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7, concurrency: 4 })
    return { verdict: outcome.verdict, calls: yield* Ref.get(calls) }
  }).pipe(Effect.provide(engineWith(counted(calls))))
})

describe("the scan workflow", () => {
  it.live("completes with the in-process scan's verdict and model calls; the same request twice is one scan", () =>
    Effect.gen(function*() {
      const expected = yield* reference
      const calls = yield* Ref.make(0)
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const submission = { workspaceId: workspace.id, requestId: "req-1", seed: 7, concurrency: 4 }
        const first = yield* ScanWorkflow.ScanWorkflow.execute(submission)
        assert.strictEqual(first.state, "completed")
        assert.strictEqual(first.verdict, expected.verdict.outcome)
        assert.strictEqual(first.checksPassed, expected.verdict.checksPassed)
        assert.strictEqual(yield* Ref.get(calls), expected.calls, "the workflow makes the calls an in-process scan makes")
        const stored = yield* (yield* ScanRepo).get(workspace.id, first.scanId)
        assert.strictEqual(stored.state, "completed")
        assert.isUndefined(stored.lease, "a finished scan holds no lease")
        assert.strictEqual(stored.submission?.requestId, "req-1", "the scan names its submission")
        assert.deepStrictEqual(stored.completedPhases, ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize", "safety", "verdict", "complete"])

        const again = yield* ScanWorkflow.ScanWorkflow.execute(submission)
        assert.deepStrictEqual(again, first, "the second submission joins the first execution")
        assert.strictEqual(yield* Ref.get(calls), expected.calls, "and makes no model call")
        assert.lengthOf(yield* (yield* ScanRepo).list(workspace.id), 1, "one scan")
        assert.lengthOf(yield* (yield* ChangeSetRepo).list(workspace.id), 1, "one change set")

        const other = yield* ScanWorkflow.ScanWorkflow.execute({ ...submission, requestId: "req-2" })
        assert.notStrictEqual(other.scanId, first.scanId, "another request is another scan")
      }).pipe(Effect.provide(durableWith(counted(calls))))
    }))

  it.live("the scan's phase and model-call spans are all in the trace derived from its id", () =>
    Effect.gen(function*() {
      const { spans, tracer: native } = recordingTracer()
      const summary = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: workspace.id, requestId: "traced", seed: 7, concurrency: 4 })
      }).pipe(Effect.provide(durableWith(hookedToyModel(() => Effect.void)).pipe(Layer.provide(Layer.succeed(Tracer.Tracer)(native)))))
      const expected = ScanWorkflow.scanTraceParent(summary.scanId).traceId
      // The engine's own spans (the cluster's, `Workflow/…`, are its business).
      const ofScan = spans.filter((s) => !s.name.startsWith("Workflow/") && (s.name === "spectral.scan" || s.name.endsWith(".run") || s.name === "chat"))
      assert.isAbove(ofScan.filter((s) => s.name === "chat").length, 10, "model-call spans were recorded")
      const outside = ofScan.filter((s) => s.traceId !== expected)
      assert.deepStrictEqual(outside.map((s) => s.name), [], `spans outside the scan's trace: ${JSON.stringify(outside.slice(0, 5))}`)
    }))

  it.live("a workspace that does not exist fails the submission with a typed ScanFailed naming it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(ScanWorkflow.ScanWorkflow.execute({ workspaceId: "nowhere", requestId: "req-1", seed: 1, concurrency: 2 }))
      assert.isTrue(Exit.isFailure(exit))
      const failure = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const error = (failure as { readonly error?: ScanWorkflow.ScanSummary | { readonly _tag: string; readonly reason: string } } | undefined)?.error
      assert.strictEqual((error as { readonly _tag: string })._tag, "ScanFailed")
      assert.include((error as { readonly reason: string }).reason, "nowhere")
    }).pipe(Effect.provide(durableWith(hookedToyModel(() => Effect.void)))))
})
