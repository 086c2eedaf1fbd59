/**
 * A scan as a durable workflow (`effect/workflow`), run by whichever workflow engine the host
 * provides: `effect/cluster`'s `ClusterWorkflowEngine` on runners sharing a Postgres database
 * (`spectral runner`), a single in-process runner, or the in-memory engine in tests.
 *
 * The execution is keyed by the submission (`workspaceId/requestId`): submitting the same request
 * twice joins one execution and runs one scan. Its first Activity records the scan row (its lease
 * held in the execution's name, so any runner carrying the execution on may write it); then each
 * phase is an Activity named `scan/<phase>` whose result the engine records: a reference to the
 * phase's saved output (`PhaseOutputReference`: the parts and their sizes, never the output, which
 * grows with the eval set), so a runner that takes a dead one's shards replays the finished phases
 * by reading their saved outputs back (decoded by their Schemas in `contracts/PhaseOutputs.ts`)
 * and runs only the phase in flight. Phase
 * events still commit with the phase's saved output (the outbox), which makes the phase step
 * idempotent when it runs twice.
 */
import { Context, Effect, Schema, Scope, Tracer } from "effect"
import { Activity, Workflow, WorkflowEngine } from "effect/workflow"
import { type PhaseName, type PhaseOutput, PhaseOutputReference, Scan, SubmissionCarrier, WorkspaceId } from "../contracts/index.ts"
import { phaseOutputReference } from "../ports/PhaseOutputParts.ts"
import { PhaseBoundary, type PhaseBoundaryShape } from "../pipeline/PhaseBoundary.ts"
import { ScanFailed } from "../pipeline/ScanFailed.ts"
import { type ScanReplayError, storedRecord } from "../pipeline/ScanReplay.ts"
import { type ScanLeaseOptions, ScanOrchestrator, type ScanOutcome } from "../pipeline/ScanOrchestrator.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { hashHex } from "../random/Deterministic.ts"

/** What a host submits. */
export const ScanSubmission = Schema.Struct({
  workspaceId: WorkspaceId,
  /** Names the submission: the same id twice is one scan (a retried request, a second click). */
  requestId: Schema.NonEmptyString,
  seed: Schema.Int,
  /** Model calls in flight at once while measuring. */
  concurrency: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1024 })),
  /** Who carries the execution (recorded on the scan): the cluster's runners (the default) or the submitting process alone. */
  carrier: Schema.optionalKey(SubmissionCarrier),
  /**
   * Replay this stored scan from its record (`ScanRecord`) as a new scan: its seed, declaration,
   * baseline, judge, gates and strategies. The engine the runner carries it on must be the one
   * built from that record (`ScanEngine.layerReplay`).
   */
  replayOf: Schema.optionalKey(Schema.NonEmptyString)
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

/**
 * How the scans this runner carries hold their lease: its duration and heartbeat (the host's
 * `SPECTRAL_SCAN_LEASE_MS`; the orchestrator's defaults when none is provided), and the name of the
 * process (`owner`, e.g. host and pid) that each take carries. The lease's owner is always the execution.
 */
export const ScanLeaseSettings = Context.Reference<ScanLeaseOptions>("@spectral/engine/workflow/ScanWorkflow/ScanLeaseSettings", {
  defaultValue: () => ({})
})

/** Who holds the scans an execution runs: the execution, not a process. */
export const executionOwner = (executionId: string): string => `workflow:${executionId}`

const sameReference = (a: PhaseOutputReference, b: PhaseOutputReference) =>
  a.phase === b.phase && a.parts.length === b.parts.length && a.parts.every((p, i) => p.part === b.parts[i]?.part && p.items === b.parts[i]?.items)

const describeReference = (reference: PhaseOutputReference) =>
  reference.parts.length === 0 ? "no parts" : reference.parts.map((p) => `${p.part}: ${p.items} items`).join(", ")

const storageFailed = (scanId: string) => (error: StorageError) =>
  new ScanFailed({ scanId, phase: "preflight", reason: error.message, cause: { _tag: "PhaseError", error: error._tag, message: error.message } })

