/**
 * The data lifecycle, running on its own in the host (`spectral serve`): a pass at start and then
 * every `interval` (an `Effect.repeat` on a `Schedule`, so it runs on the engine's `Clock` and a
 * test's TestClock drives it). Each pass finds the workspaces with retention work
 * (`RetentionRepo.workspacesToSweep`: a trace not yet tombstoned, a sample not yet archived) and, per
 * workspace, in order:
 *   1. curation (`curateIncoming`): incoming traces become samples up to a target per segment,
 *      segments whose samples aged out are refreshed, the active pool is kept in a numbered SampleSet
 *      version; traces left uncurated keep their retention clock from ingest;
 *   2. template inference (`proposeTemplates`): drafts stored as proposals, never applied;
 *   3. the retention sweep (`runRetentionSweep`, actor `lifecycle`): the seeds' defaults (traces 90
 *      days, samples 365) unless the workspace set policies, legal holds honoured, tombstones and
 *      audited transitions.
 * A step that fails is logged and reported for its workspace; the other steps and workspaces still
 * run, and so does the next pass. Passes never overlap (`runNow` waits for a scheduled one).
 * Settings come from the environment (`LifecycleConfig`, documented in the README). The policy of
 * each step lives in the engine; this module only schedules and composes them.
 */
import { Cause, Clock, Config, Context, Deferred, Duration, Effect, Layer, Option, Predicate, Ref, Result, Schedule, Schema, Semaphore } from "effect"
import {
  curateIncoming,
  type CurationPolicy,
  proposeTemplates,
  RetentionRepo,
  runRetentionSweep,
  type SampleRepo,
  type ScanRepo,
  type ScanTraceRepo,
  type SweepReport,
  type TemplateProposalRepo,
  type TraceRepo,
  type WorkspaceRepo
} from "@spectral/engine"

export interface LifecycleSettings {
  /** Run passes on a schedule (otherwise only `runNow` runs one). */
  readonly enabled: boolean
  /** Time between the end of one pass and the start of the next. */
  readonly interval: Duration.Duration
  /** Curate incoming traces into samples (off: every trace keeps its clock from ingest). */
  readonly curation: boolean
  readonly curationPolicy: CurationPolicy
  /** Infer prompt-template drafts from ingested traces and store them as proposals. */
  readonly templates: boolean
  readonly templateMinPrompts: number
  /** Look after these workspaces only (a store shared with other hosts); absent: every workspace with work. */
  readonly workspaces?: ReadonlyArray<string> | undefined
}

export const defaultLifecycleSettings: LifecycleSettings = {
  enabled: true,
  interval: Duration.hours(1),
  curation: true,
  curationPolicy: { minActivePerSegment: 5, targetPerSegment: 50, holdoutFraction: 0.2 },
  templates: true,
  templateMinPrompts: 5
}

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const Fraction = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }))

/** The settings from the environment; a bad value is a ConfigError naming its variable. */
export const LifecycleConfig: Config.Config<LifecycleSettings> = Config.all({
  enabled: Config.Boolean("SPECTRAL_LIFECYCLE").pipe(Config.withDefault(true)),
  interval: Config.Duration("SPECTRAL_LIFECYCLE_INTERVAL").pipe(Config.withDefault(defaultLifecycleSettings.interval)),
  curation: Config.Boolean("SPECTRAL_CURATION").pipe(Config.withDefault(true)),
  minActivePerSegment: Config.schema(PositiveInt, "SPECTRAL_CURATION_MIN_PER_SEGMENT").pipe(Config.withDefault(5)),
  targetPerSegment: Config.schema(PositiveInt, "SPECTRAL_CURATION_TARGET_PER_SEGMENT").pipe(Config.withDefault(50)),
  holdoutFraction: Config.schema(Fraction, "SPECTRAL_CURATION_HOLDOUT_FRACTION").pipe(Config.withDefault(0.2)),
  templates: Config.Boolean("SPECTRAL_TEMPLATE_INFERENCE").pipe(Config.withDefault(true)),
  templateMinPrompts: Config.schema(PositiveInt, "SPECTRAL_TEMPLATE_MIN_PROMPTS").pipe(Config.withDefault(5)),
  workspaces: Config.option(Config.String("SPECTRAL_LIFECYCLE_WORKSPACES"))
}).pipe(Config.map((c): LifecycleSettings => ({
  enabled: c.enabled,
  interval: c.interval,
  curation: c.curation,
  curationPolicy: { minActivePerSegment: c.minActivePerSegment, targetPerSegment: c.targetPerSegment, holdoutFraction: c.holdoutFraction },
  templates: c.templates,
  templateMinPrompts: c.templateMinPrompts,
  workspaces: Option.match(c.workspaces, {
    onNone: () => undefined,
    onSome: (list) => list.split(",").map((id) => id.trim()).filter((id) => id !== "")
  })
})))

