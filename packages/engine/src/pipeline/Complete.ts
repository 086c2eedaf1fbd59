/**
 * Completing a scan: the ChangeSet (proposed when a candidate won and the verdict allows it,
 * validated when nothing was worth changing and every check passed, rejected on no_go or when the
 * configuration could not be validated — a failing or cautioning check, such as a judge or a
 * provider that failed), its explainability with the
 * per-cluster before/after, the AgentPerformanceCard, and `scan.completed` — whose handler stamps
 * the authority and applies the autonomy mode.
 */
import { Effect, Result } from "effect"
import {
  absent,
  ALPHA_FOOTER,
  type AgentCardEntry,
  type AgentPerformanceCard,
  type AgentVersion,
  type ChangeSet,
  type ClusterOutcome,
  type CompositeScore,
  type Diagnosis,
  type EvalSet,
  type Measure,
  present,
  type VerdictResult
} from "../contracts/index.ts"
import { SampleRepo } from "../ports/Repositories.ts"
import { bootstrapCI } from "../stats/BootstrapCI.ts"
import { type ArmMeasurement, runsByStimulus, summarizeByStimulus } from "../measurement/Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { OptimizeOutput } from "./Optimize.ts"
import type { SafetyOutput } from "./Safety.ts"
import type { ScanContext } from "./ScanContext.ts"

const pairedInterval = (x: ReadonlyArray<number>, y: ReadonlyArray<number>, level: number, seed: number) => {
  if (x.length < 2) return null
  const r = bootstrapCI({ statistic: "mean_diff_paired", x, y, level, method: "bca", resamples: 1999, seed })
  return Result.isSuccess(r) ? { estimate: r.success.estimate, low: r.success.low, high: r.success.high } : null
}

export const clusterOutcomes = (context: ScanContext, diagnosis: Diagnosis, baseline: ArmMeasurement, candidate: ArmMeasurement | undefined): ReadonlyArray<ClusterOutcome> => {
  const threshold = context.workspace.framework.passThreshold
  const stimulusOf = new Map(baseline.runs.map((r) => [r.traceId, r.stimulusId]))
  const b = summarizeByStimulus(baseline)
  const c = candidate === undefined ? undefined : summarizeByStimulus(candidate)
  return diagnosis.clusters.map((cluster) => {
    const stimuli = [...new Set(cluster.memberTraceIds.map((id) => stimulusOf.get(id)).filter((s): s is string => s !== undefined))]
    const failBefore = stimuli.map((s) => ((b.get(s)?.blended ?? 0) < threshold ? 1 : 0))
    const measured = c === undefined ? [] : stimuli.filter((s) => c.has(s))
    const failAfter = c === undefined ? failBefore : measured.map((s) => ((c.get(s)?.blended ?? 0) < threshold ? 1 : 0))
    const before = failBefore.reduce((a: number, v) => a + v, 0) / Math.max(1, failBefore.length)
    const after = failAfter.reduce((a: number, v) => a + v, 0) / Math.max(1, failAfter.length)
    return {
      clusterId: cluster.id,
      label: cluster.label,
      failureRateBefore: before,
      failureRateAfter: after,
      change: c === undefined ? null : pairedInterval(measured.map((s) => ((b.get(s)?.blended ?? 0) < threshold ? 1 : 0)), failAfter, 0.95, context.scan.seed)
    }
  })
}

export const nextAgentVersions = (baseline: ReadonlyArray<AgentVersion>, proposed: ReadonlyArray<AgentVersion>): ReadonlyArray<AgentVersion> =>
  proposed.map((p) => {
    const b = baseline.find((a) => a.agentId === p.agentId)
    if (b === undefined) return { ...p, version: 1 }
    const same = JSON.stringify(b.template) === JSON.stringify(p.template) && JSON.stringify(b.hyperparameters) === JSON.stringify(p.hyperparameters)
    return same ? b : { ...p, version: b.version + 1 }
  })

/**
 * The id of the change set this scan's completion creates: the workspace's next version (so the
 * Verdict phase can name it in `verdict.issued` before it is built). No change set is created
 * under observe_only; the caller decides that.
 */
export const changeSetIdFor = (context: ScanContext): string => `${context.workspace.id}:cs:${(context.previousChangeSet?.version ?? 0) + 1}`

