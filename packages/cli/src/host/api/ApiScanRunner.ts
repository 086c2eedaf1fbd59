/**
 * Scans the host service runs itself (`POST /api/workspaces/:ws/scans`): each on an engine built
 * like `spectral scan`'s (the host's judge, language model, worlds and workspace secrets) over the
 * service's own store, as the scan workflow on a runner of its own in a background fiber owned by
 * the service's scope (stopping the service interrupts it, and the execution lets its lease go so
 * the next `spectral scan` of the workspace carries it on). `start` answers with the scan id as
 * soon as the workflow's first step has stored the scan. The engine's
 * `ScanProgress` events of each scan feed a snapshot (`ProgressSnapshot`: every phase's status, the
 * latest stimuli count, how it ended) that progress streams subscribe to; `cancel` interrupts the
 * fiber and records the scan as abandoned with a `cancelled: …` reason (it is never resumed).
 */
import { hostname } from "node:os"
import { Cause, Clock, Config, Context, Deferred, Effect, Exit, Fiber, Layer, Scope, SubscriptionRef } from "effect"
import type { Storage } from "@spectral/adapters"
import { type ScanOutcome, ScanEngine, ScanProgress, type ScanProgressEvent, type ScanProgressReporter, ScanRepo, type StorageError } from "@spectral/engine"
import { phaseOrder, type Scan } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { JudgeSettings, languageModelLayer, secretsLayer, telemetryLayer } from "../../HostLayers.ts"
import * as InProcessRunner from "../../runners/InProcessRunner.ts"
import type { EndStatus, PhaseEventData, StimuliEventData } from "./ApiModels.ts"

/** Where a scan stands, as progress streams tell it. */
export interface ProgressSnapshot {
  readonly phases: ReadonlyArray<PhaseEventData>
  readonly stimuli: StimuliEventData | undefined
  readonly end: EndStatus | undefined
}

const CANCELLED = "cancelled: "

/** The ending a stored scan's state says (undefined while it is in progress). */
export const endOf = (scan: Scan): EndStatus | undefined =>
  scan.state === "completed" || scan.state === "failed"
    ? scan.state
    : scan.state === "abandoned"
    ? (scan.failureReason ?? "").startsWith(CANCELLED) ? "cancelled" : "abandoned"
    : undefined

/** Every phase's status from a stored scan: done, the one running (or that failed), the rest pending. */
export const phaseStatuses = (scan: Scan): ReadonlyArray<PhaseEventData> => {
  const done = new Set(scan.completedPhases)
  const current = phaseOrder.find((phase) => !done.has(phase))
  return phaseOrder.map((phase) => ({
    phase,
    status: done.has(phase)
      ? "done" as const
      : phase === current && scan.state === "running"
      ? "running" as const
      : phase === current && scan.state === "failed"
      ? "failed" as const
      : "pending" as const
  }))
}

/** A stored scan as a snapshot. */
export const snapshotOf = (scan: Scan, stimuli?: StimuliEventData): ProgressSnapshot => ({ phases: phaseStatuses(scan), stimuli, end: endOf(scan) })

const applyEvent = (snapshot: ProgressSnapshot, event: ScanProgressEvent): ProgressSnapshot => {
  switch (event._tag) {
    case "PhaseStarted":
    case "PhaseFinished": {
      const status = event._tag === "PhaseStarted" ? "running" as const : "done" as const
      return { ...snapshot, phases: snapshot.phases.map((p) => (p.phase === event.phase ? { phase: p.phase, status } : p)) }
    }
    case "StimuliMeasured":
      return { ...snapshot, stimuli: { phase: event.phase, arm: event.arm, done: event.done, total: event.total } }
  }
}

/** A scan running in this service. */
export interface LiveScan {
  readonly workspaceId: string
  readonly scanId: string
  readonly progress: SubscriptionRef.SubscriptionRef<ProgressSnapshot>
}

interface Running extends LiveScan {
  readonly fiber: Deferred.Deferred<Fiber.Fiber<unknown, unknown>>
  cancelledBy: string | undefined
}

