/**
 * A scan as a durable workflow (`effect/workflow`), run by whichever workflow engine the host
 * provides: `effect/cluster`'s `ClusterWorkflowEngine` on runners sharing a Postgres database
 * (`spectral runner`), a single in-process runner, or the in-memory engine in tests.
 *
 * The execution is keyed by the submission (`workspaceId/requestId`): submitting the same request
 * twice joins one execution and runs one scan. Its first Activity records the scan row (its lease
 * held in the execution's name, so any runner carrying the execution on may write it); then each
 * phase is an Activity named `scan/<phase>` whose result (the phase's output, decoded by its
 * Schema in `contracts/PhaseOutputs.ts`) the engine records, so a runner that takes a dead one's
 * shards replays the finished phases from their records and runs only the phase in flight. Phase
 * events still commit with the phase's saved output (the outbox), which makes the phase step
 * idempotent when it runs twice.
 */
import { Context, Effect, Schema, Scope, Tracer } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import { type PhaseName, type PhaseOutput, PhaseOutputSchemas, Scan, WorkspaceId } from "../contracts/index.ts"
import { PhaseBoundary, type PhaseBoundaryShape } from "../pipeline/PhaseBoundary.ts"
import { ScanFailed } from "../pipeline/ScanFailed.ts"
import { ScanOrchestrator, type ScanOutcome } from "../pipeline/ScanOrchestrator.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { hashHex } from "../random/Deterministic.ts"

/** What a host submits. */
export const ScanSubmission = Schema.Struct({
  workspaceId: WorkspaceId,
  /** Names the submission: the same id twice is one scan (a retried request, a second click). */
  requestId: Schema.NonEmptyString,
  seed: Schema.Int,
  /** Model calls in flight at once while measuring. */
  concurrency: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1024 }))
})
export type ScanSubmission = typeof ScanSubmission.Type

/** What a finished scan execution returns (the full outcome is in the store, under `scanId`). */
export const ScanSummary = Schema.Struct({
  scanId: Schema.String,
  workspaceId: Schema.String,
  state: Scan.fields.state,
  verdict: Schema.Literals(["go", "caution", "no_go"]),
  checksPassed: Schema.Int,
  checksTotal: Schema.Int,
  changeSetId: Schema.NullOr(Schema.String)
})
export type ScanSummary = typeof ScanSummary.Type

export const ScanWorkflow = Workflow.make("spectral/Scan", {
  payload: ScanSubmission,
  success: ScanSummary,
  error: ScanFailed,
  idempotencyKey: (submission) => `${submission.workspaceId}/${submission.requestId}`
})

export const summaryOf = (outcome: ScanOutcome): ScanSummary => ({
  scanId: outcome.scan.id,
  workspaceId: outcome.scan.workspaceId,
  state: outcome.scan.state,
  verdict: outcome.verdict.outcome,
  checksPassed: outcome.verdict.checksPassed,
  checksTotal: outcome.verdict.checksTotal,
  changeSetId: outcome.changeSet?.id ?? null
})

/**
 * The trace a scan's spans go in, whichever runner carries it: its ids derive from the scan id, so
 * the spans of a scan handed over to another runner join the same trace (under one root per runner
 * that carried it, `spectral.scan`).
 */
export const scanTraceParent = (scanId: string): Tracer.ExternalSpan =>
  Tracer.externalSpan({ traceId: hashHex(`${scanId}/trace`) + hashHex(`${scanId}/trace/2`), spanId: hashHex(`${scanId}/root`), sampled: true })

/** Who holds the scans an execution runs: the execution, not a process. */
export const executionOwner = (executionId: string): string => `workflow:${executionId}`

const storageFailed = (scanId: string) => (error: StorageError) =>
  new ScanFailed({ scanId, phase: "preflight", reason: error.message, cause: { _tag: "PhaseError", error: error._tag, message: error.message } })

/** The workflow's body: registered with the host's workflow engine by `layer`. */
export const layer = ScanWorkflow.toLayer(Effect.fnUntraced(function*(submission, executionId) {
  const orchestrator = yield* ScanOrchestrator
  const owner = executionOwner(executionId)
  // What each phase Activity runs under: this execution's engine, instance and scope.
  const durable = Context.make(WorkflowEngine.WorkflowEngine, yield* WorkflowEngine.WorkflowEngine).pipe(
    Context.add(WorkflowEngine.WorkflowInstance, yield* WorkflowEngine.WorkflowInstance),
    Context.add(Scope.Scope, yield* Scope.Scope)
  )
  const boundary: PhaseBoundaryShape = {
    run: <P extends PhaseName>(phase: P, body: Effect.Effect<PhaseOutput<P>, ScanFailed>) =>
      Activity.make<never, Schema.Codec<PhaseOutput<P>, unknown>, typeof ScanFailed>({
        name: `scan/${phase}`,
        success: PhaseOutputSchemas[phase] as unknown as Schema.Codec<PhaseOutput<P>, unknown>,
        error: ScanFailed,
        execute: body
      }).pipe(Effect.provideContext(durable))
  }
  const scan = yield* Activity.make({
    name: "scan/start",
    success: Scan,
    error: ScanFailed,
    execute: orchestrator.start({
      workspaceId: submission.workspaceId,
      seed: submission.seed,
      concurrency: submission.concurrency,
      owner,
      submission: { requestId: submission.requestId, executionId }
    }).pipe(
      Effect.catchTag("StorageError", (error) => Effect.fail(storageFailed(submission.requestId)(error)))
    )
  })
  const outcome = yield* orchestrator.continueHeld(scan.workspaceId, scan.id, { owner, concurrency: submission.concurrency }).pipe(
    Effect.provideService(PhaseBoundary, boundary),
    Effect.withSpan("spectral.scan", { attributes: { "spectral.scan.id": scan.id, "spectral.workspace.id": scan.workspaceId, "spectral.workflow.execution_id": executionId } }),
    Effect.withParentSpan(scanTraceParent(scan.id)),
    Effect.catchTag("StorageError", (error) => Effect.fail(storageFailed(scan.id)(error)))
  )
  return summaryOf(outcome)
}))
