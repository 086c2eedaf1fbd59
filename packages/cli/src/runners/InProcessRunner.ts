/**
 * A scan run in this process as the durable scan workflow (`ScanWorkflow` on `effect/cluster`'s
 * `ClusterWorkflowEngine`), on a single runner of its own: what `spectral scan` (without
 * `--submit`), `--retry`, `--replay`, the tax-prep job and `spectral serve`'s API scans run. The
 * runner's messages and activity results are kept beside the scans in the embedded PGlite
 * database (`EmbeddedCluster`, `run`), or in this process's memory (`runWithMailboxesInMemory`: a
 * shared PostgreSQL server, whose cluster tables are its `spectral runner`s'; `layerMemory`: a
 * memory store). The one runner holds every shard; a runner started for one scan carries that
 * submission alone, any other execution left in the tables waits for a run of its own.
 *
 * Which submission runs is `ScanSubmissions.plan` (the scan a stopped process left behind when it
 * is the one asked for, taken over in one compare-and-set, the others abandoned with the reason;
 * else a new one) or `ScanSubmissions.retry` (a failed scan carried on). A submission whose
 * execution is in the PGlite tables joins it, its finished steps replayed from their records; one
 * whose execution was in a stopped process's memory starts a new execution of the same
 * submission, which finds its scan and goes on from the phases it saved.
 *
 * It owns composing the runner and following one submission to its outcome; the scan itself is the
 * engine's workflow, the store the host's.
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { EmbeddedCluster, Storage } from "@spectral/adapters"
import {
  ChangeSetRepo,
  DEFAULT_LEASE_MS,
  type ScanLeaseOptions,
  ScanOrchestrator,
  type ScanOutcome,
  ScanProgress,
  type ScanProgressReporter,
  ScanRepo,
  ScanSubmissions,
  ScanWorkflow,
  WorkspaceRepo
} from "@spectral/engine"
import { Context, Duration, Effect, Layer } from "effect"
import { ClusterWorkflowEngine, MessageStorage, RunnerHealth, Runners, RunnerStorage, Sharding, ShardingConfig, SqlMessageStorage } from "effect/cluster"
import type { WorkflowEngine } from "effect/workflow"

/**
 * One runner holding every shard (in memory), its mailboxes on `messages`. When it stops (the scan
 * ended, the process is interrupted, a host cancels), an execution still running is not waited on
 * for the cluster's default 15 s: it is carried on from its record by the next run.
 */
const singleRunner = <R>(messages: Layer.Layer<MessageStorage.MessageStorage, never, R | ShardingConfig.ShardingConfig>) =>
  Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(messages),
    Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
    Layer.provide(ShardingConfig.layer({ entityTerminationTimeout: Duration.seconds(1) }))
  )

/** Mailboxes on the SqlClient in context, in the tables `EmbeddedCluster` made (no DDL here). */
const sqlMessages = SqlMessageStorage.layerStorage({ prefix: EmbeddedCluster.tablePrefix }).pipe(Layer.provide(NodeCrypto.layerDigest))

/** The outcomes the in-process runner's scans reached, by scan id (the workflow itself returns a summary). */
export class ScanOutcomes extends Context.Service<ScanOutcomes, Map<string, ScanOutcome>>()("@spectral/cli/runners/InProcessRunner/ScanOutcomes") {}

/** The one submission a runner started for it carries on (`run`); none: every submission (a host's runner). */
export interface OnlySubmission {
  readonly workspaceId: string
  readonly requestId: string
}

/**
 * The orchestrator the workflow runs on, keeping each outcome it reaches in `ScanOutcomes` (the
 * command prints the whole outcome, as it always did). With `only`, an execution of another
 * submission left behind in the database (another workspace's scan a killed process left) waits
 * without running, so this process spends nothing on scans it was not asked for: it stays
 * unfinished and is carried on by a run of its own.
 */
const capturing = (outcomes: Map<string, ScanOutcome>, only: OnlySubmission | undefined) =>
  Layer.effect(
    ScanOrchestrator,
    Effect.gen(function*() {
      const orchestrator = yield* ScanOrchestrator
      const scans = yield* ScanRepo
      const asked = (workspaceId: string, scanId: string) =>
        only === undefined
          ? Effect.succeed(true)
          : workspaceId !== only.workspaceId
          ? Effect.succeed(false)
          : Effect.map(scans.get(workspaceId, scanId), (scan) => scan.submission?.requestId === only.requestId)
      return ScanOrchestrator.of({
        ...orchestrator,
        continueHeld: (workspaceId, scanId, options) =>
          Effect.flatMap(asked(workspaceId, scanId), (yes) =>
            yes
              ? Effect.tap(orchestrator.continueHeld(workspaceId, scanId, options), (outcome) => Effect.sync(() => void outcomes.set(outcome.scan.id, outcome)))
              : Effect.never)
      })
    })
  )