export const buildChangeSet = (
  context: ScanContext,
  observe: ObserveOutput,
  diagnosis: Diagnosis,
  optimize: OptimizeOutput,
  safety: SafetyOutput,
  verdict: VerdictResult,
  now: string,
  /** The versioned sample set the scan measured on (`recordSampleSet`). */
  sampleSet: { readonly id: string; readonly version: number }
): ChangeSet => {
  const winner = optimize.winner
  const safe = safety.violations.length === 0
  const outcomes = clusterOutcomes(context, diagnosis, observe.baseline, winner?.measurement)
  const agents = winner === null || !safe ? context.baseline : nextAgentVersions(context.baseline, winner.candidate.agents)
  // With no candidate the verdict is at best caution (nothing to ship); the configuration is
  // validated only when no check failed or cautioned — never on a scan whose judge or provider failed.
  const notPassing = verdict.checks.filter((c) => c.status === "fail" || c.status === "caution")
  const validated = winner === null && notPassing.length === 0
  const status = winner === null
    ? validated ? "validated" as const : "rejected" as const
    : !safe || verdict.outcome === "no_go" ? "rejected" as const : "proposed" as const
  const reasoning = [
    `Measured ${observe.evalSet.samples.length} stimuli from ${observe.evalSet.attribution.worldModelId}@${observe.evalSet.attribution.worldModelVersion}; ${diagnosis.failingCount} quality failures in ${diagnosis.clusters.length} cluster(s), ${diagnosis.quarantine.infraFailures.length} infrastructure, ${diagnosis.quarantine.parseFailures.length} parse and ${diagnosis.quarantine.judgeFailures.length} judge failures quarantined.`,
    ...diagnosis.clusters.slice(0, 5).map((c) => `Cluster "${c.label}"${c.severitySummary === undefined ? "" : ` (${c.severitySummary})`}: ${c.memberTraceIds.length} failures (${c.frequencyPct.toFixed(1)}%), blamed on ${Object.entries(c.agentBlame).sort((a, b) => b[1] - a[1]).map(([a, s]) => `${a} ${(s * 100).toFixed(0)}%`).join(", ")}.`),
    ...(diagnosis.missedByJudge.length > 0
      ? [`Missed by the judge: ${diagnosis.missedByJudge.length} answer${diagnosis.missedByJudge.length === 1 ? "" : "s"} the world model fails were passed by the judge.`]
      : []),
    winner === null ? "No candidate improved the working set." : `Winner ${winner.candidate.id} (${winner.candidate.strategy}): ${winner.candidate.rationale}.`,
    ...(diagnosis.systemicSignals ?? []).map((signal) => `Systemic signal (${signal.kind}): ${signal.description}`),
    ...safety.violations.map((v) => `Safety violation (${v.invariant}, rule ${v.rule}, agent ${v.agentId}): ${v.message}`),
    `Verdict ${verdict.outcome}: ${verdict.checksPassed} of ${verdict.checksTotal} checks pass.`
  ]
  const firstProblem = notPassing.find((c) => c.status === "fail") ?? notPassing[0]
  const summary = winner === null
    ? validated
      ? "Nothing worth changing: the configuration is validated as it is."
      : `Not validated: the verdict is ${verdict.outcome} (${firstProblem!.reason}).`
    : `${winner.candidate.changed.join(", ")} changed by ${winner.candidate.strategy}; working delta ${(winner.workingDelta * 100).toFixed(1)} pts; verdict ${verdict.outcome}.`
  const version = (context.previousChangeSet?.version ?? 0) + 1
  return {
    id: `${context.workspace.id}:cs:${version}`,
    workspaceId: context.workspace.id,
    version,
    // The change set this one was measured against (the accepted one the scan started from), not
    // merely the latest: a rejected or validated change set in between is not a baseline.
    baselineId: context.baselineChangeSet?.id ?? null,
    framework: { id: context.workspace.framework.id, version: context.workspace.framework.version },
    sampleSet,
    agents,
    explainability: {
      summary,
      reasoning,
      // The tournament's winner, vetoed by the world: the log says so, not only "won".
      decisionLog: winner !== null && !safe
        ? [...optimize.decisionLog, { strategy: winner.candidate.strategy, candidateId: winner.candidate.id, outcome: "rejected_by_safety" as const, reason: safety.violations.map((v) => `${v.invariant} (rule ${v.rule}, agent ${v.agentId}): ${v.message}`).join("; "), workingDelta: winner.workingDelta }]
        : optimize.decisionLog,
      clusterOutcomes: outcomes
    },
    status,
    scanId: context.scan.id,
    authority: null,
    createdAt: now,
    updatedAt: now
  }
}

const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / values.length

