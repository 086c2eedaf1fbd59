/**
 * What `spectral scan` does with the scans left behind, in one process on the memory store: plan
 * the submission (`ScanSubmissions.plan`), run it as the scan workflow on the engine in context
 * (an in-memory cluster, `durableWith`), and read the scan back.
 */
import { Effect, Layer } from "effect"
import type { LanguageModel } from "effect/ai"
import { ClusterWorkflowEngine, TestRunner } from "effect/cluster"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo } from "../../src/ports/Repositories.ts"
import * as ScanSubmissions from "../../src/workflow/ScanSubmissions.ts"
import * as ScanWorkflow from "../../src/workflow/ScanWorkflow.ts"
import { toyProvider } from "../optimize/ToyTeam.ts"

/** The engine on the memory store with the scan workflow on an in-memory cluster (`lease`: how its scans hold their lease). */
export const durableWith = (model: Layer.Layer<LanguageModel.LanguageModel>, lease: { readonly durationMs?: number; readonly heartbeatMs?: number } = {}) =>
  ScanWorkflow.layer.pipe(
    Layer.provide(Layer.succeed(ScanWorkflow.ScanLeaseSettings)(lease)),
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(TestRunner.layer),
    Layer.provideMerge(ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), model))))
  )

export interface RunRequest {
  readonly workspaceId: string
  readonly seed: number
  readonly concurrency?: number
  readonly requestId?: string
  /** Default false: a shared store, where a scan is left behind once its lease ran out. */
  readonly exclusiveStore?: boolean
  readonly leaseMs?: number
}

/** Plan the run, submit it, wait for its end: the plan and the scan as stored at the end. */
export const runSubmission = (request: RunRequest) =>
  Effect.gen(function*() {
    const concurrency = request.concurrency ?? 4
    const plan = yield* ScanSubmissions.plan({
      workspaceId: request.workspaceId,
      seed: request.seed,
      concurrency,
      requestId: request.requestId,
      exclusiveStore: request.exclusiveStore ?? false,
      leaseMs: request.leaseMs ?? 400
    })
    const summary = yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: request.workspaceId, requestId: plan.requestId, seed: request.seed, concurrency, carrier: "process" })
    const scan = yield* (yield* ScanRepo).get(summary.workspaceId, summary.scanId)
    return { plan, summary, scan }
  })
