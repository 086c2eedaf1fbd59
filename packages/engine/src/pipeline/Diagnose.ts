/**
 * Diagnose: quarantines infrastructure and parse failures first, then clusters the quality
 * failures into FailureClusters with severity variants linked, assigns per-agent blame, and
 * publishes `platform.failure_cluster.detected` per cluster. The clusterer's input type carries
 * only rubric explanations and scores (`RubricFailure`): world-model outputs cannot reach it.
 */
import { Context, Effect, Layer, Result, Schema } from "effect"
import type { Diagnosis, EvalSet, FailureCluster, WorkspaceAgent } from "../contracts/index.ts"
import {
  clusterFailures,
  type FailureClustering,
  type FailureClusteringInput,
  type RubricFailure
} from "../clustering/FailureClustering.ts"
import { EventBus, type EventRejected } from "../ports/EventBus.ts"
import { FailureClusterRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import type { RunMeasurement } from "./Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"
import { nowIso } from "./Time.ts"

export class DiagnoseFailed extends Schema.TaggedError<DiagnoseFailed>()("DiagnoseFailed", {
  message: Schema.String
}) {}

/** The clustering algorithm behind Diagnose; the default is the offline hashed TF-IDF + k-means. */
export class FailureClusterer extends Context.Service<FailureClusterer, {
  readonly cluster: (input: FailureClusteringInput, seed: number) => Effect.Effect<FailureClustering, DiagnoseFailed>
}>()("@spectral/engine/pipeline/FailureClusterer") {
  static readonly layerOffline = Layer.succeed(FailureClusterer, FailureClusterer.of({
    cluster: (input, seed) =>
      Effect.suspend(() => {
        const result = clusterFailures(input, { seed, k: "auto", kMin: 1, kMax: Math.max(1, Math.min(8, input.failures.length - 1)) })
        return Result.isSuccess(result)
          ? Effect.succeed(result.success)
          : Effect.fail(new DiagnoseFailed({ message: `clustering failed: ${String(result.failure)}` }))
      })
  }))
}

/**
 * Which agent a failing run is blamed on: the most upstream agent whose output misses its
 * intermediate ground truth; otherwise the agents that make the final answer.
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

export const diagnose = (
  context: ScanContext,
  evalSet: EvalSet,
  runs: ReadonlyArray<RunMeasurement>,
  clustering: (input: FailureClusteringInput) => Effect.Effect<FailureClustering, DiagnoseFailed>
) =>
  Effect.gen(function*() {
    const threshold = context.workspace.framework.passThreshold
    const infra = runs.filter((r) => r.status === "infra_failure").map((r) => r.traceId)
    const parse = runs.filter((r) => r.status === "parse_failure").map((r) => r.traceId)
    const quality = runs.filter((r) => r.status === "ok")
    const failing = quality.filter((r) => (r.blended ?? 0) < threshold && r.explanation !== undefined && r.rubric !== undefined)
    const passing = quality.filter((r) => (r.blended ?? 0) >= threshold && r.rubric !== undefined)
    const passingMeanScore = passing.length === 0 ? 1 : passing.reduce((s, r) => s + r.rubric!, 0) / passing.length
    const blame = new Map(failing.map((r) => [r.traceId, blameOf(r, context.agents, context.finalAgentIds)]))
    // Only rubric explanations and scores cross into the clusterer.
    const failures: Array<RubricFailure> = failing.map((r) => ({
      traceId: r.traceId,
      agent: blame.get(r.traceId)!,
      explanation: r.explanation!,
      rubricScore: r.rubric!
    }))
    const segmentOf = new Map(evalSet.samples.map((s) => [s.id, s.segment]))
    const stimulusOf = new Map(runs.map((r) => [r.traceId, r.stimulusId]))
    let clusters: ReadonlyArray<FailureCluster> = []
    if (failures.length > 0) {
      const result = yield* clustering({ failures, evaluatedCount: quality.length, passingMeanScore })
      clusters = result.clusters.map((c, index) => {
        const agentBlame: Record<string, number> = {}
        for (const id of c.memberIds) {
          const agent = blame.get(id) ?? "unknown"
          agentBlame[agent] = (agentBlame[agent] ?? 0) + 1 / c.memberIds.length
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
          frequencyPct: c.frequencyPct,
          effectSize: c.effectSize,
          actionable: c.actionable,
          representativeExplanations: c.representativeExplanations.map((e) => e.explanation),
          agentBlame,
          segments
        } satisfies FailureCluster
      }).sort((a, b) => b.memberTraceIds.length - a.memberTraceIds.length)
    }
    return {
      quarantine: { infraFailures: infra, parseFailures: parse },
      clusters,
      evaluatedCount: quality.length,
      failingCount: failing.length
    } satisfies Diagnosis
  })

export class Diagnose extends Context.Service<Diagnose, {
  readonly run: (context: ScanContext, observe: ObserveOutput) => Effect.Effect<Diagnosis, DiagnoseFailed | StorageError | EventRejected>
}>()("@spectral/engine/pipeline/Diagnose") {
  static readonly layer = Layer.effect(
    Diagnose,
    Effect.gen(function*() {
      const clusterer = yield* FailureClusterer
      const repo = yield* FailureClusterRepo
      const bus = yield* EventBus
      const run = Effect.fn("Diagnose.run")(function*(context: ScanContext, observe: ObserveOutput) {
        const diagnosis = yield* diagnose(context, observe.evalSet, observe.baseline.runs, (input) => clusterer.cluster(input, context.scan.seed))
        yield* repo.insert(context.workspace.id, diagnosis.clusters)
        for (const cluster of diagnosis.clusters) {
          yield* bus.publish({
            id: `${cluster.id}:detected`,
            type: "platform.failure_cluster.detected",
            version: 1,
            workspaceId: context.workspace.id,
            occurredAt: yield* nowIso,
            payload: {
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
            }
          })
        }
        return diagnosis
      })
      return Diagnose.of({ run })
    })
  )
}
