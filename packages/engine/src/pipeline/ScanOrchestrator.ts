/**
 * ScanOrchestrator: the scan as a persisted state machine (scheduled → running → completed |
 * failed | abandoned). It runs Preflight, Observe, Calibrate, Diagnose, Evaluate, Optimize, Safety
 * and Verdict in order, saving each phase's output at its boundary so a crashed or failed scan
 * resumes after its last finished phase (finished phases make no new model calls). A failure
 * records `failed` with the phase and reason and loses nothing already stored.
 *
 * Who runs a scan is a lease on its row (`Scan.lease`: owner, expiry, take), taken when the scan
 * starts or is carried on and renewed by a heartbeat; every write of the row is made only while the
 * stored lease is still this holder's, in one step (`ScanRepo.updateHeld`: a process that lost its
 * lease stops without writing). Resuming a scan left behind is the scan workflow's: the execution
 * of its submission goes on from what the finished phases saved (`continueHeld`; which scan a run
 * carries on, and which it abandons, is `workflow/ScanSubmissions.ts`). Scans of one workspace may
 * run at once: each takes its own scan id and, at completion, the next free change-set version
 * (`ChangeSets.create`, one `created` audit entry each).
 */
import { ScanProgress } from "../ports/ScanProgress.ts"
import { PhaseBoundary } from "./PhaseBoundary.ts"
import { ScanFailed } from "./ScanFailed.ts"
import { Cause, Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Option, Predicate, Random, Ref, Schedule, Schema, Semaphore } from "effect"
import type {
  AgentPerformanceCard,
  AgentVersion,
  ChangeSet,
  Diagnosis,
  PhaseOutput,
  Scan,
  ScanLease,
  ScanRecord,
  SpectralEvent,
  VerdictResult,
  Workspace
} from "../contracts/index.ts"
import { PhaseName, PhaseOutputSchemas, ScanFailureCause } from "../contracts/index.ts"
import { inProgress, stoppedIn, withoutLease } from "./LeftBehind.ts"
import { topologicalOrder, sinkAgents } from "../agents/AgentGraph.ts"
import { BudgetLedger, CurrentLedger, type LedgerSnapshot, openLedger, recordedSpend } from "../agents/BudgetLedger.ts"
import { ChangeSets } from "../changesets/ChangeSetLifecycle.ts"
import { EventBus } from "../ports/EventBus.ts"
import { emitEventWith, PhaseEventCollector } from "../ports/PhaseEvents.ts"
import { UnitOfWork } from "../ports/UnitOfWork.ts"
import { ModelCallPermits } from "../ports/ModelCall.ts"
import { unresolvedPhaseOutputParts } from "../ports/PhaseOutputParts.ts"
import { ChangeSetRepo, SampleRepo, ScanRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { hashHex } from "../random/Deterministic.ts"
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
import { recordFor, ScanProvenance } from "./ScanReplay.ts"
import { GateRegistry } from "../gates/Gate.ts"
import { StrategyRegistry } from "../strategies/Strategy.ts"
import { ScorerRegistry } from "../plugin/ScorerRegistry.ts"

export { ScanFailed } from "./ScanFailed.ts"

/** How a scan's lease is held. */
export interface ScanLeaseOptions {
  /** How long a lease lasts without renewal. Default 30 000 ms. */
  readonly durationMs?: number | undefined
  /** How often the running process renews it. Default a sixth of the duration. */
  readonly heartbeatMs?: number | undefined
  /** Names this process in the lease (for example host and pid); a unique suffix is added. */
  readonly owner?: string | undefined
}

export interface ScanRequest {
  readonly workspaceId: string
  readonly seed?: number
  /** Model calls in flight at once while measuring. Default 8. */
  readonly concurrency?: number
  readonly lease?: ScanLeaseOptions | undefined
  /**
   * Re-run a stored scan from its record (`ScanReplay.storedRecord`), as a new scan: the record's
   * workspace declaration, baseline agents, seed and eval set, on an engine built from it
   * (`ScanEngine.layerReplay`). `seed` and `concurrency` are the record's.
   */
  readonly replay?: { readonly scanId: string; readonly record: ScanRecord } | undefined
}

export const DEFAULT_LEASE_MS = 30_000

export interface ScanOutcome {
  readonly scan: Scan
  readonly verdict: VerdictResult
  readonly changeSet: ChangeSet | null
  readonly card: AgentPerformanceCard
  readonly diagnosis: Diagnosis
  readonly spend: LedgerSnapshot
}

/** A run's outcome for a host: the scan, whether it was one left behind (resumed), and the scans it abandoned (`ScanSubmissions.plan`). */
export interface RecoveredScanOutcome extends ScanOutcome {
  readonly resumed: boolean
  readonly abandoned: ReadonlyArray<Scan>
}

/** The lease this process holds on the scans it runs. */
interface HeldLease {
  readonly owner: string
  readonly durationMs: number
  readonly heartbeatMs: number
  /** This take of a workflow execution's lease (`continueHeld`): written with it, checked by every write. */
  readonly take?: string | undefined
}

/** Who records a scan's change set in its audit trail. */
const SCAN_ACTOR = "spectral/scan"

const isConflict = (error: StorageError | ScanFailed): boolean => error._tag === "StorageError" && error.reason._tag === "Conflict"

/** A store that cannot be reached right now (a dropped connection, a restarting server): worth waiting out. */
const isStorageOutage = (error: unknown): boolean =>
  Predicate.isTagged(error, "StorageError") && Predicate.hasProperty(error, "reason") && Predicate.isTagged(error.reason, "Unavailable")

/**
 * How long a scan waits out a store it cannot reach (all connections dropped, a failover) before
 * it fails with `StorageUnavailable`: a phase that failed on the outage runs again, and a write of
 * the scan row is tried again, every half second growing to 5 s, for at most a minute.
 */
export const OUTAGE_WAIT = { initialMs: 500, maxDelayMs: 5_000, totalMs: 60_000 } as const

/** How long the engine waits out its storage being unreachable (`OUTAGE_WAIT`), retrying as it goes. */
export const outageSchedule = Schedule.exponential(Duration.millis(OUTAGE_WAIT.initialMs), 1.5).pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.millis(OUTAGE_WAIT.maxDelayMs)))),
  Schedule.upTo({ duration: Duration.millis(OUTAGE_WAIT.totalMs) })
)

