/**
 * Diagnose: quarantines infrastructure and parse failures first, then clusters the quality
 * failures into FailureClusters with severity variants linked, assigns per-agent blame by
 * counterfactual re-runs across the agent graph (`counterfactualBlame`; in chunks on other runners
 * where the host spreads them, `BlameDispatch`), and publishes
 * `platform.failure_cluster.detected` per cluster. The clusterer's input type carries only rubric
 * explanations and scores (`RubricFailure`): world-model outputs cannot reach it.
 *
 * Before clustering, every explanation is screened once (`ExplanationScreen.ts`; the clusterer does
 * not screen again): empty, whitespace-only and content-free ones are skipped and listed in
 * `skippedExplanations` with their reason; over-long and ill-formed ones are clustered on their
 * cleaned, truncated text and listed in `adjustedExplanations`. Cluster labels are the offline
 * ones unless the workspace asks for a model labeller (`diagnosis.labeller: "model"`,
 * `ModelLabeller.ts`); each stored cluster says where its label came from (`labelSource`) and,
 * when the model's was turned down, why (`labelRejection`).
 * Systemic signals are computed from the baseline traces read page by page (`baselineTraceSummary`):
 * only each trace's small observations are kept, never every trace of the scan at once.
 */
import { Context, Effect, Layer, Option, Result, Schema } from "effect"
import { LanguageModel } from "effect/ai"
import type { AgentVersion, Diagnosis, EvalSet, EvalSetSample, FailureCluster, ScanTrace, WorkspaceAgent } from "../contracts/index.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetLedger } from "../agents/BudgetLedger.ts"
import { screenFailures } from "../clustering/ExplanationScreen.ts"
import { LabelCache, type LabelOutcome, type LabelRequest, makeMemoryLabelCache, modelLabels } from "../clustering/ModelLabeller.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import {
  clusterFailureVectors,
  type FailureClustering,
  type FailureClusteringInput,
  prepareFailures,
  type RubricFailure
} from "../clustering/FailureClustering.ts"
import { embedCorpus } from "../clustering/HashedTfIdfEmbedding.ts"
import { EventBus, type EventRejected } from "../ports/EventBus.ts"
import { emitEventWith, makeEvent } from "../ports/PhaseEvents.ts"
import { FailureClusterRepo, ScanTraceRepo } from "../ports/Repositories.ts"
import {
  detectQualitySignals,
  detectSystemicSignals,
  makeScanTraceObservations,
  type QualityObservation,
  type SignalObservation
} from "../traces/SystemicSignals.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { BlameDispatch, type BlameDispatcher } from "../measurement/BlameDispatch.ts"
import { type RunMeasurement, runsByStimulus } from "../measurement/Measurement.ts"
import { hashHex } from "../random/Deterministic.ts"
import type { ObserveOutput } from "./Observe.ts"
import { BASELINE_ARM, type ScanContext } from "./ScanContext.ts"

/** Baseline traces read per page when Diagnose folds them into signal observations. */
export const DefaultTracePageSize = 500

/**
 * What the systemic and quality signals need of the scan's baseline traces: the observation of
 * each agent run, and each trace's earliest run start (traces with one). Small beside the traces.
 */
export interface BaselineTraceSummary {
  readonly observations: ReadonlyArray<SignalObservation>
  readonly startOf: ReadonlyMap<string, number>
}

/**
 * The baseline traces of a scan folded into their summary page by page (`ScanTraceRepo.tracesPage`,
 * `pageSize` traces at a time), so no more than one page of traces is held at once; the same as
 * reading them all in scan order and summarising them together.
 */
export const baselineTraceSummary = (
  traceRepo: ScanTraceRepo["Service"],
  workspaceId: string,
  scanId: string,
  pageSize: number = DefaultTracePageSize
): Effect.Effect<BaselineTraceSummary, StorageError> =>
  Effect.gen(function*() {
    const fold = makeScanTraceObservations()
    const startOf = new Map<string, number>()
    let after: string | undefined = undefined
    while (true) {
      const page: ReadonlyArray<ScanTrace> = yield* traceRepo.tracesPage(workspaceId, scanId, { arm: BASELINE_ARM, after, limit: pageSize })
      fold.add(page)
      for (const trace of page) {
        const times = trace.runs.map((r) => (r.startedAt === undefined ? Number.NaN : Date.parse(r.startedAt))).filter(Number.isFinite)
        if (times.length > 0) startOf.set(trace.id, Math.min(...times))
      }
      if (page.length < pageSize) break
      after = page[page.length - 1]!.id
    }
    return { observations: fold.observations, startOf }
  })