const runnerOn = <R>(
  cluster: Layer.Layer<Sharding.Sharding | MessageStorage.MessageStorage, never, R>,
  progress: ScanProgressReporter | undefined,
  only?: OnlySubmission,
  lease?: ScanLeaseOptions
) =>
  Layer.unwrap(Effect.sync(() => {
    const outcomes = new Map<string, ScanOutcome>()
    return ScanWorkflow.layer.pipe(
      Layer.provide(capturing(outcomes, only)),
      Layer.provide(lease === undefined ? Layer.empty : Layer.succeed(ScanWorkflow.ScanLeaseSettings)(lease)),
      Layer.provide(progress === undefined ? Layer.empty : Layer.succeed(ScanProgress)(progress)),
      Layer.provideMerge(ClusterWorkflowEngine.layer),
      Layer.provide(cluster),
      Layer.merge(Layer.succeed(ScanOutcomes)(outcomes))
    )
  }))

/**
 * The scan workflow (`ScanWorkflow.layer`) registered on a single in-process runner whose mailboxes
 * are in the SqlClient in context (the embedded store's, `embeddedStore`); progress to `progress`;
 * with `only`, it carries on that submission alone. Needs the engine; provides the workflow engine
 * and the outcomes its scans reach.
 */
export const runnerLayer = (
  options: { readonly progress?: ScanProgressReporter | undefined; readonly only?: OnlySubmission | undefined; readonly lease?: ScanLeaseOptions | undefined } = {}
) => runnerOn(singleRunner(sqlMessages), options.progress, options.only, options.lease)

/** The runner for a host on a memory store: in-memory mailboxes, living as long as the layer (build it once, beside the store). */
export const layerMemory = (options: { readonly progress?: ScanProgressReporter | undefined; readonly lease?: ScanLeaseOptions | undefined } = {}) =>
  runnerOn(singleRunner(MessageStorage.layerMemory), options.progress, undefined, options.lease)

/** The store `spectral scan` runs on by default: embedded PGlite under `dataDir` with the cluster's tables, and its SqlClient. */
export const embeddedStore = (dataDir: string, options: Storage.EventOptions = {}) =>
  Storage.layerWithEventsNoDeps(options).pipe(Layer.provideMerge(EmbeddedCluster.layerPglite({ dataDir })))

export interface InProcessScan {
  readonly workspaceId: string
  readonly seed: number
  /** Model calls in flight at once (1–1024). */
  readonly concurrency: number
  /** Names the submission: the same id again joins its scan. Absent: the scan left behind, or a new one. */
  readonly requestId?: string | undefined
  /**
   * The store is this process's alone (embedded PGlite, whose folder it holds): a scan in progress
   * there has no live process. Otherwise one is left behind only once its lease ran out.
   */
  readonly exclusiveStore: boolean
  /** Progress of the scan (`run` only: with `runOnRunner`, the runner's own). */
  readonly progress?: ScanProgressReporter | undefined
  /**
   * How its lease is held: the duration without a heartbeat (`SPECTRAL_SCAN_LEASE_MS`, default
   * 30 000 ms), and this process's name (host and pid), which each take of the lease carries.
   */
  readonly lease?: ScanLeaseOptions | undefined
  /** Carry this failed scan on instead (`ScanSubmissions.retry`): its own seed, its saved phases. */
  readonly retry?: string | undefined
  /**
   * Replay this stored scan from its record as a new scan (a new submission; `seed` must be the
   * record's, the engine in context the one built from it, `ScanEngine.layerReplay`).
   */
  readonly replayOf?: string | undefined
}

/**
 * A scan's outcome read back from its saved phase outputs (its execution ended before this process
 * joined it): only the phases the outcome needs, each decoded by the orchestrator as a resume does;
 * the spend is the scan's stored spend.
 */