/** Retry `effect` while it fails because the store is unreachable. */
const outlastingOutages = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(effect, { schedule: outageSchedule, while: (error) => isStorageOutage(error) || (error instanceof ScanFailed && error.cause._tag === "StorageUnavailable") })

const messageOf = (error: unknown): string =>
  Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== "" ? error.message : String(error)

/** A phase's failure, typed: a typed error of the phase (its tag) or a defect, with its sentence. */
const failureOf = (cause: Cause.Cause<unknown>): { readonly reason: string; readonly cause: ScanFailureCause } => {
  const error = Cause.squash(cause)
  if (error instanceof ScanFailed) return { reason: error.reason, cause: error.cause }
  const message = messageOf(error)
  if (!Cause.hasFails(cause)) return { reason: message, cause: { _tag: "Defect", message } }
  if (isStorageOutage(error)) return { reason: message, cause: { _tag: "StorageUnavailable", message } }
  const tag = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Error"
  return { reason: message, cause: { _tag: "PhaseError", error: tag, message } }
}

/**
 * A saved phase output (its parts joined back by the store) decoded with its phase's Schema; one
 * that no longer decodes fails the scan naming the field, one with a part whose chunks are missing
 * or short fails it naming the part.
 */
const decodePhaseOutput = <P extends PhaseName>(scanId: string, phase: P, stored: unknown): Effect.Effect<PhaseOutput<P>, ScanFailed> => {
  const unresolved = unresolvedPhaseOutputParts(phase, stored)
  if (unresolved.length > 0) {
    const issue = unresolved.map((u) => `part ${u.part} of ${phase}: ${u.issue}`).join("; ")
    return Effect.fail(
      new ScanFailed({
        scanId,
        phase,
        reason: `the saved output of ${phase} is incomplete (${issue}); start a new scan`,
        cause: { _tag: "StoredStateInvalid", issue }
      })
    )
  }
  return (Schema.decodeUnknownEffect(PhaseOutputSchemas[phase] as Schema.Codec<PhaseOutput<P>, unknown>)(stored)).pipe(
    Effect.mapError((error) =>
      new ScanFailed({
        scanId,
        phase,
        reason: `the saved output of ${phase} no longer reads as one (${error.message}); start a new scan`,
        cause: { _tag: "StoredStateInvalid", issue: error.message }
      })
    )
  )
}