/** Each answered run's per-agent pass/fail (below the framework's pass threshold fails), timed by its trace. */
const qualityObservations = (
  context: ScanContext,
  runs: ReadonlyArray<RunMeasurement>,
  startOf: ReadonlyMap<string, number>
): ReadonlyArray<QualityObservation> => {
  const threshold = context.workspace.framework.passThreshold
  const out: Array<QualityObservation> = []
  runs.forEach((run, index) => {
    if (run.status !== "ok") return // infrastructure and parse failures are quarantined, not quality
    const atMs = startOf.get(run.traceId) ?? index
    for (const [agent, score] of Object.entries(run.agents)) out.push({ agent, stimulusId: run.stimulusId, atMs, failed: score < threshold })
  })
  return out
}

export class DiagnoseFailed extends Schema.TaggedError<DiagnoseFailed>()("DiagnoseFailed", {
  message: Schema.String
}) {}

/**
 * The clustering algorithm behind Diagnose; the default is the offline hashed TF-IDF + k-means.
 * Its input is already screened: Diagnose screens every explanation once, whatever the clusterer,
 * so a clusterer clusters the failures as given and does not screen them again.
 */
export class FailureClusterer extends Context.Service<FailureClusterer, {
  readonly cluster: (input: FailureClusteringInput, seed: number) => Effect.Effect<FailureClustering, DiagnoseFailed>
}>()("@spectral/engine/pipeline/FailureClusterer") {
  static readonly layerOffline = Layer.succeed(FailureClusterer, FailureClusterer.of({
    cluster: (input, seed) =>
      Effect.suspend(() => {
        const options = { seed, k: "auto" as const, kMin: 1, kMax: Math.max(1, Math.min(8, input.failures.length - 1)) }
        // `clusterFailures` without its screen (the failures were screened by Diagnose).
        const result = Result.flatMap(
          prepareFailures(input),
          (prepared) => clusterFailureVectors(input, prepared, embedCorpus(prepared.patterns), options)
        )
        return Result.isSuccess(result)
          ? Effect.succeed(result.success)
          : Effect.fail(new DiagnoseFailed({ message: `clustering failed: ${String(result.failure)}` }))
      })
  }))
}

/**
 * Which agent a failing run is blamed on, without re-running anything (the fallback when a
 * counterfactual is impossible or the budget is spent): the agent whose answer did not parse; else
 * the most upstream agent whose output misses its intermediate ground truth; otherwise the agents
 * that make the final answer.
 */
export const blameOf = (run: RunMeasurement, agents: ReadonlyArray<WorkspaceAgent>, finalAgentIds: ReadonlyArray<string>): string => {
  if (run.parseFailedAgent !== undefined) return run.parseFailedAgent
  for (const agent of agents) {
    if (agent.groundTruthKey === undefined || finalAgentIds.includes(agent.id)) continue
    const score = run.agents[agent.id]
    if (score !== undefined && score < 1) return agent.id
  }
  return finalAgentIds[0] ?? agents[agents.length - 1]?.id ?? "unknown"
}

/** Per-agent share of the blame for one failing run (shares sum to 1). */
export type RunBlame = Readonly<Record<string, number>>

const finalShares = (finalAgentIds: ReadonlyArray<string>, total: number): Record<string, number> =>
  Object.fromEntries(finalAgentIds.map((id) => [id, total / Math.max(1, finalAgentIds.length)]))

