/**
 * A chunk of Diagnose's counterfactual re-runs as a child workflow (`effect/workflow`): what
 * spreads a scan's credit assignment over runners, as `MeasureChunkWorkflow` spreads its
 * measurements. Each chunk of the failing runs is an execution keyed
 * `<scanId>/diagnose/blame/<index>/<digest of the chunk's trace ids>`, carried by whichever runner
 * owns that key's shard.
 *
 * The chunk's one Activity (`blame`) makes the per-run decision the in-process path makes
 * (`Diagnose.makeRunBlame`) for each of its runs and returns their shares by trace id with what its
 * calls spent. Its calls are charged to a ledger of the chunk's own, limited to the block the
 * scan's ledger holds for it (`BudgetLedger.reserveBlock`): runs whose re-runs that block refuses
 * are blamed by `blameOf`, as in process. The scan settles the block once per chunk key
 * (`settleBlock`), so a chunk replayed from its recorded result is not charged again.
 *
 * Limits: as for measurement chunks, a chunk's calls hold its runner's permits and as many permits
 * of the chunk's own as the scan's concurrency.
 */
import { Context, Effect, Layer, Ref, Schema, Semaphore } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import type { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetLedger, CurrentLedger, openLedger } from "../agents/BudgetLedger.ts"
import { BlameChunkOutcome, BlameDispatch, type BlameDispatcher, BlameRequest } from "../measurement/BlameDispatch.ts"
import { runsByStimulus } from "../measurement/Measurement.ts"
import { makeRunBlame } from "../pipeline/Diagnose.ts"
import { outageSchedule } from "../pipeline/ScanOrchestrator.ts"
import { ModelCallPermits } from "../ports/ModelCall.ts"
import type { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { ChunkBudget, chunkBlock, type DispatchOptions, sendUnderBlock } from "./ChunkDispatch.ts"
import { scanTraceParent } from "./ScanWorkflow.ts"

export const BlameChunkPayload = Schema.Struct({
  ...BlameRequest.fields,
  /** Unique within the scan (`BlameChunk.key`). */
  key: Schema.String,
  budget: ChunkBudget
})
export type BlameChunkPayload = typeof BlameChunkPayload.Type

export const BlameChunkWorkflow = Workflow.make("spectral/BlameChunk", {
  payload: BlameChunkPayload,
  success: BlameChunkOutcome,
  idempotencyKey: (payload) => `${payload.scanId}/${payload.key}`
})

/** Decide the chunk's blame here, on a ledger limited to its block. */
export const blameHere = (payload: BlameChunkPayload): Effect.Effect<BlameChunkOutcome, never, AgentRunner | WorldModelScorer> =>
  Effect.gen(function*() {
    const ledger = yield* openLedger({ maxCalls: payload.budget.calls, maxTokens: payload.budget.tokens, maxUsd: payload.budget.usd })
    const permits = yield* Semaphore.make(payload.concurrency)
    const decide = yield* makeRunBlame(payload)
    const samples = new Map(payload.samples.map((sample) => [sample.id, sample]))
    const passing = runsByStimulus(payload.passing)
    const decided = yield* Effect.forEach(
      payload.runs,
      (run) => Effect.map(decide(run, samples.get(run.stimulusId), passing.get(run.stimulusId) ?? []), (shares) => [run.traceId, shares] as const),
      { concurrency: payload.concurrency }
    ).pipe(
      Effect.provideService(CurrentLedger, ledger),
      Effect.provideService(ModelCallPermits, permits)
    )
    const state = yield* Ref.get(ledger)
    return {
      shares: Object.fromEntries(decided),
      spend: state.byPurpose,
      exhausted: state.exhausted,
      ...(state.exhaustedAt === undefined ? {} : { limit: state.exhaustedAt.limit })
    } satisfies BlameChunkOutcome
  })

/** The chunk workflow's body, registered with the runner's workflow engine. */
export const layer = BlameChunkWorkflow.toLayer(Effect.fnUntraced(function*(payload, executionId) {
  return yield* Activity.make({ name: "blame", success: BlameChunkOutcome, execute: blameHere(payload) }).pipe(
    // In the scan's trace, whichever runner carries the chunk.
    Effect.withSpan("spectral.blame_chunk", {
      attributes: {
        "spectral.scan.id": payload.scanId,
        "spectral.blame_chunk.key": payload.key,
        "spectral.blame_chunk.runs": payload.runs.length,
        "spectral.workflow.execution_id": executionId
      }
    }),
    Effect.withParentSpan(scanTraceParent(payload.scanId))
  )
}))

/**
 * Diagnose's counterfactual re-runs of the scans this process carries go out in chunks (child
 * workflows on this cluster): provided to the scan workflow's layer by a runner (`spectral runner`),
 * with the settings of its measurement chunks (`chunkSize` failing runs per chunk).
 */
export const layerDispatch = (options: DispatchOptions): Layer.Layer<never, never, WorkflowEngine.WorkflowEngine | BudgetLedger> =>
  Layer.effect(BlameDispatch)(Effect.gen(function*() {
    const engine = yield* WorkflowEngine.WorkflowEngine
    const ledger = yield* BudgetLedger
    const blame: BlameDispatcher["blame"] = ({ key, request }) =>
      Effect.gen(function*() {
        const upstream = request.agents.filter((agent) => !request.finalAgentIds.includes(agent.id)).length
        // Worst case: every upstream agent of every run replaced, and the rest of the team re-run each
        // time (the replaced agent is not run); `chunkBlock` adds a quarter for re-asks. The re-runs
        // are the scan's only spend while its blame is out (Diagnose labels its clusters after), so
        // the chunks out at once may share the tokens and dollars left, not only their calls' part.
        const planned = request.runs.length * upstream * Math.max(1, request.team.length - 1)
        const block = yield* chunkBlock(ledger, "diagnose", planned, 1 / options.inFlight)
        return yield* sendUnderBlock(ledger, engine, "diagnose", key, block, BlameChunkWorkflow.execute({ ...request, key, budget: block }), (outcome) =>
          outcome.exhausted ? outcome.limit ?? "calls" : undefined)
      })
    return { chunkSize: options.chunkSize, inFlight: options.inFlight, blame } satisfies BlameDispatcher
  }))