export type LifecycleStep = "curation" | "templates" | "retention"

/** The repositories a pass reads and writes. */
type RepositoriesForLifecycle = TraceRepo | SampleRepo | RetentionRepo | ScanRepo | ScanTraceRepo | TemplateProposalRepo | WorkspaceRepo

const nowIso = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return Predicate.hasProperty(error, "message") && typeof error.message === "string" ? error.message : String(error)
}

/** What one pass did in one workspace. */
export interface WorkspacePass {
  readonly workspaceId: string
  readonly curation?: {
    readonly derived: number
    readonly skipped: number
    readonly needsRefresh: ReadonlyArray<string>
    readonly sampleSet: { readonly id: string; readonly version: number; readonly created: boolean } | null
  }
  /** Ids of the template proposals this pass stored. */
  readonly proposals?: ReadonlyArray<string>
  readonly sweep?: SweepReport
  readonly failures: ReadonlyArray<{ readonly step: LifecycleStep; readonly message: string }>
}

export interface LifecyclePass {
  /** 1 for the first pass of this process. */
  readonly pass: number
  readonly startedAt: string
  readonly finishedAt: string
  readonly workspaces: ReadonlyArray<WorkspacePass>
  /** Why the pass could not even list its workspaces (the store is down), if so. */
  readonly failure?: string
}