/** The output an upstream agent should have given: its intermediate ground truth, or its output in a passing run of the same stimulus. */
const replacementFor = (
  agent: WorkspaceAgent,
  sample: EvalSetSample,
  run: RunMeasurement,
  passingRuns: ReadonlyArray<RunMeasurement>
): { readonly output: Record<string, unknown>; readonly source: "ground_truth" | "passing_run" } | undefined => {
  const truth = agent.groundTruthKey === undefined ? undefined : sample.intermediate[agent.groundTruthKey]
  if (truth !== undefined && Object.keys(truth).length > 0) return { output: { ...(run.agentOutputs[agent.id] ?? {}), ...truth }, source: "ground_truth" }
  const passing = passingRuns.find((r) => r.agentOutputs[agent.id] !== undefined)
  return passing === undefined ? undefined : { output: passing.agentOutputs[agent.id]!, source: "passing_run" }
}

const sameValues = (replacement: Record<string, unknown>, actual: Record<string, unknown> | undefined) =>
  actual !== undefined && Object.entries(replacement).every(([k, v]) => JSON.stringify(actual[k]) === JSON.stringify(v))

/** What one failing run's counterfactual decision needs of the scan (the same in process and in a chunk). */
export interface BlameSettings {
  readonly workspaceId: string
  /** The team's agents in topological order. */
  readonly agents: ReadonlyArray<WorkspaceAgent>
  readonly finalAgentIds: ReadonlyArray<string>
  /** The versions re-run: the scan's baseline. */
  readonly team: ReadonlyArray<AgentVersion>
  readonly passThreshold: number
}

export const blameSettings = (context: ScanContext): BlameSettings => ({
  workspaceId: context.workspace.id,
  agents: context.agents,
  finalAgentIds: context.finalAgentIds,
  team: context.baseline,
  passThreshold: context.workspace.framework.passThreshold
})

/**
 * The counterfactual decision for one failing run (see `counterfactualBlame`), given its stimulus
 * (undefined: not in the eval set) and the passing runs of that stimulus: its per-agent shares,
 * agents with no share left out. A re-run the budget refuses leaves the run to `blameOf`.
 */
export const makeRunBlame = (
  settings: BlameSettings
): Effect.Effect<
  (run: RunMeasurement, sample: EvalSetSample | undefined, passingRuns: ReadonlyArray<RunMeasurement>) => Effect.Effect<RunBlame>,
  never,
  AgentRunner | WorldModelScorer
> =>
  Effect.gen(function*() {
    const runner = yield* AgentRunner
    const scorer = yield* WorldModelScorer
    const threshold = settings.passThreshold
    const upstream = settings.agents.filter((a) => !settings.finalAgentIds.includes(a.id))
    const members = settings.agents.map((agent) => ({ agent, version: settings.team.find((v) => v.agentId === agent.id)! }))
    const decide = (run: RunMeasurement, sample: EvalSetSample | undefined, passingRuns: ReadonlyArray<RunMeasurement>) =>
      Effect.gen(function*() {
        if (sample === undefined || upstream.length === 0) return finalShares(settings.finalAgentIds, 1)
        const actual = run.worldModel ?? 0
        for (const [index, agent] of upstream.entries()) {
          const replacement = replacementFor(agent, sample, run, passingRuns)
          if (replacement === undefined || sameValues(replacement.output, run.agentOutputs[agent.id])) continue
          const rerun = yield* runner.runTeam({
            workspaceId: settings.workspaceId,
            team: members,
            stimulus: sample.input,
            epoch: run.epoch,
            phase: "diagnose",
            // Agents before this one keep their actual outputs; it and everything after it re-run.
            overrides: { ...Object.fromEntries(upstream.slice(0, index).filter((u) => run.agentOutputs[u.id] !== undefined).map((u) => [u.id, run.agentOutputs[u.id]!])), [agent.id]: replacement.output }
          })
          if (rerun.status !== "ok") continue
          const finalOutput = settings.finalAgentIds.length === 1
            ? rerun.outputs[settings.finalAgentIds[0]!]
            : Object.assign({}, ...settings.finalAgentIds.map((id) => rerun.outputs[id] ?? {}))
          const counterfactual = (yield* scorer.score(sample, finalOutput, rerun.outputs, settings.agents, settings.finalAgentIds)).score
          if (counterfactual <= actual) continue
          const share = counterfactual >= threshold ? 1 : Math.min(1, (counterfactual - actual) / Math.max(1e-9, 1 - actual))
          return { ...finalShares(settings.finalAgentIds, 1 - share), [agent.id]: share }
        }
        return finalShares(settings.finalAgentIds, 1)
      }).pipe(
        Effect.catchTag("BudgetExhausted", () => Effect.succeed({ [blameOf(run, settings.agents, settings.finalAgentIds)]: 1 })),
        Effect.map((shares): RunBlame => Object.fromEntries(Object.entries(shares).filter(([, v]) => v > 0)))
      )
    return decide
  })