/** The baseline a scan measures: the accepted change set's agent versions, the declared ones for the rest. */
const baselineOf = (
  agents: ReadonlyArray<Workspace["agents"][number]>,
  declared: ReadonlyArray<AgentVersion>,
  accepted: ChangeSet | undefined
): ReadonlyArray<AgentVersion> =>
  accepted === undefined
    ? declared
    : agents.map((a) => accepted.agents.find((v) => v.agentId === a.id) ?? declared.find((v) => v.agentId === a.id)!)

/** The workspace declaration a scan measures, as a digest (a resumed scan must still be measuring it). */
export const declarationDigest = (workspace: Workspace): string => hashHex(JSON.stringify(workspace))

export class ScanOrchestrator extends Context.Service<ScanOrchestrator, {
  /** Start a new scan of the workspace and run it to its end. */
  readonly run: (request: ScanRequest) => Effect.Effect<ScanOutcome, ScanFailed | StorageError>
  /**
   * A durable submission's first step: a new scan of the request, its lease held in the name of
   * `owner` exactly (a workflow execution, whichever runner carries it on), not run yet. Once per
   * submission: the workspace's scan of the same request id, when there is one, is returned as stored.
   */
  readonly start: (request: ScanRequest & { readonly owner: string; readonly submission?: Scan["submission"] }) => Effect.Effect<Scan, ScanFailed | StorageError>
  /**
   * Run a scan `start` recorded, or go on with it on another runner after its first one stopped:
   * the lease is the owner's, so whoever carries the execution on may write, each under a take of
   * its own (`ScanLease.take`) so that a runner that stalled and comes back writes nothing more;
   * finished phases are read back (decoded), not run again.
   */
  readonly continueHeld: (
    workspaceId: string,
    scanId: string,
    options: { readonly owner: string; readonly concurrency?: number | undefined; readonly lease?: ScanLeaseOptions | undefined }
  ) => Effect.Effect<ScanOutcome, ScanFailed | StorageError>
  /**
   * One finished phase's saved output, read back (its parts joined) and decoded by its Schema: what
   * a durable step that replied with a reference (`PhaseOutputReference`) hands on when it is
   * replayed. Not saved, not decoding, or a part whose chunks are missing or short: a ScanFailed
   * with `StoredStateInvalid` naming the phase (and the part); the store's failures are typed too.
   */
  readonly savedPhaseOutput: <P extends PhaseName>(workspaceId: string, scanId: string, phase: P) => Effect.Effect<PhaseOutput<P>, ScanFailed>
}>()("@spectral/engine/pipeline/ScanOrchestrator") {
  static readonly layer = Layer.effect(
    ScanOrchestrator,
    Effect.gen(function*() {
      const workspaces = yield* WorkspaceRepo
      const scans = yield* ScanRepo
      const changeSetRepo = yield* ChangeSetRepo
      const lifecycle = yield* ChangeSets
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
      // What a new scan's record is made of (the provenance and the registries the engine was built with).
      const recording = yield* Effect.context<ScanProvenance | GateRegistry | StrategyRegistry | ScorerRegistry>()

      // This instance's leases end in `#<instance>`; the scans it is running right now.
      const instance = `${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}`
      const running = new Set<string>()
      const runningKey = (scan: Scan) => `${scan.workspaceId}\u0000${scan.id}`
      const held = (options?: ScanLeaseOptions): HeldLease => {
        const durationMs = Math.max(10, options?.durationMs ?? DEFAULT_LEASE_MS)
        const heartbeatMs = Math.max(5, Math.min(durationMs / 2, options?.heartbeatMs ?? durationMs / 6))
        return { owner: `${options?.owner ?? "scan-runner"}#${instance}`, durationMs, heartbeatMs }
      }
      const leaseFor = (lease: HeldLease, forMs = lease.durationMs) =>
        Effect.map(Clock.currentTimeMillis, (now): ScanLease => ({
          owner: lease.owner,
          expiresAt: new Date(now + forMs).toISOString(),
          ...(lease.take === undefined ? {} : { take: lease.take })
        }))

      const contextFor = Effect.fnUntraced(function*(workspace: Workspace, scan: Scan, concurrency: number) {
        const agents = yield* topologicalOrder(workspace.agents).pipe(
          Effect.mapError((error) =>
            new ScanFailed({ scanId: scan.id, phase: "preflight", reason: error.message, cause: { _tag: "TeamInvalid", message: error.message } })
          )
        )
        const changeSets = yield* changeSetRepo.list(workspace.id)
        const previous = changeSets.find((c) => c.scanId !== scan.id)
        const accepted = scan.baselineChangeSetId === undefined
          ? undefined
          : changeSets.find((c) => c.id === scan.baselineChangeSetId)
        const declared: ReadonlyArray<AgentVersion> = agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
        const recorded = scan.record?.agents
        const baseline = recorded !== undefined
          ? agents.map((a) => recorded.find((v) => v.agentId === a.id) ?? declared.find((v) => v.agentId === a.id)!)
          : baselineOf(agents, declared, accepted)
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

      const execute = Effect.fnUntraced(function*(initial: Scan, concurrency: number, lease: HeldLease) {
        let scan = initial
        // A scan with a record measures the declaration it records (the same as stored, unless it is a replay).
        const workspace = scan.record?.workspace ?? (yield* workspaces.get(scan.workspaceId))
        const saved = yield* scans.phaseOutputs(workspace.id, scan.id)
        const framework = workspace.framework
        // This scan's own ledger, starting from what it had spent before a crash (never refilled).
        const ledgerState = yield* openLedger(
          { maxCalls: framework.economics.maxCallsPerScan, maxTokens: framework.economics.maxTokensPerScan, maxUsd: framework.economics.maxUsdPerScan },
          scan.spend
        )
        const spentSoFar = Effect.map(Ref.get(ledgerState), (s) => recordedSpend(s))
        let current: PhaseName = stoppedIn(scan)
        // Every write of the scan row is serialized (heartbeat, phase boundaries, the end) and made
        // only while the stored row still names this process's lease; the lease ends with the scan.
        const writes = yield* Semaphore.make(1)
        const lost = yield* Deferred.make<void>()
        let open = true
        let lostTo: Scan | undefined
        const leaseLost = (stored: Scan) =>
          new ScanFailed({
            scanId: scan.id,
            phase: current,
            reason: `another process holds the scan now (${stored.lease === undefined ? `it is ${stored.state}` : `lease of ${stored.lease.owner}`}); this one stopped without writing`,
            cause: { _tag: "LeaseLost", holder: stored.lease?.owner ?? stored.state }
          })
        const writeScan = (patch: Partial<Scan>, end?: "release" | "expire") =>
          Effect.gen(function*() {
            if (lostTo !== undefined) return yield* leaseLost(lostTo)
            if (!open) return
            const next: Scan = { ...scan, ...patch, spend: yield* spentSoFar, updatedAt: yield* nowIso }
            const written: Scan = end === "release" ? withoutLease(next) : end === "expire" ? { ...next, lease: yield* leaseFor(lease, 0) } : next
            // Written only while the stored row still names this lease (owner and take), in one
            // step: a process that stalled past its lease writes nothing over its successor's.
            if (!(yield* scans.updateHeld(written, { owner: lease.owner, take: lease.take }))) {
              const stored = yield* scans.get(workspace.id, scan.id)
              open = false
              lostTo = stored
              yield* Deferred.succeed(lost, undefined)
              return yield* leaseLost(stored)
            }
            scan = written
            if (end !== undefined) open = false
          })
        const setScan = (patch: Partial<Scan>) => outlastingOutages(writes.withPermits(1)(writeScan(patch)))
        const heartbeat = Effect.sleep(Duration.millis(lease.heartbeatMs)).pipe(
          Effect.andThen(writes.withPermits(1)(Effect.suspend(() => (open ? Effect.flatMap(leaseFor(lease), (next) => writeScan({ lease: next })) : Effect.void)))),
          // A storage hiccup skips one renewal; a lost lease ends the heartbeat (and the scan, below).
          Effect.catchTag("StorageError", () => Effect.void),
          Effect.forever,
          Effect.ignore
        )
        const phase = <P extends PhaseName, E>(name: P, effect: Effect.Effect<PhaseOutput<P>, E>) =>
          Effect.gen(function*() {
            current = name
            const boundary = yield* PhaseBoundary
            // A phase that failed because the store dropped out runs again once it is back (inside
            // the durable step: a workflow records a step's failure, and would replay it).
            return yield* boundary.run(name, outlastingOutages(phaseBody(name, effect)))
          })
        const phaseBody = <P extends PhaseName, E>(name: P, effect: Effect.Effect<PhaseOutput<P>, E>) =>
          Effect.gen(function*() {
            current = name
            const progress = yield* ScanProgress
            if (saved.has(name)) {
              // A resumed scan goes on from what its finished phases saved, decoded, never cast.
              const output = yield* decodePhaseOutput(scan.id, name, saved.get(name))
              yield* progress.report({ _tag: "PhaseFinished", scanId: scan.id, phase: name, resumed: true })
              return output
            }
            yield* progress.report({ _tag: "PhaseStarted", scanId: scan.id, phase: name })
            const collected = yield* Ref.make<ReadonlyArray<SpectralEvent>>([])
            const output = yield* Effect.provideService(effect, PhaseEventCollector, collected)
            // The phase boundary: its output, the scan row and its events commit together.
            const events = yield* Ref.get(collected)
            yield* writes.withPermits(1)(unitOfWork.transactional(workspace.id, Effect.gen(function*() {
              yield* scans.savePhaseOutput(workspace.id, scan.id, name, output)
              yield* writeScan({ completedPhases: [...scan.completedPhases.filter((p) => p !== name), name] })
              for (const event of events) yield* bus.publish(event)
            })))
            yield* progress.report({ _tag: "PhaseFinished", scanId: scan.id, phase: name, resumed: false })
            return output
          }).pipe(
            // A phase ends in its output or a ScanFailed with the typed cause (what a durable step records).
            Effect.catchCause((cause) => Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : Effect.fail(new ScanFailed({ scanId: scan.id, phase: name, ...failureOf(cause) })))
          )
        /**
         * The scan's change set at the workspace's next free version, recorded once with its
         * `created` audit entry: a version a concurrent scan took meanwhile moves this one up; a
         * completion resumed after the insert finds its own.
         */
        const recordChangeSet = (proposed: ChangeSet) =>
          Effect.gen(function*() {
            const all = yield* changeSetRepo.list(workspace.id)
            const own = all.find((c) => c.scanId === scan.id)
            if (own !== undefined) return own
            const version = (all[0]?.version ?? 0) + 1
            const changeSet: ChangeSet = version === proposed.version ? proposed : { ...proposed, id: `${workspace.id}:cs:${version}`, version }
            return yield* lifecycle.create(changeSet, SCAN_ACTOR, `v${version} recorded by scan ${scan.id} as ${changeSet.status}`)
          }).pipe(Effect.retry({ times: 8, while: isConflict }))
        const body = Effect.gen(function*() {
          const context = yield* contextFor(workspace, scan, concurrency)
          const readiness = yield* phase("preflight", preflight.run(context))
          yield* setScan({ state: "running", readiness })
          const ctx = { ...context, scan }
          const observed = yield* phase("observe", observe.run(ctx))
          const attribution = observed.evalSet.attribution
          const record = scan.record
          if (record?.evalSet.worldModelVersion !== undefined && record.evalSet.worldModelVersion !== attribution.worldModelVersion) {
            return yield* new ScanFailed({
              scanId: scan.id,
              phase: "observe",
              reason: `the record names ${record.evalSet.worldModelId}@${record.evalSet.worldModelVersion} but the world answered with version ${attribution.worldModelVersion}`,
              cause: { _tag: "RecordMismatch", recorded: record.evalSet.worldModelVersion, answered: attribution.worldModelVersion }
            })
          }
          yield* setScan({
            attribution,
            ...(record === undefined ? {} : {
              record: { ...record, evalSet: { ...record.evalSet, worldModelVersion: attribution.worldModelVersion, ruleSetHash: attribution.authority.ruleSetHash } }
            })
          })
          const calibration = yield* phase("calibrate", calibrate.run(ctx, observed))
          const diagnosis = yield* phase("diagnose", diagnose.run(ctx, observed))
          const evaluated = yield* phase("evaluate", evaluate.run(ctx, observed))
          const blended = evaluated.composite.blendedScore
          yield* setScan(blended._tag === "Present" ? { blendedScore: blended.value } : {})
          const optimized = yield* phase("optimize", optimize.run(ctx, observed, diagnosis))
          const checked = yield* phase("safety", safety.run(ctx, observed, optimized))
          const decided = yield* phase("verdict", verdict.run(ctx, observed, calibration, evaluated.composite, optimized, checked))
          yield* setScan({ verdict: decided.verdict.outcome })
          const completed = yield* phase("complete", Effect.gen(function*() {
            const now = yield* nowIso
            const sampleSet = yield* recordSampleSet(workspace.id, observed.evalSet, now).pipe(Effect.provideService(SampleRepo, sampleRepo))
            if (scan.record !== undefined) yield* setScan({ record: { ...scan.record, evalSet: { ...scan.record.evalSet, sampleSet: { id: sampleSet.id, version: sampleSet.version } } } })
            const proposed = buildChangeSet(ctx, observed, diagnosis, optimized, checked, decided.verdict, now, sampleSet)
            const changeSet = workspace.autonomy.mode === "observe_only" ? null : yield* recordChangeSet(proposed)
            if (changeSet !== null) yield* setScan({ changeSetId: changeSet.id })
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
            return { changeSetId: changeSet?.id ?? null, card } satisfies PhaseOutput<"complete">
          }))
          yield* writes.withPermits(1)(writeScan({ state: "completed" }, "release"))
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
        running.add(runningKey(scan))
        const beating = yield* Effect.forkChild(heartbeat)
        return yield* body.pipe(
          // A process that lost the scan's lease stops at once.
          Effect.raceFirst(Effect.andThen(Deferred.await(lost), Effect.suspend(() => Effect.fail(leaseLost(lostTo ?? scan))))),
          // At most `concurrency` model calls in flight across the whole scan.
          Effect.provideService(ModelCallPermits, permits),
          Effect.provideService(CurrentLedger, ledgerState),
          Effect.catchCause((cause) =>
            Effect.gen(function*() {
              if (lostTo !== undefined) return yield* leaseLost(lostTo)
              // Interrupted (the process is stopping): the lease is let go at once, so the next run
              // resumes the scan without waiting for it to run out.
              if (Cause.hasInterruptsOnly(cause)) {
                yield* writes.withPermits(1)(writeScan({}, "expire")).pipe(Effect.ignore)
                return yield* Effect.interrupt
              }
              const { reason, cause: failure } = failureOf(cause)
              // The spend so far is recorded too, so a resumed scan does not get its budget back.
              yield* writes.withPermits(1)(
                writeScan({ state: "failed", failureReason: `${current}: ${reason}`, failure: { phase: current, cause: failure } }, "release")
              ).pipe(Effect.ignore)
              return yield* new ScanFailed({ scanId: scan.id, phase: current, reason, cause: failure })
            })
          ),
          Effect.onInterrupt(() => writes.withPermits(1)(writeScan({}, "expire")).pipe(Effect.ignore)),
          Effect.ensuring(Effect.andThen(Fiber.interrupt(beating), Effect.sync(() => running.delete(runningKey(initial)))))
        )
      })

      /** A new scan row, holding this process's lease, under the workspace's next free scan id. */
      const insertScan = Effect.fnUntraced(function*(
        stored: Workspace,
        seed: number,
        lease: HeldLease,
        concurrency: number,
        replay?: ScanRequest["replay"],
        submission?: Scan["submission"]
      ) {
        const workspace = replay?.record.workspace ?? stored
        const changeSets = yield* changeSetRepo.list(workspace.id)
        const accepted = replay !== undefined
          ? changeSets.find((c) => c.id === replay.record.baselineChangeSetId)
          : changeSets.find((c) => c.status === "accepted")
        // A cyclic team is refused in preflight, with the scan recorded as failed; its record keeps the declared order.
        const agents = yield* topologicalOrder(workspace.agents).pipe(Effect.catch(() => Effect.succeed(workspace.agents)))
        const declared: ReadonlyArray<AgentVersion> = agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
        // Written when the scan starts: what produced it (a replay keeps the record it replays).
        const record: ScanRecord = replay !== undefined
          ? { ...replay.record, replayOf: replay.scanId }
          : yield* recordFor({ workspace, seed, concurrency, agents: baselineOf(agents, declared, accepted), baselineChangeSetId: accepted?.id }).pipe(
            Effect.provide(recording)
          )
        const now = yield* nowIso
        return yield* Effect.gen(function*() {
          const existing = yield* scans.list(workspace.id)
          const scan: Scan = {
            id: `${workspace.id}:scan:${existing.length + 1}`,
            workspaceId: workspace.id,
            state: "scheduled",
            seed,
            completedPhases: [],
            ...(accepted !== undefined ? { baselineChangeSetId: accepted.id } : {}),
            lease: yield* leaseFor(lease),
            declarationDigest: declarationDigest(workspace),
            record,
            ...(submission === undefined ? {} : { submission }),
            createdAt: now,
            updatedAt: now
          }
          yield* scans.insert(scan)
          return scan
        }).pipe(Effect.retry({ times: 8, while: isConflict }))
      })

      const run = Effect.fn("ScanOrchestrator.run")(function*(request: ScanRequest) {
        const workspace = yield* workspaces.get(request.workspaceId)
        const lease = held(request.lease)
        const replay = request.replay
        const concurrency = replay?.record.concurrency ?? request.concurrency ?? 8
        const scan = yield* insertScan(workspace, replay?.record.seed ?? request.seed ?? 1, lease, concurrency, replay)
        return yield* execute(scan, concurrency, lease)
      })

      const heldBy = (owner: string, options?: ScanLeaseOptions): HeldLease => ({ ...held(options), owner })
      let takes = 0

      const start = Effect.fn("ScanOrchestrator.start")(function*(request: ScanRequest & { readonly owner: string; readonly submission?: Scan["submission"] }) {
        const workspace = yield* workspaces.get(request.workspaceId)
        // Once per submission: a step that ran before its result was recorded (its process killed
        // in between), or a submission that carries on a scan left behind, finds its scan.
        const submitted = request.submission?.requestId
        if (submitted !== undefined) {
          const existing = (yield* scans.list(workspace.id)).find((scan) => scan.submission?.requestId === submitted)
          if (existing !== undefined) return existing
        }
        const replay = request.replay
        const concurrency = replay?.record.concurrency ?? request.concurrency ?? 8
        return yield* insertScan(workspace, replay?.record.seed ?? request.seed ?? 1, heldBy(request.owner, request.lease), concurrency, replay, request.submission)
      })

      const continueHeld = Effect.fn("ScanOrchestrator.continueHeld")(function*(
        workspaceId: string,
        scanId: string,
        options: { readonly owner: string; readonly concurrency?: number | undefined; readonly lease?: ScanLeaseOptions | undefined }
      ) {
        takes += 1
        // The take names the process carrying it when the host gave its name (`lease.owner`).
        const lease: HeldLease = { ...heldBy(options.owner, options.lease), take: `${options.lease?.owner === undefined ? "" : `${options.lease.owner}#`}${instance}.${takes}` }
        // An earlier take of this execution in this process (stalled past its shard locks, then
        // fenced by the take that followed) stops at its next write: waited out, at most two heartbeats.
        yield* Effect.sync(() => running.has(`${workspaceId}\u0000${scanId}`)).pipe(
          Effect.repeat({ schedule: Schedule.spaced(Duration.millis(100)), until: (still) => !still }),
          Effect.timeoutOption(Duration.millis(2 * lease.heartbeatMs))
        )
        const scan = yield* scans.get(workspaceId, scanId)
        if (!inProgress(scan)) {
          return yield* new ScanFailed({
            scanId,
            phase: stoppedIn(scan),
            reason: `the scan is ${scan.state}${scan.failureReason === undefined ? "" : ` (${scan.failureReason})`}: nothing to go on with`,
            cause: scan.failure?.cause ?? { _tag: "NotResumable", why: scan.state === "completed" ? "completed" : "abandoned" }
          })
        }
        if (scan.lease?.owner !== lease.owner) {
          return yield* new ScanFailed({
            scanId,
            phase: stoppedIn(scan),
            reason: `the scan is held by ${scan.lease?.owner ?? "nobody"}, not by ${lease.owner}`,
            cause: { _tag: "LeaseLost", holder: scan.lease?.owner ?? scan.state }
          })
        }
        if (running.has(runningKey(scan))) {
          return yield* new ScanFailed({ scanId, phase: stoppedIn(scan), reason: "the scan is running in this process", cause: { _tag: "NotResumable", why: "running_here" } })
        }
        // Under a take of its own: whoever carried the execution before (a runner stalled past its
        // shard locks, which may come back) finds this take on the row and stops without writing.
        const renewed: Scan = { ...scan, lease: yield* leaseFor(lease), updatedAt: yield* nowIso }
        yield* scans.update(renewed)
        return yield* execute({ ...renewed, state: "running" }, options.concurrency ?? scan.record?.concurrency ?? 8, lease)
      })

      const savedPhaseOutput = <P extends PhaseName>(workspaceId: string, scanId: string, phase: P): Effect.Effect<PhaseOutput<P>, ScanFailed> =>
        Effect.gen(function*() {
          const stored = yield* scans.phaseOutput(workspaceId, scanId, phase)
          if (Option.isNone(stored)) {
            return yield* new ScanFailed({
              scanId,
              phase,
              reason: `${phase} finished but its output is not saved; start a new scan`,
              cause: { _tag: "StoredStateInvalid", issue: `no saved output of ${phase}` }
            })
          }
          return yield* decodePhaseOutput(scanId, phase, stored.value)
        }).pipe(
          outlastingOutages,
          Effect.mapError((error) => error instanceof ScanFailed ? error : new ScanFailed({ scanId, phase, ...failureOf(Cause.fail(error)) })),
          Effect.withSpan("ScanOrchestrator.savedPhaseOutput", { attributes: { "spectral.scan.id": scanId, "spectral.phase": phase } })
        )

      return ScanOrchestrator.of({ run, start, continueHeld, savedPhaseOutput })
    })
  )
}