const storedOutcome = Effect.fnUntraced(function*(workspaceId: string, scanId: string) {
  const orchestrator = yield* ScanOrchestrator
  const scan = yield* (yield* ScanRepo).get(workspaceId, scanId)
  const decided = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "verdict")
  const diagnosis = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "diagnose")
  const completed = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "complete")
  const changeSet = completed.changeSetId === null ? null : yield* (yield* ChangeSetRepo).get(workspaceId, completed.changeSetId)
  const economics = (scan.record?.workspace ?? (yield* (yield* WorkspaceRepo).get(workspaceId))).framework.economics
  const spent = scan.spend ?? { total: { calls: 0, tokens: 0, usd: 0, cachedCalls: 0 }, byPhase: {}, byPurpose: {}, exhausted: false }
  return {
    scan,
    verdict: decided.verdict,
    changeSet,
    card: changeSet === null ? completed.card : { ...completed.card, changeSetStatus: changeSet.status, authority: changeSet.authority ?? completed.card.authority },
    diagnosis,
    spend: {
      budget: { maxCalls: economics.maxCallsPerScan, maxTokens: economics.maxTokensPerScan, maxUsd: economics.maxUsdPerScan },
      total: spent.total,
      byPhase: spent.byPhase,
      byPurpose: spent.byPurpose,
      inFlight: { calls: 0, tokens: 0, usd: 0 },
      exhausted: spent.exhausted
    }
  } satisfies ScanOutcome
})

/** Submit the planned request to the runner in context and wait for its end: the scan's outcome. */
const submitAndWait = Effect.fnUntraced(function*(request: InProcessScan, chosen: ScanSubmissions.SubmissionPlan & { readonly seed: number }) {
  const summary = yield* ScanWorkflow.ScanWorkflow.execute({
    workspaceId: request.workspaceId,
    requestId: chosen.requestId,
    seed: chosen.seed,
    concurrency: request.concurrency,
    carrier: "process",
    ...(request.replayOf === undefined ? {} : { replayOf: request.replayOf })
  })
  const outcome = (yield* ScanOutcomes).get(summary.scanId) ?? (yield* storedOutcome(summary.workspaceId, summary.scanId))
  return { ...outcome, resumed: chosen.resumed, abandoned: chosen.abandoned, requestId: chosen.requestId }
})

const planOf = (request: InProcessScan) => {
  const leaseMs = request.lease?.durationMs ?? DEFAULT_LEASE_MS
  if (request.replayOf !== undefined) {
    return Effect.succeed({ requestId: globalThis.crypto.randomUUID(), resumed: false, abandoned: [], seed: request.seed })
  }
  return request.retry !== undefined
    ? ScanSubmissions.retry({ workspaceId: request.workspaceId, scanId: request.retry, concurrency: request.concurrency, leaseMs })
    : Effect.map(
      ScanSubmissions.plan({
        workspaceId: request.workspaceId,
        seed: request.seed,
        concurrency: request.concurrency,
        requestId: request.requestId,
        exclusiveStore: request.exclusiveStore,
        leaseMs
      }),
      (plan) => ({ ...plan, seed: request.seed })
    )
}

/** Plan the request, then run it on the runner `runnerFor` builds for its one submission, stopped once it ends. */
const runOn = <E, R>(request: InProcessScan, runnerFor: (only: OnlySubmission) => Layer.Layer<ScanOutcomes | WorkflowEngine.WorkflowEngine, E, R>) =>
  Effect.gen(function*() {
    const chosen = yield* planOf(request)
    return yield* submitAndWait(request, chosen).pipe(Effect.provide(runnerFor({ workspaceId: request.workspaceId, requestId: chosen.requestId })))
  })

/**
 * Run one scan in this process as the scan workflow, on a single runner started for it once the
 * scans left behind are settled (so none it abandons is carried on), carrying that submission
 * alone, and stopped once it ends: the scan left behind when it is this one, else a new one.
 * Needs the engine on the store and the store's SqlClient holding the cluster's tables
 * (`embeddedStore`), where the runner's mailboxes are.
 */
export const run = (request: InProcessScan) =>
  runOn(request, (only) => runnerLayer({ progress: request.progress, only, lease: request.lease }))

/**
 * The same with the runner's mailboxes in this process's memory: on a shared PostgreSQL server,
 * whose cluster tables belong to its `spectral runner`s. A scan such a run left behind (its process
 * killed) is carried on from its saved phases by the next run, under a new execution of the same
 * submission, once its lease ran out.
 */
export const runWithMailboxesInMemory = (request: InProcessScan) =>
  runOn(request, (only) => runnerOn(singleRunner(MessageStorage.layerMemory), request.progress, only, request.lease))

/** The same on the runner in context (a host that built `layerMemory` once, beside its memory store). */
export const runOnRunner = Effect.fnUntraced(function*(request: InProcessScan) {
  return yield* submitAndWait(request, yield* planOf(request))
})