const isPassing = (threshold: number) => (run: RunMeasurement) => run.status === "ok" && (run.blended ?? 0) >= threshold

/**
 * Credit assignment across the agent graph by counterfactual re-run. For each failing run of a
 * multi-agent team, each upstream agent in topological order whose output differs from what it
 * should have been (its intermediate ground truth when the eval set provides one, else its output
 * in a passing run of the same stimulus) is replaced by that output, and the downstream agents are
 * re-run (the world-model authority scores the re-run; no judge call). If the team then passes, the
 * upstream agent is to blame; if it improves without passing, blame is split by the share of the gap
 * closed; if nothing changes, the downstream (final) agents are to blame. Runs whose answer did not
 * parse are blamed on the agent that failed. When the budget is spent, `blameOf` decides.
 *
 * Where the host spreads the work (`BlameDispatch`) and there are more failing runs than a chunk,
 * the failing runs go out in chunks decided elsewhere by the same per-run decision (`makeRunBlame`);
 * a chunk the scan's budget has no room for is decided here, where the ledger refuses its re-runs.
 */
export const counterfactualBlame = (
  context: ScanContext,
  evalSet: EvalSet,
  runs: ReadonlyArray<RunMeasurement>
): Effect.Effect<ReadonlyMap<string, RunBlame>, never, AgentRunner | WorldModelScorer> =>
  Effect.gen(function*() {
    const settings = blameSettings(context)
    const decide = yield* makeRunBlame(settings)
    const passing = isPassing(settings.passThreshold)
    const samples = new Map(evalSet.samples.map((s) => [s.id, s]))
    const failing = runs.filter((r) => r.status === "ok" && (r.blended ?? 0) < settings.passThreshold)
    const byStimulus = runsByStimulus(runs)
    const passingOf = (stimulusId: string) => (byStimulus.get(stimulusId) ?? []).filter(passing)
    const blame = new Map<string, RunBlame>()
    for (const r of runs) if (r.parseFailedAgent !== undefined) blame.set(r.traceId, { [r.parseFailedAgent]: 1 })
    const decideHere = (chunk: ReadonlyArray<RunMeasurement>) =>
      Effect.forEach(chunk, (run) => Effect.map(decide(run, samples.get(run.stimulusId), passingOf(run.stimulusId)), (shares) => [run.traceId, shares] as const), {
        concurrency: context.concurrency
      })
    const spread = (dispatch: BlameDispatcher) =>
      Effect.forEach(chunksOf(failing, dispatch.chunkSize), (chunk, index) =>
        Effect.gen(function*() {
          const stimuli = [...new Set(chunk.map((run) => run.stimulusId))]
          const outcome = yield* dispatch.blame({
            key: `diagnose/blame/${index}/${hashHex(chunk.map((run) => run.traceId).join("\n"))}`,
            request: {
              workspaceId: settings.workspaceId,
              scanId: context.scan.id,
              agents: settings.agents,
              finalAgentIds: settings.finalAgentIds,
              team: settings.team,
              passThreshold: settings.passThreshold,
              runs: chunk,
              samples: stimuli.flatMap((id) => samples.get(id) ?? []),
              passing: stimuli.flatMap(passingOf),
              concurrency: context.concurrency
            }
          }).pipe(Effect.catchTag("BudgetExhausted", () => Effect.succeed(undefined)))
          if (outcome === undefined) return yield* decideHere(chunk)
          return chunk.map((run) => [run.traceId, outcome.shares[run.traceId] ?? { [blameOf(run, settings.agents, settings.finalAgentIds)]: 1 }] as const)
        }), { concurrency: dispatch.inFlight }).pipe(Effect.map((chunks) => chunks.flat()))
    const dispatch = yield* BlameDispatch
    // Spread only where there are re-runs to make (an upstream agent) and more failing runs than a chunk.
    const decided = dispatch !== undefined && failing.length > dispatch.chunkSize && settings.agents.some((a) => !settings.finalAgentIds.includes(a.id))
      ? yield* spread(dispatch)
      : yield* decideHere(failing)
    for (const [traceId, shares] of decided) blame.set(traceId, shares)
    return blame as ReadonlyMap<string, RunBlame>
  })

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const chunks: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/**
 * The scan's systemic signals, beside the clusters: patterns across the baseline traces and agents
 * (rate limiting, correlated failures, latency cliffs), then quality failures striking several
 * agents together (by the world model's per-agent scores). The traces are read page by page.
 */