/** Why a scan could not be started or cancelled. */
export type StartRefusal =
  | { readonly _tag: "Storage"; readonly error: StorageError }
  | { readonly _tag: "Failed"; readonly message: string }

const ScanSettings = Config.all({ leaseMs: Config.Int("SPECTRAL_SCAN_LEASE_MS").pipe(Config.withDefault(30_000)) })

/** The engine `spectral scan` runs, on the store in context (the service's), for one seed. */
const engineFor = (seed: number) =>
  Layer.unwrap(Effect.map(JudgeSettings, (judge) => ScanEngine.layer({ judge, packages: [] }, []))).pipe(
    Layer.provideMerge(Layer.mergeAll(secretsLayer, WorldsEvalSetProvider.layer, languageModelLayer(seed))),
    Layer.provideMerge(telemetryLayer)
  )

const key = (workspaceId: string, scanId: string) => `${workspaceId}\u0000${scanId}`

export class ApiScanRunner extends Context.Service<ApiScanRunner, {
  /** Start a scan of the workspace; its id once stored (the scan goes on in the background). */
  readonly start: (workspaceId: string, seed: number) => Effect.Effect<Scan, StartRefusal>
  /** The scan, when this service is running it now. */
  readonly live: (workspaceId: string, scanId: string) => Effect.Effect<LiveScan | undefined>
  /**
   * Cancel a scheduled or running scan: one this service runs is interrupted, then recorded; one
   * another process runs is recorded at once (its lease taken away, that process stops at its next
   * write without writing). The scan as stored afterwards (a scan that had already ended is left as it was).
   */
  readonly cancel: (workspaceId: string, scanId: string, by: string) => Effect.Effect<Scan, StorageError>
}>()("@spectral/cli/host/api/ApiScanRunner") {
  /** Needs the service's store (repositories, event bus, response cache); scans live in the layer's scope. */
  static readonly layer = Layer.effect(
    ApiScanRunner,
    Effect.gen(function*() {
      const store = yield* Effect.context<Storage.SqlStore>()
      const scans = Context.get(store, ScanRepo)
      const scope = yield* Scope.Scope
      const settings = yield* ScanSettings
      const running = new Map<string, Running>()
      const lease = { durationMs: settings.leaseMs, owner: `spectral-serve:${hostname()}:${process.pid}` }

      /** Record a cancelled scan: final, never resumed, its lease let go. */
      const recordCancelled = (workspaceId: string, scanId: string, by: string) =>
        Effect.gen(function*() {
          const scan = yield* scans.get(workspaceId, scanId)
          if (scan.state !== "scheduled" && scan.state !== "running") return scan
          const { lease: _lease, ...rest } = scan
          const ended: Scan = {
            ...rest,
            state: "abandoned",
            failureReason: `${CANCELLED}by ${by} in ${phaseOrder.find((p) => !scan.completedPhases.includes(p)) ?? "complete"}`,
            updatedAt: new Date(yield* Clock.currentTimeMillis).toISOString()
          }
          yield* scans.update(ended)
          return ended
        })

      const start = Effect.fn("ApiScanRunner.start")(function*(workspaceId: string, seed: number) {
        const stored = yield* Deferred.make<string>()
        const forked = yield* Deferred.make<Fiber.Fiber<unknown, unknown>>()
        const progress = yield* SubscriptionRef.make<ProgressSnapshot>({
          phases: phaseOrder.map((phase) => ({ phase, status: "pending" as const })),
          stimuli: undefined,
          end: undefined
        })
        let scanId: string | undefined
        const reporter: ScanProgressReporter = {
          enabled: true,
          report: (event) =>
            Effect.gen(function*() {
              if (scanId === undefined) {
                // Registered by the scan's own fiber before it goes on, so its end always finds the entry.
                scanId = event.scanId
                running.set(key(workspaceId, event.scanId), { workspaceId, scanId: event.scanId, progress, fiber: forked, cancelledBy: undefined })
                yield* Deferred.succeed(stored, event.scanId)
              }
              yield* SubscriptionRef.update(progress, (s) => applyEvent(s, event))
            })
        }
        const finish = (exit: Exit.Exit<unknown, unknown>) =>
          Effect.gen(function*() {
            if (scanId === undefined) return
            const entry = running.get(key(workspaceId, scanId))
            const cancelledBy = entry?.cancelledBy
            const final = Exit.hasInterrupts(exit) && cancelledBy !== undefined
              ? yield* recordCancelled(workspaceId, scanId, cancelledBy)
              : yield* scans.get(workspaceId, scanId)
            const last = yield* SubscriptionRef.get(progress)
            // Interrupted without a cancel (the service is stopping): the scan stays resumable; the stream still ends.
            yield* SubscriptionRef.set(progress, { ...snapshotOf(final, last.stimuli), end: endOf(final) ?? "abandoned" })
          }).pipe(
            Effect.catchCause(() => SubscriptionRef.update(progress, (s) => ({ ...s, end: s.end ?? "abandoned" }))),
            Effect.ensuring(Effect.sync(() => scanId !== undefined && running.delete(key(workspaceId, scanId))))
          )
        // Failures: the scan's (ScanFailed, StorageError) or the engine's settings (a ConfigError naming the variable).
        // The scan workflow on a runner of this scan's own (its mailboxes in memory), as `spectral
        // scan` runs it on a server: a new submission each time (a scan this service left behind
        // is carried on by the next `spectral scan` of the workspace). Interrupting the fiber stops
        // that runner, and the execution lets its lease go.
        const run: Effect.Effect<ScanOutcome, unknown> = InProcessRunner.runWithMailboxesInMemory({
          workspaceId,
          seed,
          concurrency: 8,
          requestId: globalThis.crypto.randomUUID(),
          exclusiveStore: false,
          progress: reporter,
          lease
        }).pipe(
          Effect.provideService(ScanProgress, reporter),
          Effect.provide(engineFor(seed)),
          Effect.provideContext(store)
        )
        const program = Effect.onExit(run, finish)
        const fiber = yield* Effect.forkIn(program, scope)
        yield* Deferred.succeed(forked, fiber)
        const first = yield* Effect.raceFirst(
          Effect.map(Deferred.await(stored), (id) => ({ _tag: "stored" as const, id })),
          Effect.map(Fiber.await(fiber), (exit) => ({ _tag: "ended" as const, exit }))
        )
        if (first._tag === "stored") {
          return yield* Effect.mapError(scans.get(workspaceId, first.id), (error): StartRefusal => ({ _tag: "Storage", error }))
        }
        const exit = first.exit
        if (Exit.isSuccess(exit)) return yield* Effect.mapError(scans.get(workspaceId, exit.value.scan.id), (e): StartRefusal => ({ _tag: "Storage", error: e }))
        const error = Cause.squash(exit.cause)
        if (error !== null && typeof error === "object" && "_tag" in error) {
          if (error._tag === "StorageError") return yield* Effect.fail<StartRefusal>({ _tag: "Storage", error: error as StorageError })
          if (error._tag === "ScanFailed" && "scanId" in error && typeof error.scanId === "string") {
            return yield* Effect.mapError(scans.get(workspaceId, error.scanId), (e): StartRefusal => ({ _tag: "Storage", error: e }))
          }
        }
        return yield* Effect.fail<StartRefusal>({ _tag: "Failed", message: error instanceof Error ? error.message : String(error) })
      })

      return ApiScanRunner.of({
        start,
        live: (workspaceId, scanId) => Effect.sync(() => running.get(key(workspaceId, scanId))),
        cancel: (workspaceId, scanId, by) =>
          Effect.gen(function*() {
            const entry = running.get(key(workspaceId, scanId))
            if (entry === undefined) return yield* recordCancelled(workspaceId, scanId, by)
            entry.cancelledBy = by
            yield* Fiber.interrupt(yield* Deferred.await(entry.fiber))
            return yield* scans.get(workspaceId, scanId)
          })
      })
    })
  )
}