export class Lifecycle extends Context.Service<Lifecycle, {
  /** Run one pass now (after a pass in progress, never beside it). */
  readonly runNow: Effect.Effect<LifecyclePass>
  /** The last completed pass, if any. */
  readonly lastPass: Effect.Effect<LifecyclePass | undefined>
  /** Wait until `count` passes have completed in this process; the latest of them. */
  readonly awaitPasses: (count: number) => Effect.Effect<LifecyclePass>
}>()("@spectral/cli/host/Lifecycle") {
  /** Needs the repositories (any storage layer); the scheduled passes live in the layer's scope. */
  static readonly make = Effect.fnUntraced(function*(settings: LifecycleSettings) {
    const context = yield* Effect.context<RepositoriesForLifecycle>()
    const retention = Context.get(context, RetentionRepo)
    const permit = yield* Semaphore.make(1)
    const state = yield* Ref.make<{ readonly done: number; readonly last: LifecyclePass | undefined }>({ done: 0, last: undefined })
    const refreshSaid = new Map<string, string>()
    const waiters = yield* Ref.make<ReadonlyArray<{ readonly count: number; readonly deferred: Deferred.Deferred<LifecyclePass> }>>([])

    const step = <A>(name: LifecycleStep, workspaceId: string, effect: Effect.Effect<A, unknown, RepositoriesForLifecycle>) =>
      effect.pipe(
        Effect.provideContext(context),
        Effect.map((value) => ({ value, failure: undefined })),
        Effect.catchCause((cause) =>
          Effect.as(
            Effect.logWarning(`lifecycle: ${name} failed for workspace ${workspaceId}`, cause),
            { value: undefined, failure: { step: name, message: messageOf(cause) } }
          )
        )
      )

    const workspacePass = Effect.fnUntraced(function*(workspaceId: string) {
      const failures: Array<{ step: LifecycleStep; message: string }> = []
      const curated = settings.curation ? yield* step("curation", workspaceId, curateIncoming(workspaceId, settings.curationPolicy)) : undefined
      if (curated?.failure !== undefined) failures.push(curated.failure)
      const proposed = settings.templates ? yield* step("templates", workspaceId, proposeTemplates(workspaceId, { minPrompts: settings.templateMinPrompts })) : undefined
      if (proposed?.failure !== undefined) failures.push(proposed.failure)
      const swept = yield* step("retention", workspaceId, runRetentionSweep(workspaceId, "lifecycle"))
      if (swept.failure !== undefined) failures.push(swept.failure)
      const curation = curated?.value
      // Said once when the segments needing refresh change, not on every pass.
      const refresh = curation?.needsRefresh.join(", ") ?? ""
      if (refresh !== "" && refreshSaid.get(workspaceId) !== refresh) {
        yield* Effect.logInfo(`lifecycle: workspace ${workspaceId} needs traffic to refresh segment(s) ${refresh}`)
      }
      refreshSaid.set(workspaceId, refresh)
      return {
        workspaceId,
        ...(curation === undefined
          ? {}
          : { curation: { derived: curation.derived.length, skipped: curation.skipped, needsRefresh: curation.needsRefresh, sampleSet: curation.sampleSet } }),
        ...(proposed?.value === undefined ? {} : { proposals: proposed.value.map((p) => p.id) }),
        ...(swept.value === undefined ? {} : { sweep: swept.value }),
        failures
      } satisfies WorkspacePass
    })

    const completed = (pass: LifecyclePass) =>
      Effect.gen(function*() {
        yield* Ref.set(state, { done: pass.pass, last: pass })
        const ready = yield* Ref.modify(waiters, (list) => [list.filter((w) => w.count <= pass.pass), list.filter((w) => w.count > pass.pass)])
        for (const waiter of ready) yield* Deferred.succeed(waiter.deferred, pass)
        return pass
      })

    const pass: Effect.Effect<LifecyclePass> = permit.withPermits(1)(Effect.gen(function*() {
      const number = (yield* Ref.get(state)).done + 1
      const startedAt = yield* nowIso
      const listed = yield* Effect.result(retention.workspacesToSweep())
      if (Result.isFailure(listed)) {
        yield* Effect.logWarning("lifecycle: could not list the workspaces to look after", listed.failure)
        return yield* completed({ pass: number, startedAt, finishedAt: yield* nowIso, workspaces: [], failure: listed.failure.message })
      }
      const only = settings.workspaces
      const workspaces = yield* Effect.forEach(only === undefined ? listed.success : listed.success.filter((id) => only.includes(id)), workspacePass)
      return yield* completed({ pass: number, startedAt, finishedAt: yield* nowIso, workspaces })
    }))

    if (settings.enabled) yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(settings.interval)))

    return Lifecycle.of({
      runNow: pass,
      lastPass: Effect.map(Ref.get(state), (s) => s.last),
      awaitPasses: (count) =>
        Effect.gen(function*() {
          const deferred = yield* Deferred.make<LifecyclePass>()
          // Checked, registered, checked again: a pass completing in between is not missed.
          const now = yield* Ref.get(state)
          if (now.done >= count && now.last !== undefined) return now.last
          yield* Ref.update(waiters, (list) => [...list, { count, deferred }])
          const after = yield* Ref.get(state)
          if (after.done >= count && after.last !== undefined) return after.last
          return yield* Deferred.await(deferred)
        })
    })
  })

  /** The lifecycle with the given settings; needs the repositories. */
  static readonly layerNoDeps = (settings: LifecycleSettings = defaultLifecycleSettings) => Layer.effect(Lifecycle, Lifecycle.make(settings))

  /** The lifecycle with `LifecycleConfig`'s settings (the environment); needs the repositories. */
  static readonly layerConfig = Layer.unwrap(Effect.map(LifecycleConfig, (settings) => Lifecycle.layerNoDeps(settings)))
}