export const scanSignals = (
  context: ScanContext,
  runs: ReadonlyArray<RunMeasurement>,
  traceRepo: ScanTraceRepo["Service"],
  pageSize: number = DefaultTracePageSize
): Effect.Effect<NonNullable<Diagnosis["systemicSignals"]>, StorageError> =>
  Effect.map(baselineTraceSummary(traceRepo, context.workspace.id, context.scan.id, pageSize), (summary) => {
    const infrastructure = detectSystemicSignals(summary.observations).map((signal) => ({
      kind: signal.kind,
      agents: [...signal.agents],
      description: signal.description,
      ...("stimuli" in signal ? { stimuli: [...signal.stimuli] } : {})
    }))
    const quality = detectQualitySignals(qualityObservations(context, runs, summary.startOf), {
      dependsOn: Object.fromEntries(context.workspace.agents.map((a) => [a.id, a.dependsOn]))
    }).map((signal) => ({ kind: signal.kind, agents: [...signal.agents], description: signal.description, stimuli: [...signal.stimuli] }))
    return [...infrastructure, ...quality]
  })

const mainAgent = (shares: RunBlame | undefined): string | undefined =>
  shares === undefined ? undefined : Object.entries(shares).sort((a, b) => b[1] - a[1])[0]?.[0]

/** Labels for clusters (largest first), from a model; `undefined`: the offline labels stand. */
export type ClusterLabeller = (requests: ReadonlyArray<LabelRequest>) => Effect.Effect<ReadonlyArray<LabelOutcome>>

