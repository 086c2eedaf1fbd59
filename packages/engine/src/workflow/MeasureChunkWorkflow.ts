/**
 * A chunk of a measurement as a child workflow (`effect/workflow`): what spreads a scan's
 * measuring over runners. The scan's execution runs on one runner; each chunk of its Observe
 * baseline and of its tournament measurements (`measureArmInto` with more stimuli than a chunk) is
 * an execution keyed `<scanId>/<phase>/<arm>/<index>/<digest>`, carried by whichever runner owns
 * that key's shard.
 *
 * The chunk's one Activity (`measure`) runs the team on its stimuli with both authorities' scorers,
 * writes its traces and eval results (idempotent on trace id) and returns the runs with what its
 * calls spent. Its calls are charged to a ledger of the chunk's own, limited to the block the
 * scan's ledger holds for it (`BudgetLedger.reserveBlock`), so concurrent chunks on any runners
 * never pass the scan's budget together; the scan settles the block once per chunk key
 * (`settleBlock`), so a chunk replayed from its recorded result after a crash is not charged again.
 *
 * Limits: a chunk's calls hold its runner's permits (`RunnerCallPermits`, the runner's fixed
 * concurrency) and permits of the chunk's own, as many as the scan's concurrency: spread over
 * runners, the scan's concurrency bounds each chunk, and each runner's bounds what it carries.
 */
import { Effect, Layer, Ref, Schema, Semaphore } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import { AgentVersion, EvalSetSample, EvaluationFramework, WorkspaceAgent } from "../contracts/index.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetExhausted, BudgetLedger, CurrentLedger, openLedger } from "../agents/BudgetLedger.ts"
import { measureArm } from "../measurement/Measurement.ts"
import { ChunkOutcome, MeasurementDispatch, type MeasurementDispatcher } from "../measurement/MeasurementDispatch.ts"
import { ModelCallPermits, ModelPhase } from "../ports/ModelCall.ts"
import { ScanTraceRepo } from "../ports/Repositories.ts"
import { ScanProgress } from "../ports/ScanProgress.ts"
import { StorageError } from "../ports/StorageError.ts"
import { ChunkBudget, chunkBlock, type DispatchOptions, sendUnderBlock } from "./ChunkDispatch.ts"
import { scanTraceParent } from "./ScanWorkflow.ts"

export const ChunkPayload = Schema.Struct({
  workspaceId: Schema.String,
  scanId: Schema.String,
  /** Unique within the scan (`MeasurementChunk.key`). */
  key: Schema.String,
  arm: Schema.String,
  phase: ModelPhase,
  agents: Schema.Array(WorkspaceAgent),
  team: Schema.Array(AgentVersion),
  samples: Schema.Array(EvalSetSample),
  framework: EvaluationFramework,
  finalAgentIds: Schema.Array(Schema.String),
  /** Model calls of this chunk in flight at once. */
  concurrency: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1024 })),
  budget: ChunkBudget
})
export type ChunkPayload = typeof ChunkPayload.Type

export const MeasureChunkWorkflow = Workflow.make("spectral/MeasureChunk", {
  payload: ChunkPayload,
  success: ChunkOutcome,
  error: StorageError,
  idempotencyKey: (payload) => `${payload.scanId}/${payload.key}`
})

const noProgress = { enabled: false, report: () => Effect.void }

/** Measure the chunk here, on a ledger limited to its block; its traces and results are stored. */
const measureHere = (payload: ChunkPayload) =>
  Effect.gen(function*() {
    const traces = yield* ScanTraceRepo
    const runner = yield* AgentRunner
    const ledger = yield* openLedger({ maxCalls: payload.budget.calls, maxTokens: payload.budget.tokens, maxUsd: payload.budget.usd })
    const permits = yield* Semaphore.make(payload.concurrency)
    let infraError: string | undefined
    const watched = AgentRunner.of({
      runTeam: (request) =>
        Effect.tap(runner.runTeam(request), (result) =>
          Effect.sync(() => {
            if (result.status === "infra_failure") infraError ??= result.runs.find((run) => run.status === "infra_failure")?.error
          }))
    })
    const measured = yield* measureArm(payload).pipe(
      Effect.provideService(AgentRunner, watched),
      Effect.provideService(CurrentLedger, ledger),
      Effect.provideService(ModelCallPermits, permits),
      Effect.provideService(ScanProgress, noProgress),
      Effect.result
    )
    const state = yield* Ref.get(ledger)
    const spend = state.byPurpose
    if (measured._tag === "Failure") {
      return {
        _tag: "BudgetExhausted",
        message: measured.failure.message,
        spend,
        ...(state.exhaustedAt === undefined ? {} : { limit: state.exhaustedAt.limit })
      } satisfies ChunkOutcome
    }
    yield* traces.insertTraces(payload.workspaceId, measured.success.traces)
    yield* traces.insertResults(payload.workspaceId, measured.success.results)
    return {
      _tag: "Measured",
      runs: measured.success.measurement.runs,
      spend,
      ...(infraError === undefined ? {} : { infraError })
    } satisfies ChunkOutcome
  })

/** The chunk workflow's body, registered with the runner's workflow engine. */
export const layer = MeasureChunkWorkflow.toLayer(Effect.fnUntraced(function*(payload, executionId) {
  return yield* Activity.make({ name: "measure", success: ChunkOutcome, error: StorageError, execute: measureHere(payload) }).pipe(
    // In the scan's trace, whichever runner carries the chunk.
    Effect.withSpan("spectral.measure_chunk", {
      attributes: {
        "spectral.scan.id": payload.scanId,
        "spectral.measure_chunk.key": payload.key,
        "spectral.measure_chunk.stimuli": payload.samples.length,
        "spectral.workflow.execution_id": executionId
      }
    }),
    Effect.withParentSpan(scanTraceParent(payload.scanId))
  )
}))



/**
 * Measurements of the scans this process carries go out in chunks (child workflows on this
 * cluster): provided to the scan workflow's layer by a runner (`spectral runner`).
 */
export const layerDispatch = (options: DispatchOptions): Layer.Layer<never, never, WorkflowEngine.WorkflowEngine | BudgetLedger> =>
  Layer.effect(MeasurementDispatch)(Effect.gen(function*() {
    const engine = yield* WorkflowEngine.WorkflowEngine
    const ledger = yield* BudgetLedger
    const measure: MeasurementDispatcher["measure"] = ({ key, request }) =>
      Effect.gen(function*() {
        const judged = request.framework.rubrics.some((rubric) => rubric.dimensions.length > 0) ? 1 : 0
        const planned = request.samples.length * request.framework.epochs * (request.team.length + judged)
        const block = yield* chunkBlock(ledger, request.phase, planned)
        const outcome = yield* sendUnderBlock(ledger, engine, request.phase, key, block, MeasureChunkWorkflow.execute({
          workspaceId: request.workspaceId,
          scanId: request.scanId,
          key,
          arm: request.arm,
          phase: request.phase,
          agents: request.agents,
          team: request.team,
          samples: request.samples,
          framework: request.framework,
          finalAgentIds: request.finalAgentIds,
          concurrency: request.concurrency,
          budget: block
        }), (outcome) => outcome._tag === "BudgetExhausted" ? outcome.limit ?? "calls" : undefined)
        if (outcome._tag === "BudgetExhausted") return yield* new BudgetExhausted({ phase: request.phase, message: outcome.message })
        return outcome
      })
    return { chunkSize: options.chunkSize, inFlight: options.inFlight, measure } satisfies MeasurementDispatcher
  }))
