/**
 * The supervisor's input: one completed scan as the supervisor sees it — per agent, the quality of
 * the configuration the scan measured as its baseline (the world-model authority's per-agent score,
 * its mean over the stimuli with a bootstrap interval and standard error), how many stimuli scored
 * it, its model spend per stimulus and its version; plus the scan's attribution (world model id and
 * version) as metadata. `summarizeScan` builds it from a scan's stored rows (ScanTrace, EvalResult);
 * it reads only the baseline arm (an unselected measurement: candidates are chosen on the working
 * set and their scores are biased upward by that choice). Does not classify (see Supervisor.ts),
 * does not read storage (see ScanHistory.ts) and does not own the shape (contracts/ScanSummary.ts).
 */
import { Effect, Result, Schema } from "effect"
import {
  type AgentScanSummary,
  type EvalResult,
  type Scan,
  ScanSummary,
  type ScanTrace
} from "../contracts/index.ts"
import { BASELINE_ARM } from "../pipeline/ScanContext.ts"
import { hashString } from "../random/Deterministic.ts"
import { bootstrapCI } from "../stats/BootstrapCI.ts"

/** The shapes live in the contracts (a summary is stored: `ScanRepo.saveSummaries`). */
export { AgentScanSummary, QualityInterval, ScanSummary } from "../contracts/ScanSummary.ts"

export const ScanHistoryInput = Schema.Array(ScanSummary)

export class ScanHistoryInvalid extends Schema.TaggedError<ScanHistoryInvalid>()("ScanHistoryInvalid", {
  message: Schema.String
}) {}

/** Decode an untyped history (a host's JSON); the error names the scan and field that are wrong. */
export const decodeScanHistory = (input: unknown): Effect.Effect<ReadonlyArray<ScanSummary>, ScanHistoryInvalid> =>
  Schema.decodeUnknownEffect(ScanHistoryInput)(input).pipe(
    Effect.mapError((error) => new ScanHistoryInvalid({ message: error.message }))
  )

export interface SummarizeOptions {
  /** Interval level (default 0.95). */
  readonly level?: number
  /** Bootstrap resamples per agent (default 1,999). */
  readonly resamples?: number
}

/**
 * The settings a summary was computed with, as `ScanRepo` keeps summaries under them: a summary
 * computed with other settings is a different summary.
 */
export const scanSummarySettings = (options: SummarizeOptions = {}): string =>
  `level=${options.level ?? 0.95};resamples=${options.resamples ?? 1999}`

interface StimulusTally {
  readonly weight: number
  scores: Array<number>
  costs: Array<number>
}

const mean = (values: ReadonlyArray<number>): number => values.reduce((a, b) => a + b, 0) / values.length

const mostCommon = (values: ReadonlyArray<number>): number | undefined => {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: number | undefined
  let bestCount = 0
  for (const [v, n] of counts) if (n > bestCount || (n === bestCount && v > best!)) [best, bestCount] = [v, n]
  return best
}

/**
 * One scan's summary from its stored rows: per agent, the world-model per-agent score of every
 * baseline trace (infrastructure failures have none), averaged over epochs per stimulus, then a
 * weighted mean over stimuli (`stimulusWeight`, as the CompositeScore's per-agent measure) with a
 * seeded percentile bootstrap interval; the agent's spend per stimulus is its runs' `costUsd`,
 * averaged the same way. Agents scored on fewer than 2 stimuli are left out of the scan.
 */
export const summarizeScan = (
  scan: Pick<Scan, "id" | "workspaceId" | "createdAt" | "attribution">,
  traces: ReadonlyArray<ScanTrace>,
  results: ReadonlyArray<EvalResult>,
  options: SummarizeOptions = {}
): ScanSummary => {
  const level = options.level ?? 0.95
  const worldScores = new Map<string, EvalResult>()
  for (const result of results) if (result.authority === "world_model") worldScores.set(result.traceId, result)
  const byAgent = new Map<string, { stimuli: Map<string, StimulusTally>; versions: Array<number> }>()
  for (const trace of traces) {
    if (trace.arm !== BASELINE_ARM || trace.status === "infra_failure") continue
    const scored = worldScores.get(trace.id)
    if (scored === undefined) continue
    for (const [agentId, score] of Object.entries(scored.agents)) {
      let agent = byAgent.get(agentId)
      if (agent === undefined) byAgent.set(agentId, agent = { stimuli: new Map(), versions: [] })
      let tally = agent.stimuli.get(trace.stimulusId)
      if (tally === undefined) agent.stimuli.set(trace.stimulusId, tally = { weight: trace.stimulusWeight, scores: [], costs: [] })
      const runs = trace.runs.filter((run) => run.agentId === agentId)
      tally.scores.push(score)
      tally.costs.push(runs.reduce((total, run) => total + run.costUsd, 0))
      for (const run of runs) agent.versions.push(run.agentVersion)
    }
  }
  const agents: Array<AgentScanSummary> = []
  for (const agentId of [...byAgent.keys()].sort()) {
    const { stimuli, versions } = byAgent.get(agentId)!
    const tallies = [...stimuli.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, tally]) => tally)
    if (tallies.length < 2) continue
    const x = tallies.map((t) => mean(t.scores))
    const weights = tallies.map((t) => Math.max(0, t.weight))
    const interval = bootstrapCI({
      statistic: weights.some((w) => w > 0) ? "weighted_mean" : "mean",
      x,
      weights,
      level,
      method: "percentile",
      resamples: options.resamples ?? 1999,
      seed: hashString(`${scan.id}:${agentId}`)
    })
    if (Result.isFailure(interval)) continue
    const { estimate, low, high, standardError } = interval.success
    const version = mostCommon(versions)
    agents.push({
      agentId,
      ...(version === undefined ? {} : { agentVersion: version }),
      // Clamped so rounding in the bootstrap never puts the estimate outside its own interval.
      quality: { estimate, low: Math.min(low, estimate), high: Math.max(high, estimate), level, standardError },
      stimuli: tallies.length,
      costUsd: mean(tallies.map((t) => mean(t.costs)))
    })
  }
  return {
    scanId: scan.id,
    workspaceId: scan.workspaceId,
    at: scan.createdAt,
    ...(scan.attribution === undefined
      ? {}
      : { attribution: { worldModelId: scan.attribution.worldModelId, worldModelVersion: scan.attribution.worldModelVersion } }),
    agents
  }
}