export const diagnose = (
  context: ScanContext,
  evalSet: EvalSet,
  runs: ReadonlyArray<RunMeasurement>,
  clustering: (input: FailureClusteringInput) => Effect.Effect<FailureClustering, DiagnoseFailed>,
  /** Per-run blame from `counterfactualBlame`; `blameOf` decides for runs without one. */
  runBlame?: ReadonlyMap<string, RunBlame>,
  labeller?: ClusterLabeller
) =>
  Effect.gen(function*() {
    const threshold = context.workspace.framework.passThreshold
    const infra = runs.filter((r) => r.status === "infra_failure").map((r) => r.traceId)
    const parse = runs.filter((r) => r.status === "parse_failure").map((r) => r.traceId)
    const judge = runs.filter((r) => r.status === "ok" && r.judgeFailure !== undefined).map((r) => r.traceId)
    const quality = runs.filter((r) => r.status === "ok")
    // What is clustered is chosen by the rubric authority alone (its score and explanation): a
    // world-model score never decides what the clusterer sees (two-authority opacity). Traces the
    // world fails but the rubric passes are divergence, reported by Evaluate, not clustered.
    const failing = quality.filter((r) => r.rubric !== undefined && r.rubric < threshold && r.explanation !== undefined)
    const passing = quality.filter((r) => r.rubric !== undefined && r.rubric >= threshold)
    // Reported, never clustered: the world model decides only this list, not what the clusterer sees.
    const missedByJudge = passing.filter((r) => r.worldModel !== undefined && r.worldModel < threshold).map((r) => r.traceId)
    const passingMeanScore = passing.length === 0 ? 1 : passing.reduce((s, r) => s + r.rubric!, 0) / passing.length
    const shares = new Map(failing.map((r) => [r.traceId, runBlame?.get(r.traceId) ?? { [blameOf(r, context.agents, context.finalAgentIds)]: 1 }]))
    // Only rubric explanations and scores cross into the clusterer (blame, which reads intermediate
    // ground truth, is attached to the clusters afterwards).
    // Screened first, whatever the clusterer: bad explanations are skipped or cleaned, with the reason.
    const screen = screenFailures(failing.map((r): RubricFailure => ({
      traceId: r.traceId,
      explanation: r.explanation!,
      rubricScore: r.rubric!
    })))
    const failures = screen.kept
    const explanationOf = new Map(failures.map((f) => [f.traceId, f.explanation]))
    const segmentOf = new Map(evalSet.samples.map((s) => [s.id, s.segment]))
    const stimulusOf = new Map(runs.map((r) => [r.traceId, r.stimulusId]))
    let clusters: ReadonlyArray<FailureCluster> = []
    if (failures.length > 0) {
      const result = yield* clustering({ failures, evaluatedCount: quality.length, passingMeanScore })
      clusters = result.clusters.map((c, index) => {
        const agentBlame: Record<string, number> = {}
        for (const id of c.memberIds) {
          for (const [agent, share] of Object.entries(shares.get(id) ?? { unknown: 1 })) {
            agentBlame[agent] = (agentBlame[agent] ?? 0) + share / c.memberIds.length
          }
        }
        const segments: Record<string, number> = {}
        for (const id of c.memberIds) {
          const segment = segmentOf.get(stimulusOf.get(id) ?? "") ?? "unknown"
          segments[segment] = (segments[segment] ?? 0) + 1
        }
        return {
          id: `${context.scan.id}:cluster:${index + 1}`,
          scanId: context.scan.id,
          workspaceId: context.workspace.id,
          label: c.label,
          topTerms: c.topTerms,
          memberTraceIds: c.memberIds,
          variants: c.variants.map((v) => ({ pattern: v.values.length > 0 ? v.values.join(", ") : v.pattern, memberTraceIds: v.memberIds })),
          ...(c.severitySummary === "" ? {} : { severitySummary: c.severitySummary }),
          frequencyPct: c.frequencyPct,
          effectSize: c.effectSize,
          actionable: c.actionable,
          representativeExplanations: c.representativeExplanations.map((e) => e.explanation),
          agentBlame,
          segments,
          labelSource: "offline"
        } satisfies FailureCluster
      }).sort((a, b) => b.memberTraceIds.length - a.memberTraceIds.length)
    }
    if (labeller !== undefined && clusters.length > 0) {
      const outcomes = yield* labeller(clusters.map((c) => ({
        offlineLabel: c.label,
        representatives: c.representativeExplanations,
        members: c.memberTraceIds.flatMap((id) => explanationOf.get(id) ?? [])
      })))
      clusters = clusters.map((c, i) => withLabel(c, outcomes[i]))
    }
    return {
      quarantine: { infraFailures: infra, parseFailures: parse, judgeFailures: judge },
      clusters,
      missedByJudge,
      evaluatedCount: quality.length,
      failingCount: failing.length,
      ...(screen.skipped.length === 0 ? {} : { skippedExplanations: screen.skipped.map((s) => ({ ...s })) }),
      ...(screen.adjusted.length === 0 ? {} : { adjustedExplanations: screen.adjusted.map((a) => ({ ...a, adjustments: [...a.adjustments] })) })
    } satisfies Diagnosis
  })

/** The cluster with the labeller's outcome applied (unchanged when there is none). */
const withLabel = (cluster: FailureCluster, outcome: LabelOutcome | undefined): FailureCluster => {
  if (outcome === undefined) return cluster
  if (outcome.labelSource === "model") return { ...cluster, label: outcome.label, labelSource: "model", offlineLabel: cluster.label }
  return outcome.rejection === undefined ? cluster : { ...cluster, labelRejection: outcome.rejection }
}

