/**
 * A scan run in this process as the durable scan workflow (`ScanWorkflow` on `effect/cluster`'s
 * `ClusterWorkflowEngine`), on a single runner of its own: what `spectral scan` (without
 * `--submit`) and the tax-prep job run on the embedded store. The cluster's messages and activity
 * results are kept beside the scans: in the embedded PGlite database (`EmbeddedCluster`, the
 * default), or in memory for a memory store. The one runner holds every shard (in memory: it is the
 * store's only process), so the execution a killed process left behind is picked up again as soon
 * as the next one starts, its finished phases read back from what they saved; a runner started for
 * one scan (`run`) carries that submission alone, any other left behind waits for a run of its own.
 *
 * A scan left behind is found by its submission: the workspace's newest scan in progress asked for
 * again (same seed, same declaration, not stopped `MAX_RESUMES` times) is submitted again under its
 * request id, which joins its execution; every other one is marked `abandoned` with the reason. A
 * scan left behind that no workflow carries (started by `spectral serve`'s API, or before scans
 * ran as workflows) is resumed by the orchestrator in this process instead, under a lease.
 *
 * It owns composing the runner and following one submission to its outcome; the scan itself is the
 * engine's workflow, the store the host's.
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { EmbeddedCluster, Storage } from "@spectral/adapters"
import {
  abandonedBecause,
  BudgetLedger,
  ChangeSetRepo,
  declarationDigest,
  inProgress,
  resumableAmong,
  ScanOrchestrator,
  type ScanLeaseOptions,
  type ScanOutcome,
  ScanProgress,
  type ScanProgressReporter,
  ScanRepo,
  ScanWorkflow,
  withoutLease,
  WorkspaceRepo
} from "@spectral/engine"
import type { Scan } from "@spectral/engine/contracts"
import { Clock, Context, Effect, Layer } from "effect"
import { ClusterWorkflowEngine, MessageStorage, RunnerHealth, Runners, RunnerStorage, Sharding, ShardingConfig, SqlMessageStorage } from "effect/cluster"

/** One runner holding every shard (in memory), its mailboxes on `messages`. */
const singleRunner = <R>(messages: Layer.Layer<MessageStorage.MessageStorage, never, R | ShardingConfig.ShardingConfig>) =>
  Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(messages),
    Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
    Layer.provide(ShardingConfig.layer())
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
  only?: OnlySubmission
) =>
  Layer.unwrap(Effect.sync(() => {
    const outcomes = new Map<string, ScanOutcome>()
    return ScanWorkflow.layer.pipe(
      Layer.provide(capturing(outcomes, only)),
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
export const runnerLayer = (options: { readonly progress?: ScanProgressReporter | undefined; readonly only?: OnlySubmission | undefined } = {}) =>
  runnerOn(singleRunner(sqlMessages), options.progress, options.only)

/** The runner for a host on a memory store: in-memory mailboxes, living as long as the layer (build it once, beside the store). */
export const layerMemory = (options: { readonly progress?: ScanProgressReporter | undefined } = {}) =>
  runnerOn(singleRunner(MessageStorage.layerMemory), options.progress)

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
  /** The lease of a scan left behind unsubmitted, resumed in this process (`ScanOrchestrator.resume`). */
  readonly lease?: ScanLeaseOptions | undefined
}


interface Plan {
  readonly requestId: string
  readonly resumed: boolean
  readonly abandoned: ReadonlyArray<Scan>
  /** A scan left behind that was not submitted (started by `spectral serve`'s API, or before scans ran as workflows): resumed in this process under a lease. */
  readonly unsubmitted?: Scan | undefined
}

/**
 * Which submission to run: the scan a stopped process left behind when it is the one asked for
 * (counted as resumed once more), or a new one; the other scans left behind are abandoned.
 */
const plan = Effect.fnUntraced(function*(request: InProcessScan) {
  const scans = yield* ScanRepo
  const workspace = yield* (yield* WorkspaceRepo).get(request.workspaceId)
  const now = yield* Clock.currentTimeMillis
  const nowIso = new Date(now).toISOString()
  const resume = (scan: Scan) => scans.update({ ...scan, resumes: (scan.resumes ?? 0) + 1, updatedAt: nowIso })
  const all = yield* scans.list(workspace.id)
  const stopped = (scan: Scan) =>
    inProgress(scan) && (request.exclusiveStore || scan.lease === undefined || Date.parse(scan.lease.expiresAt) <= now)
  if (request.requestId !== undefined) {
    const same = all.find((scan) => scan.submission?.requestId === request.requestId)
    if (same !== undefined && stopped(same)) yield* resume(same)
    return { requestId: request.requestId, resumed: same !== undefined && stopped(same), abandoned: [] } satisfies Plan
  }
  const digest = declarationDigest(workspace)
  const left = all.filter(stopped)
  // Newest first: the newest scan asked for is resumed, every other one left behind is abandoned.
  const resumable = resumableAmong(left, request.seed, digest)
  const abandoned: Array<Scan> = []
  for (const scan of left) {
    if (scan === resumable) continue
    const why = abandonedBecause(scan, request.seed, digest, resumable)
    const ended: Scan = { ...withoutLease(scan), state: "abandoned", failureReason: why, updatedAt: nowIso }
    yield* scans.update(ended)
    abandoned.push(ended)
  }
  if (resumable?.submission !== undefined) {
    yield* resume(resumable)
    return { requestId: resumable.submission.requestId, resumed: true, abandoned } satisfies Plan
  }
  // No workflow execution carries a scan that was not submitted: the orchestrator resumes it (and counts it).
  if (resumable !== undefined) return { requestId: "", resumed: true, abandoned, unsubmitted: resumable } satisfies Plan
  return { requestId: globalThis.crypto.randomUUID(), resumed: false, abandoned } satisfies Plan
})

/**
 * A scan's outcome read back from its saved phase outputs (its execution ended before this process
 * joined it): only the phases the outcome needs, each decoded by the orchestrator as a resume does.
 */
const storedOutcome = Effect.fnUntraced(function*(workspaceId: string, scanId: string) {
  const orchestrator = yield* ScanOrchestrator
  const scan = yield* (yield* ScanRepo).get(workspaceId, scanId)
  const decided = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "verdict")
  const diagnosis = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "diagnose")
  const completed = yield* orchestrator.savedPhaseOutput(workspaceId, scanId, "complete")
  const changeSet = completed.changeSetId === null ? null : yield* (yield* ChangeSetRepo).get(workspaceId, completed.changeSetId)
  return {
    scan,
    verdict: decided.verdict,
    changeSet,
    card: changeSet === null ? completed.card : { ...completed.card, changeSetStatus: changeSet.status, authority: changeSet.authority ?? completed.card.authority },
    diagnosis,
    spend: yield* (yield* BudgetLedger).snapshot
  } satisfies ScanOutcome
})

/** Submit the chosen request to the runner in context and wait for its end: the scan's outcome. */
const submitAndWait = Effect.fnUntraced(function*(request: InProcessScan, chosen: Plan) {
  if (chosen.unsubmitted !== undefined) {
    const outcome = yield* (yield* ScanOrchestrator).resume(chosen.unsubmitted.workspaceId, chosen.unsubmitted.id, {
      concurrency: request.concurrency,
      ...(request.lease === undefined ? {} : { lease: request.lease })
    })
    return { ...outcome, resumed: true, abandoned: chosen.abandoned, requestId: undefined as string | undefined }
  }
  const summary = yield* ScanWorkflow.ScanWorkflow.execute({
    workspaceId: request.workspaceId,
    requestId: chosen.requestId,
    seed: request.seed,
    concurrency: request.concurrency
  })
  const outcome = (yield* ScanOutcomes).get(summary.scanId) ?? (yield* storedOutcome(summary.workspaceId, summary.scanId))
  return { ...outcome, resumed: chosen.resumed, abandoned: chosen.abandoned, requestId: chosen.requestId as string | undefined }
})

/**
 * Run one scan in this process as the scan workflow, on a single runner started for it once the
 * scans left behind are settled (so none it abandons is carried on), carrying that submission
 * alone, and stopped once it ends: the scan left behind when it is this one, else a new one. Needs the engine on the store and the
 * store's SqlClient holding the cluster's tables (`embeddedStore`).
 */
export const run = Effect.fnUntraced(function*(request: InProcessScan) {
  const chosen = yield* plan(request)
  const only = { workspaceId: request.workspaceId, requestId: chosen.requestId }
  return yield* submitAndWait(request, chosen).pipe(Effect.provide(runnerLayer({ progress: request.progress, only })))
})

/** The same on the runner in context (a host that built `layerMemory` once, beside its memory store). */
export const runOnRunner = Effect.fnUntraced(function*(request: InProcessScan) {
  return yield* submitAndWait(request, yield* plan(request))
})