const replayFailed = (scanId: string) => (error: ScanReplayError | StorageError) =>
  error._tag === "StorageError"
    ? error
    : new ScanFailed({ scanId, phase: "preflight", reason: error.message, cause: { _tag: "PhaseError", error: error._tag, message: error.message } })

/** The workflow's body: registered with the host's workflow engine by `layer`. */
export const layer = ScanWorkflow.toLayer(Effect.fnUntraced(function*(submission, executionId) {
  const orchestrator = yield* ScanOrchestrator
  const owner = executionOwner(executionId)
  const lease = yield* ScanLeaseSettings
  // What each phase Activity runs under: this execution's engine, instance and scope.
  const durable = Context.make(WorkflowEngine.WorkflowEngine, yield* WorkflowEngine.WorkflowEngine).pipe(
    Context.add(WorkflowEngine.WorkflowInstance, yield* WorkflowEngine.WorkflowInstance),
    Context.add(Scope.Scope, yield* Scope.Scope)
  )
  /**
   * Each phase as an Activity whose recorded result is a reference to the output the phase saved
   * (never the output itself, which grows with the eval set): run here, the phase's own value goes
   * on; replayed, the saved output is read back, decoded, and must have the parts the reference names.
   */
  const boundaryOf = (workspaceId: string, scanId: string): PhaseBoundaryShape => ({
    run: <P extends PhaseName>(phase: P, body: Effect.Effect<PhaseOutput<P>, ScanFailed>) =>
      Effect.suspend(() => {
        let ranHere: { readonly output: PhaseOutput<P> } | undefined
        return Activity.make({
          name: `scan/${phase}`,
          success: PhaseOutputReference,
          error: ScanFailed,
          execute: Effect.map(body, (output) => {
            ranHere = { output }
            return phaseOutputReference(phase, output)
          })
        }).pipe(
          Effect.provideContext(durable),
          Effect.flatMap((reference) => {
            if (ranHere !== undefined) return Effect.succeed(ranHere.output)
            return Effect.flatMap(orchestrator.savedPhaseOutput(workspaceId, scanId, phase), (output) => {
              const found = phaseOutputReference(phase, output)
              return sameReference(found, reference) ? Effect.succeed(output) : Effect.fail(
                new ScanFailed({
                  scanId,
                  phase,
                  reason: `the saved output of ${phase} is not the one its step recorded (${describeReference(found)}, recorded ${describeReference(reference)}); start a new scan`,
                  cause: { _tag: "StoredStateInvalid", issue: `${phase}: saved ${describeReference(found)}, recorded ${describeReference(reference)}` }
                })
              )
            })
          })
        )
      })
  })
  const scan = yield* Activity.make({
    name: "scan/start",
    success: Scan,
    error: ScanFailed,
    execute: Effect.gen(function*() {
      const replayOf = submission.replayOf
      const replay = replayOf === undefined ? undefined : { scanId: replayOf, record: (yield* storedRecord(replayOf).pipe(Effect.mapError(replayFailed(replayOf)))).record }
      return yield* orchestrator.start({
        workspaceId: submission.workspaceId,
        seed: submission.seed,
        concurrency: submission.concurrency,
        owner,
        submission: { requestId: submission.requestId, executionId, ...(submission.carrier === undefined ? {} : { carrier: submission.carrier }) },
        ...(replay === undefined ? {} : { replay })
      })
    }).pipe(
      Effect.catchTag("StorageError", (error) => Effect.fail(storageFailed(submission.requestId)(error)))
    )
  })
  const outcome = yield* orchestrator.continueHeld(scan.workspaceId, scan.id, { owner, concurrency: submission.concurrency, lease }).pipe(
    Effect.provideService(PhaseBoundary, boundaryOf(scan.workspaceId, scan.id)),
    Effect.withSpan("spectral.scan", { attributes: { "spectral.scan.id": scan.id, "spectral.workspace.id": scan.workspaceId, "spectral.workflow.execution_id": executionId } }),
    Effect.withParentSpan(scanTraceParent(scan.id)),
    Effect.catchTag("StorageError", (error) => Effect.fail(storageFailed(scan.id)(error)))
  )
  return summaryOf(outcome)
}))