/**
 * The workspace's labeller for a scan: undefined for offline labels (the default); else the model
 * labeller on the scan's seed, asking `labelModel` (default: the baseline's first final agent's
 * provider and model), or, with no language model at hand, offline labels with the reason.
 */
const labellerFor = (
  context: ScanContext,
  services: Option.Option<{ readonly model: LanguageModel.LanguageModel; readonly ledger: BudgetLedger["Service"] }>,
  cache: LabelCache["Service"]
): ClusterLabeller | undefined => {
  const settings = context.workspace.diagnosis
  if (settings?.labeller !== "model") return undefined
  if (Option.isNone(services)) {
    return (requests) => Effect.succeed(requests.map((r) => ({ label: r.offlineLabel, labelSource: "offline" as const, rejection: { reason: "no_model" as const, detail: "no language model is available to the diagnosis" } })))
  }
  const final = context.baseline.find((v) => v.agentId === context.finalAgentIds[0]) ?? context.baseline[0]
  const asked = settings.labelModel ?? { provider: final?.hyperparameters.provider ?? "default", model: final?.hyperparameters.model ?? "default" }
  return (requests) =>
    modelLabels(requests, {
      workspaceId: context.workspace.id,
      provider: asked.provider,
      model: asked.model,
      seed: context.scan.seed,
      ...(settings.maxLabelCalls === undefined ? {} : { maxCalls: settings.maxLabelCalls })
    }, cache).pipe(
      Effect.provideService(LanguageModel.LanguageModel, services.value.model),
      Effect.provideService(BudgetLedger, services.value.ledger)
    )
}

export class Diagnose extends Context.Service<Diagnose, {
  readonly run: (context: ScanContext, observe: ObserveOutput) => Effect.Effect<Diagnosis, DiagnoseFailed | StorageError | EventRejected>
}>()("@spectral/engine/pipeline/Diagnose") {
  static readonly layer = Layer.effect(
    Diagnose,
    Effect.gen(function*() {
      const clusterer = yield* FailureClusterer
      const repo = yield* FailureClusterRepo
      const traceRepo = yield* ScanTraceRepo
      const emit = emitEventWith(yield* EventBus)
      const services = yield* Effect.context<AgentRunner | WorldModelScorer>()
      // For the optional model labeller: the scan's model and ledger when present, and a label
      // cache (the host's, else one that lives as long as this layer).
      const modelServices = Option.zipWith(
        yield* Effect.serviceOption(LanguageModel.LanguageModel),
        yield* Effect.serviceOption(BudgetLedger),
        (model, ledger) => ({ model, ledger })
      )
      const labelCache = Option.getOrElse(yield* Effect.serviceOption(LabelCache), makeMemoryLabelCache)
      const run = Effect.fn("Diagnose.run")(function*(context: ScanContext, observe: ObserveOutput) {
        const runBlame = yield* counterfactualBlame(context, observe.evalSet, observe.baseline.runs).pipe(Effect.provide(services))
        const clustered = yield* diagnose(
          context,
          observe.evalSet,
          observe.baseline.runs,
          (input) => clusterer.cluster(input, context.scan.seed),
          runBlame,
          labellerFor(context, modelServices, labelCache)
        )
        const systemicSignals = yield* scanSignals(context, observe.baseline.runs, traceRepo)
        const diagnosis: Diagnosis = { ...clustered, systemicSignals }
        yield* repo.insert(context.workspace.id, diagnosis.clusters)
        for (const cluster of diagnosis.clusters) {
          yield* emit(yield* makeEvent("platform.failure_cluster.detected", `${cluster.id}:detected`, {
              workspaceId: context.workspace.id,
              scanId: context.scan.id,
              clusterId: cluster.id,
              label: cluster.label,
              frequencyPct: cluster.frequencyPct,
              effectSize: cluster.effectSize,
              actionable: cluster.actionable,
              memberCount: cluster.memberTraceIds.length,
              segments: cluster.segments,
              representativeExplanations: cluster.representativeExplanations,
              authority: observe.evalSet.attribution.authority
          }))
        }
        return diagnosis
      })
      return Diagnose.of({ run })
    })
  )
}
