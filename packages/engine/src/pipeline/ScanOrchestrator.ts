/**
 * ScanOrchestrator: the scan as a persisted state machine (scheduled → running → completed |
 * failed). It runs Preflight, Observe, Calibrate, Diagnose, Evaluate, Optimize, Safety and Verdict
 * in order, saving each phase's output at its boundary so a crashed or failed scan resumes after
 * its last finished phase (finished phases make no new model calls). A failure records `failed`
 * with the phase and reason and loses nothing already stored.
 */
import { Cause, Context, Effect, Layer, Predicate, Ref, Schema, Semaphore } from "effect"
import type {
  AgentPerformanceCard,
  AgentVersion,
  CalibrationRecord,
  ChangeSet,
  Diagnosis,
  PhaseName,
  Scan,
  SpectralEvent,
  VerdictResult,
  Workspace
} from "../contracts/index.ts"
import { topologicalOrder, sinkAgents } from "../agents/AgentGraph.ts"
import { BudgetLedger, CurrentLedger, type LedgerSnapshot, openLedger, recordedSpend } from "../agents/BudgetLedger.ts"
import { EventBus } from "../ports/EventBus.ts"
import { emitEventWith, PhaseEventCollector } from "../ports/PhaseEvents.ts"
import { UnitOfWork } from "../ports/UnitOfWork.ts"
import { ModelCallPermits } from "../ports/ModelCall.ts"
import { ChangeSetRepo, SampleRepo, ScanRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { Calibrate } from "./Calibrate.ts"
import { buildCard, buildChangeSet, recordSampleSet } from "./Complete.ts"
import { Diagnose } from "./Diagnose.ts"
import { Evaluate, type EvaluateOutput } from "./Evaluate.ts"
import { Observe, type ObserveOutput } from "./Observe.ts"
import { Optimize, type OptimizeOutput } from "./Optimize.ts"
import { Preflight } from "./Preflight.ts"
import { Safety, type SafetyOutput } from "./Safety.ts"
import type { ScanContext } from "./ScanContext.ts"
import { nowIso } from "../clock/Time.ts"
import { Verdict, type VerdictOutput } from "./Verdict.ts"

export class ScanFailed extends Schema.TaggedError<ScanFailed>()("ScanFailed", {
  scanId: Schema.String,
  phase: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `scan ${this.scanId} failed in ${this.phase}: ${this.reason}`
  }
}

export interface ScanRequest {
  readonly workspaceId: string
  readonly seed?: number
  /** Model calls in flight at once while measuring. Default 8. */
  readonly concurrency?: number
}

export interface ScanOutcome {
  readonly scan: Scan
  readonly verdict: VerdictResult
  readonly changeSet: ChangeSet | null
  readonly card: AgentPerformanceCard
  readonly diagnosis: Diagnosis
  readonly spend: LedgerSnapshot
}

interface CompleteOutput {
  readonly changeSetId: string | null
  readonly card: AgentPerformanceCard
}

export class ScanOrchestrator extends Context.Service<ScanOrchestrator, {
  readonly run: (request: ScanRequest) => Effect.Effect<ScanOutcome, ScanFailed | StorageError>
  /** Resume a scan that crashed or failed, from its last finished phase. */
  readonly resume: (workspaceId: string, scanId: string, options?: { readonly concurrency?: number }) => Effect.Effect<ScanOutcome, ScanFailed | StorageError>
}>()("@spectral/engine/pipeline/ScanOrchestrator") {
  static readonly layer = Layer.effect(
    ScanOrchestrator,
    Effect.gen(function*() {
      const workspaces = yield* WorkspaceRepo
      const scans = yield* ScanRepo
      const changeSetRepo = yield* ChangeSetRepo
      const sampleRepo = yield* SampleRepo
      const ledger = yield* BudgetLedger
      const bus = yield* EventBus
      const unitOfWork = yield* UnitOfWork
      const preflight = yield* Preflight
      const observe = yield* Observe
      const calibrate = yield* Calibrate
      const diagnose = yield* Diagnose
      const evaluate = yield* Evaluate
      const optimize = yield* Optimize
      const safety = yield* Safety
      const verdict = yield* Verdict

      const contextFor = Effect.fnUntraced(function*(workspace: Workspace, scan: Scan, concurrency: number) {
        const agents = yield* topologicalOrder(workspace.agents).pipe(
          Effect.mapError((error) => new ScanFailed({ scanId: scan.id, phase: "preflight", reason: error.message }))
        )
        const changeSets = yield* changeSetRepo.list(workspace.id)
        const previous = changeSets.find((c) => c.scanId !== scan.id)
        const accepted = scan.baselineChangeSetId === undefined
          ? undefined
          : changeSets.find((c) => c.id === scan.baselineChangeSetId)
        const declared: ReadonlyArray<AgentVersion> = agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
        const baseline = accepted === undefined
          ? declared
          : agents.map((a) => accepted.agents.find((v) => v.agentId === a.id) ?? declared.find((v) => v.agentId === a.id)!)
        return {
          workspace,
          scan,
          agents,
          finalAgentIds: sinkAgents(agents).map((a) => a.id),
          baseline,
          previousChangeSet: previous,
          baselineChangeSet: accepted,
          concurrency
        } satisfies ScanContext
      })

      const execute = Effect.fnUntraced(function*(initial: Scan, concurrency: number) {
        let scan = initial
        const workspace = yield* workspaces.get(scan.workspaceId)
        const saved = yield* scans.phaseOutputs(workspace.id, scan.id)
        const framework = workspace.framework
        // This scan's own ledger, starting from what it had spent before a crash (never refilled).
        const ledgerState = yield* openLedger(
          { maxCalls: framework.economics.maxCallsPerScan, maxTokens: framework.economics.maxTokensPerScan, maxUsd: framework.economics.maxUsdPerScan },
          scan.spend
        )
        const spentSoFar = Effect.map(Ref.get(ledgerState), (s) => recordedSpend(s))
        const setScan = (patch: Partial<Scan>) =>
          Effect.gen(function*() {
            scan = { ...scan, ...patch, spend: yield* spentSoFar, updatedAt: yield* nowIso }
            yield* scans.update(scan)
          })
        let current: PhaseName = "preflight"
        const phase = <A, E, R>(name: PhaseName, effect: Effect.Effect<A, E, R>) =>
          Effect.gen(function*() {
            current = name
            if (saved.has(name)) return saved.get(name) as A
            const collected = yield* Ref.make<ReadonlyArray<SpectralEvent>>([])
            const output = yield* Effect.provideService(effect, PhaseEventCollector, collected)
            // The phase boundary: its output, the scan row and its events commit together.
            const events = yield* Ref.get(collected)
            yield* unitOfWork.transactional(workspace.id, Effect.gen(function*() {
              yield* scans.savePhaseOutput(workspace.id, scan.id, name, output)
              yield* setScan({ completedPhases: [...scan.completedPhases.filter((p) => p !== name), name] })
              for (const event of events) yield* bus.publish(event)
            }))
            return output
          })
        const body = Effect.gen(function*() {
          const context = yield* contextFor(workspace, scan, concurrency)
          const readiness = yield* phase("preflight", preflight.run(context))
          yield* setScan({ state: "running", readiness })
          const ctx = { ...context, scan }
          const observed = yield* phase<ObserveOutput, unknown, never>("observe", observe.run(ctx))
          yield* setScan({ attribution: observed.evalSet.attribution })
          const calibration = yield* phase<CalibrationRecord, unknown, never>("calibrate", calibrate.run(ctx, observed))
          const diagnosis = yield* phase<Diagnosis, unknown, never>("diagnose", diagnose.run(ctx, observed))
          const evaluated = yield* phase<EvaluateOutput, unknown, never>("evaluate", evaluate.run(ctx, observed))
          const blended = evaluated.composite.blendedScore
          yield* setScan(blended._tag === "Present" ? { blendedScore: blended.value } : {})
          const optimized = yield* phase<OptimizeOutput, unknown, never>("optimize", optimize.run(ctx, observed, diagnosis))
          const checked = yield* phase<SafetyOutput, unknown, never>("safety", safety.run(ctx, observed, optimized))
          const decided = yield* phase<VerdictOutput, unknown, never>("verdict", verdict.run(ctx, observed, calibration, evaluated.composite, optimized, checked))
          yield* setScan({ verdict: decided.verdict.outcome })
          const completed = yield* phase<CompleteOutput, unknown, never>("complete", Effect.gen(function*() {
            const now = yield* nowIso
            const sampleSet = yield* recordSampleSet(workspace.id, observed.evalSet, now).pipe(Effect.provideService(SampleRepo, sampleRepo))
            const proposed = buildChangeSet(ctx, observed, diagnosis, optimized, checked, decided.verdict, now, sampleSet)
            const changeSet = workspace.autonomy.mode === "observe_only" ? null : proposed
            if (changeSet !== null) {
              // Idempotent: a completion interrupted after this insert finds its row on resume.
              const existing = yield* changeSetRepo.get(workspace.id, changeSet.id).pipe(Effect.option)
              if (existing._tag === "None") yield* changeSetRepo.insert(changeSet)
              yield* setScan({ changeSetId: changeSet.id })
            }
            yield* emitEventWith(bus)({
              id: `${scan.id}:scan.completed`,
              type: "scan.completed",
              version: 1,
              workspaceId: workspace.id,
              occurredAt: now,
              payload: {
                workspaceId: workspace.id,
                scanId: scan.id,
                changeSetId: changeSet?.id ?? null,
                outcome: decided.verdict.outcome,
                authority: observed.evalSet.attribution.authority
              }
            })
            const card = buildCard(ctx, observed, decided.composite, diagnosis, optimized, decided.verdict, changeSet ?? proposed, now)
            return { changeSetId: changeSet?.id ?? null, card } satisfies CompleteOutput
          }))
          yield* setScan({ state: "completed" })
          // Handlers of scan.completed (the autonomy handler) have run once the bus is drained.
          yield* bus.drain(workspace.id)
          const finalChangeSet = completed.changeSetId === null ? null : yield* changeSetRepo.get(workspace.id, completed.changeSetId)
          return {
            scan,
            verdict: decided.verdict,
            changeSet: finalChangeSet,
            card: finalChangeSet === null ? completed.card : { ...completed.card, changeSetStatus: finalChangeSet.status, authority: finalChangeSet.authority ?? completed.card.authority },
            diagnosis,
            spend: yield* ledger.snapshot
          } satisfies ScanOutcome
        })
        const permits = yield* Semaphore.make(Math.max(1, concurrency))
        return yield* body.pipe(
          // At most `concurrency` model calls in flight across the whole scan.
          Effect.provideService(ModelCallPermits, permits),
          Effect.provideService(CurrentLedger, ledgerState),
          Effect.catchCause((cause) =>
            Effect.gen(function*() {
              const error = Cause.squash(cause)
              const reason = error instanceof ScanFailed
                ? error.reason
                : Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== ""
                ? error.message
                : String(error)
              // The spend so far is recorded too, so a resumed scan does not get its budget back.
              yield* setScan({ state: "failed", failureReason: `${current}: ${reason}` }).pipe(Effect.ignore)
              return yield* new ScanFailed({ scanId: scan.id, phase: current, reason })
            })
          )
        )
      })

      const run = Effect.fn("ScanOrchestrator.run")(function*(request: ScanRequest) {
        const workspace = yield* workspaces.get(request.workspaceId)
        const existing = yield* scans.list(workspace.id)
        const accepted = (yield* changeSetRepo.list(workspace.id)).find((c) => c.status === "accepted")
        const now = yield* nowIso
        const scan: Scan = {
          id: `${workspace.id}:scan:${existing.length + 1}`,
          workspaceId: workspace.id,
          state: "scheduled",
          seed: request.seed ?? 1,
          completedPhases: [],
          ...(accepted !== undefined ? { baselineChangeSetId: accepted.id } : {}),
          createdAt: now,
          updatedAt: now
        }
        yield* scans.insert(scan)
        return yield* execute(scan, request.concurrency ?? 8)
      })

      const resume = Effect.fn("ScanOrchestrator.resume")(function*(workspaceId: string, scanId: string, options?: { readonly concurrency?: number }) {
        const scan = yield* scans.get(workspaceId, scanId)
        if (scan.state === "completed") {
          return yield* new ScanFailed({ scanId, phase: "complete", reason: "the scan already completed" })
        }
        const { failureReason: _previousFailure, ...resumed } = scan
        return yield* execute({ ...resumed, state: "running" }, options?.concurrency ?? 8)
      })

      return ScanOrchestrator.of({ run, resume })
    })
  )
}
