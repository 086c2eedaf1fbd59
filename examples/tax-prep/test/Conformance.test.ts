/**
 * Scans from curated samples: preflight reports the counts and picks the mode; `blended` adds the
 * conformance samples to the world's stimuli (working layer only) and measures convergence;
 * `conformance_only` runs on the curated samples alone when the world cannot produce an eval set.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, SampleRepo, ScanEngine, ScanOrchestrator, ScanTraceRepo, TraceRepo, WorkspaceRepo } from "@spectral/engine"
import { EvalSetProvider, type Sample, type Trace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { smallWorkspace } from "./ScanHarness.ts"

const unavailableWorld = Layer.effect(
  EvalSetProvider,
  Effect.gen(function*() {
    const inner = yield* EvalSetProvider
    return EvalSetProvider.of({
      ...inner,
      availability: () => Effect.succeed({ available: false, reason: "the world is being republished" })
    })
  })
).pipe(Layer.provide(WorldsEvalSetProvider.layer))

const engineWith = (world: Layer.Layer<EvalSetProvider>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, world, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1 }))))

/** Production traces with known answers, stored as raw traces plus curated samples (no copy of the text). */
const curate = (workspaceId: string, count: number, purgeFirst: boolean) =>
  Effect.gen(function*() {
    const provider = yield* EvalSetProvider
    const workspace = smallWorkspace()
    const set = yield* provider.evalSet({ workspaceId, worldModelId: workspace.worldModelId, framework: workspace.framework, seed: 99, size: 40 })
    const picked = set.samples.slice(0, count)
    const traces: Array<Trace> = picked.map((s, i) => ({
      id: `span-${i}`,
      workspaceId,
      traceId: `trace-${i}`,
      spanId: `root-${i}`,
      name: "tax-prep.request",
      startTime: "2026-11-01T10:00:00.000Z",
      endTime: "2026-11-01T10:00:02.000Z",
      attributes: {},
      input: s.input,
      output: "{}"
    }))
    yield* (yield* TraceRepo).append(workspaceId, traces)
    const samples: Array<Sample> = picked.map((s, i) => ({
      id: `sample-trace-${i}`,
      workspaceId,
      state: purgeFirst && i === 0 ? "historical" : "active",
      traceRef: purgeFirst && i === 0
        ? { _tag: "Tombstone", traceId: `trace-${i}`, removedAt: "2026-11-10T00:00:00.000Z", reason: "retention" }
        : { _tag: "Live", traceId: `trace-${i}` },
      structuralMetadata: { rootAgent: "intake" },
      stratification: { segment: "production" },
      groundTruth: { ...s.expected },
      evaluationHistory: [],
      createdAt: "2026-11-01T10:00:03.000Z"
    }))
    yield* (yield* SampleRepo).upsertSamples(workspaceId, samples)
  })

describe("scans from curated samples", () => {
  it.effect("blended: preflight counts the samples, they join the working set, and convergence is measured", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      yield* (yield* WorkspaceRepo).upsert(workspace)
      yield* curate(workspace.id, 8, true)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 4 })
      assert.strictEqual(outcome.scan.readiness?.mode, "blended")
      assert.strictEqual(outcome.scan.readiness?.curationSamplesCount, 7, "the purged sample is historical and not counted")
      const baseline = (yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)).filter((t) => t.arm === "baseline")
      const anchors = baseline.filter((t) => t.provenance === "conformance_sample")
      assert.strictEqual(anchors.length, 7)
      assert.isTrue(anchors.every((t) => t.partition === "working" && t.holdoutLayer === "working"), "never holdout")
      assert.strictEqual(baseline.length, 48 + 7)
      const events = yield* (yield* EventBus).published
      const convergence = events.find((e) => e.type === "scan.convergence.delta")
      assert.strictEqual(convergence?.type === "scan.convergence.delta" && convergence.payload.convergenceDelta._tag, "Present")
      assert.isTrue(outcome.verdict.checks.some((c) => c.gate === "convergence" && c.status !== "neutral"))
    }).pipe(Effect.provide(engineWith(WorldsEvalSetProvider.layer))))

  it.effect("conformance_only: without an eval set the scan runs on the curated samples alone, marked unattributed", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      yield* (yield* WorkspaceRepo).upsert(workspace)
      yield* curate(workspace.id, 10, false)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 4 })
      assert.strictEqual(outcome.scan.state, "completed")
      assert.strictEqual(outcome.scan.readiness?.mode, "conformance_only")
      assert.strictEqual(outcome.scan.attribution?.worldModelVersion, "unattributed")
      const baseline = (yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)).filter((t) => t.arm === "baseline")
      assert.strictEqual(baseline.length, 10)
      assert.isTrue(baseline.every((t) => t.provenance === "conformance_sample"))
    }).pipe(Effect.provide(engineWith(unavailableWorld))))
})