export const buildCard = (
  context: ScanContext,
  observe: ObserveOutput,
  composite: CompositeScore,
  diagnosis: Diagnosis,
  optimize: OptimizeOutput,
  verdict: VerdictResult,
  changeSet: ChangeSet,
  now: string
): AgentPerformanceCard => {
  const threshold = context.workspace.framework.passThreshold
  const b = summarizeByStimulus(observe.baseline)
  const candidateArm = optimize.winner?.measurement
  const c = candidateArm === undefined ? undefined : summarizeByStimulus(candidateArm)
  const shown = c ?? b
  const agents: Array<AgentCardEntry> = context.agents.map((agent) => {
    const version = changeSet.agents.find((a) => a.agentId === agent.id)
    const before = context.baseline.find((a) => a.agentId === agent.id)
    const scoreOf = (m: ReadonlyMap<string, { readonly agents: Readonly<Record<string, number>> }>): Measure => {
      const values = [...m.values()].map((s) => s.agents[agent.id]).filter((v): v is number => v !== undefined)
      return values.length === 0 ? absent("no per-agent scores") : present(mean(values))
    }
    const paired = c === undefined ? [] : [...c.keys()].filter((id) => b.get(id)?.agents[agent.id] !== undefined && c.get(id)?.agents[agent.id] !== undefined)
    const byStimulus = runsByStimulus((candidateArm ?? observe.baseline).runs)
    const runsOf = (stimulusId: string) => byStimulus.get(stimulusId) ?? []
    const perStimulus = [...shown.keys()].map((id) => runsOf(id).map((r) => r.agents[agent.id]).filter((v): v is number => v !== undefined))
    const withScores = perStimulus.filter((runs) => runs.length > 0)
    return {
      agentId: agent.id,
      name: agent.name,
      version: version?.version ?? 1,
      changed: (version?.version ?? 1) !== (before?.version ?? 1),
      baselineScore: scoreOf(b),
      candidateScore: c === undefined ? absent("no candidate change") : scoreOf(c),
      change: c === undefined ? null : pairedInterval(paired.map((id) => b.get(id)!.agents[agent.id]!), paired.map((id) => c.get(id)!.agents[agent.id]!), 0.95, context.scan.seed),
      passRate: withScores.length === 0 ? absent("no per-agent scores") : present(withScores.filter((runs) => mean(runs) >= threshold).length / withScores.length),
      consistency: withScores.length === 0
        ? absent("no per-agent scores")
        : context.workspace.framework.epochs < 2
        ? absent("one run per stimulus")
        : present(withScores.filter((runs) => runs.every((v) => v >= threshold)).length / withScores.length)
    }
  })
  const outcomes = new Map(changeSet.explainability.clusterOutcomes.map((o) => [o.clusterId, o]))
  const biggest = diagnosis.clusters[0]
  const summary = [
    `Verdict: ${verdict.checksPassed} / ${verdict.checksTotal} checks passing (${verdict.outcome}).`,
    biggest === undefined
      ? "No failure clusters."
      : `The biggest cluster is ${biggest.label.replace(/^\p{Lu}(?=\p{Ll})/u, (initial) => initial.toLowerCase())} — ${biggest.memberTraceIds.length} of your ${diagnosis.failingCount} failures.`,
    changeSet.explainability.summary
  ].join(" ")
  return {
    workspaceId: context.workspace.id,
    workspaceName: context.workspace.name,
    scanId: context.scan.id,
    changeSetId: changeSet.id,
    changeSetVersion: changeSet.version,
    changeSetStatus: changeSet.status,
    generatedAt: now,
    authority: changeSet.authority ?? observe.evalSet.attribution.authority,
    verdict: { outcome: verdict.outcome, checksPassed: verdict.checksPassed, checksTotal: verdict.checksTotal, delta: verdict.delta },
    scores: { worldModel: composite.worldModelScore, rubric: composite.rubricScore, blended: composite.blendedScore, convergenceDelta: composite.convergenceDelta },
    agents,
    clusters: diagnosis.clusters.map((cl) => {
      const o = outcomes.get(cl.id)
      return {
        label: cl.label,
        ...(cl.severitySummary === undefined ? {} : { severitySummary: cl.severitySummary }),
        members: cl.memberTraceIds.length,
        frequencyPct: cl.frequencyPct,
        ...(o !== undefined ? { failureRateBefore: o.failureRateBefore, failureRateAfter: o.failureRateAfter } : {})
      }
    }),
    gates: verdict.checks,
    summary,
    footer: ALPHA_FOOTER
  }
}

/**
 * The scan's eval set as a versioned SampleSet (its working and holdout stimulus ids): the same
 * split as a stored version reuses that version; a different one (the eval set was regenerated,
 * resized or re-split) is the next version. Idempotent on resume.
 */
export const recordSampleSet = Effect.fnUntraced(function*(workspaceId: string, evalSet: EvalSet, now: string) {
  const repo = yield* SampleRepo
  const working = evalSet.samples.filter((s) => s.holdoutLayer === "working").map((s) => s.id).sort()
  const holdout = evalSet.samples.filter((s) => s.holdoutLayer !== "working").map((s) => s.id).sort()
  const same = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((x, i) => x === b[i])
  const versions = (yield* repo.sampleSets(workspaceId)).filter((s) => s.id === evalSet.id)
  const existing = versions.find((s) => same([...s.working].sort(), working) && same([...s.holdout].sort(), holdout))
  if (existing !== undefined) return { id: existing.id, version: existing.version }
  const version = versions.reduce((max, s) => Math.max(max, s.version), 0) + 1
  yield* repo.insertSampleSet({ id: evalSet.id, workspaceId, version, working, holdout, createdAt: now })
  return { id: evalSet.id, version }
})

