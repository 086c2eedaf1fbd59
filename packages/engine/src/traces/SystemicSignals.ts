/**
 * Systemic signals: patterns that only show across traces and agents, reported beside the failure
 * clusters — rate limiting (429s bunching in time across agents), correlated failures (several
 * agents failing on the same stimuli more often than their own failure rates explain) and latency
 * cliffs (an agent's latency jumping to a new level at a point in time). A pure function over
 * plain observations, so Diagnose can call it on scan traces and hosts on production spans.
 */
import type { ScanTrace, Trace } from "../contracts/index.ts"
import { genAiView } from "./GenAiView.ts"

export interface SignalObservation {
  readonly agent: string
  /** The stimulus (or production trace) the call served; correlated failures group by it. */
  readonly stimulusId: string
  readonly atMs: number
  readonly latencyMs: number
  readonly failed: boolean
  readonly httpStatus?: number
  readonly error?: string
}

export type SystemicSignal =
  | {
    readonly kind: "rate_limit_bunching"
    readonly agents: ReadonlyArray<string>
    readonly count: number
    readonly windowStartMs: number
    readonly windowEndMs: number
    /** Share of all rate-limited calls that fall in this window. */
    readonly share: number
    readonly description: string
  }
  | {
    readonly kind: "correlated_failure"
    readonly agents: ReadonlyArray<string>
    readonly stimuli: ReadonlyArray<string>
    readonly observed: number
    /** Stimuli expected to see these agents fail together if their failures were independent. */
    readonly expected: number
    readonly description: string
  }
  | {
    readonly kind: "latency_cliff"
    readonly agents: ReadonlyArray<string>
    readonly atMs: number
    readonly medianBeforeMs: number
    readonly medianAfterMs: number
    readonly ratio: number
    readonly description: string
  }

export interface SignalOptions {
  /** Width of the window 429s must bunch in (default 60 s). */
  readonly rateLimitWindowMs?: number
  /** Fewest 429s in the window to report (default 3). */
  readonly minRateLimited?: number
  /** Fewest stimuli where the same agents fail together (default 2). */
  readonly minCorrelatedStimuli?: number
  /** Median after / median before that counts as a cliff (default 2). */
  readonly cliffRatio?: number
  /** Fewest calls on each side of a cliff (default 5). */
  readonly minCliffSide?: number
}

const isRateLimited = (o: SignalObservation): boolean =>
  o.httpStatus === 429 || (o.error !== undefined && /\b429\b|rate[ _-]?limit|too many requests/i.test(o.error))

const medianOf = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const rateLimitBunching = (observations: ReadonlyArray<SignalObservation>, options: SignalOptions): Array<SystemicSignal> => {
  const window = options.rateLimitWindowMs ?? 60_000
  const minCount = options.minRateLimited ?? 3
  const limited = observations.filter(isRateLimited).sort((a, b) => a.atMs - b.atMs)
  if (limited.length < minCount) return []
  const signals: Array<SystemicSignal> = []
  let start = 0
  let i = 0
  while (i < limited.length) {
    // Grow the densest window starting at `start`.
    let end = start
    while (end + 1 < limited.length && limited[end + 1]!.atMs - limited[start]!.atMs <= window) end++
    const inWindow = limited.slice(start, end + 1)
    const agents = [...new Set(inWindow.map((o) => o.agent))].sort()
    if (inWindow.length >= minCount && agents.length >= 2) {
      signals.push({
        kind: "rate_limit_bunching",
        agents,
        count: inWindow.length,
        windowStartMs: inWindow[0]!.atMs,
        windowEndMs: inWindow[inWindow.length - 1]!.atMs,
        share: inWindow.length / limited.length,
        description: `${inWindow.length} rate-limited calls (429) across ${agents.length} agents within ${
          Math.round((inWindow[inWindow.length - 1]!.atMs - inWindow[0]!.atMs) / 1000)
        }s: a shared provider quota, not an agent defect`
      })
      start = end + 1
      i = start
      continue
    }
    start++
    i = start
  }
  return signals
}

const correlatedFailures = (observations: ReadonlyArray<SignalObservation>, options: SignalOptions): Array<SystemicSignal> => {
  const minStimuli = options.minCorrelatedStimuli ?? 2
  const byStimulus = new Map<string, Map<string, boolean>>()
  for (const o of observations) {
    if (isRateLimited(o)) continue // rate limiting is reported on its own
    let agents = byStimulus.get(o.stimulusId)
    if (agents === undefined) byStimulus.set(o.stimulusId, agents = new Map())
    agents.set(o.agent, (agents.get(o.agent) ?? false) || o.failed)
  }
  const runs = new Map<string, number>()
  const fails = new Map<string, number>()
  for (const agents of byStimulus.values()) {
    for (const [agent, failed] of agents) {
      runs.set(agent, (runs.get(agent) ?? 0) + 1)
      if (failed) fails.set(agent, (fails.get(agent) ?? 0) + 1)
    }
  }
  // Group stimuli by the exact set of agents that failed on them (two or more).
  const groups = new Map<string, { agents: Array<string>; stimuli: Array<string> }>()
  for (const [stimulus, agents] of byStimulus) {
    const failed = [...agents].filter(([, f]) => f).map(([a]) => a).sort()
    if (failed.length < 2) continue
    const key = failed.join("\u0000")
    const group = groups.get(key) ?? { agents: failed, stimuli: [] }
    group.stimuli.push(stimulus)
    groups.set(key, group)
  }
  const signals: Array<SystemicSignal> = []
  for (const group of groups.values()) {
    if (group.stimuli.length < minStimuli) continue
    // Expected co-failures if independent: stimuli where all ran x product of failure rates.
    const shared = [...byStimulus.values()].filter((agents) => group.agents.every((a) => agents.has(a))).length
    const expected = shared * group.agents.reduce((p, a) => p * (fails.get(a) ?? 0) / Math.max(1, runs.get(a) ?? 0), 1)
    if (group.stimuli.length < 2 * expected) continue
    signals.push({
      kind: "correlated_failure",
      agents: group.agents,
      stimuli: group.stimuli.sort(),
      observed: group.stimuli.length,
      expected: Math.round(expected * 100) / 100,
      description: `${group.agents.join(", ")} fail together on ${group.stimuli.length} stimuli (${
        expected.toFixed(2)
      } expected if independent): a shared cause such as the stimuli themselves or a common upstream`
    })
  }
  return signals.sort((a, b) => (b as { observed: number }).observed - (a as { observed: number }).observed)
}

const latencyCliffs = (observations: ReadonlyArray<SignalObservation>, options: SignalOptions): Array<SystemicSignal> => {
  const ratioNeeded = options.cliffRatio ?? 2
  const minSide = options.minCliffSide ?? 5
  const byAgent = new Map<string, Array<SignalObservation>>()
  for (const o of observations) {
    if (o.failed) continue
    let list = byAgent.get(o.agent)
    if (list === undefined) byAgent.set(o.agent, list = [])
    list.push(o)
  }
  const cliffs: Array<{ agent: string; atMs: number; before: number; after: number; ratio: number }> = []
  for (const [agent, list] of byAgent) {
    if (list.length < 2 * minSide) continue
    list.sort((a, b) => a.atMs - b.atMs)
    // Change point: the split minimising the squared error of log latency on both sides (prefix sums).
    const logs = list.map((o) => Math.log(Math.max(1, o.latencyMs)))
    const sum = [0]
    const sumSq = [0]
    for (const v of logs) {
      sum.push(sum[sum.length - 1]! + v)
      sumSq.push(sumSq[sumSq.length - 1]! + v * v)
    }
    const sse = (from: number, to: number) => {
      const n = to - from
      const s1 = sum[to]! - sum[from]!
      return sumSq[to]! - sumSq[from]! - (s1 * s1) / n
    }
    let bestK = -1
    let bestCost = Infinity
    for (let k = minSide; k <= list.length - minSide; k++) {
      const cost = sse(0, k) + sse(k, list.length)
      if (cost < bestCost) bestCost = cost, bestK = k
    }
    let best: { k: number; ratio: number; before: number; after: number } | undefined
    if (bestK > 0) {
      const before = medianOf(list.slice(0, bestK).map((o) => o.latencyMs))
      const after = medianOf(list.slice(bestK).map((o) => o.latencyMs))
      const ratio = after / Math.max(1, before)
      if (ratio >= ratioNeeded) best = { k: bestK, ratio, before, after }
    }
    if (best !== undefined) cliffs.push({ agent, atMs: list[best.k]!.atMs, before: best.before, after: best.after, ratio: best.ratio })
  }
  // Cliffs of several agents within a minute of each other are one systemic event.
  cliffs.sort((a, b) => a.atMs - b.atMs)
  const signals: Array<SystemicSignal> = []
  for (let i = 0; i < cliffs.length;) {
    let j = i
    while (j + 1 < cliffs.length && cliffs[j + 1]!.atMs - cliffs[i]!.atMs <= 60_000) j++
    const group = cliffs.slice(i, j + 1)
    const agents = group.map((c) => c.agent).sort()
    const before = medianOf(group.map((c) => c.before))
    const after = medianOf(group.map((c) => c.after))
    signals.push({
      kind: "latency_cliff",
      agents,
      atMs: group[0]!.atMs,
      medianBeforeMs: before,
      medianAfterMs: after,
      ratio: Math.round((after / Math.max(1, before)) * 100) / 100,
      description: `latency of ${agents.join(", ")} jumped from a median of ${Math.round(before)}ms to ${Math.round(after)}ms at ${
        new Date(group[0]!.atMs).toISOString()
      }${agents.length > 1 ? " (several agents at once: a provider or infrastructure change)" : ""}`
    })
    i = j + 1
  }
  return signals
}

export const detectSystemicSignals = (
  observations: ReadonlyArray<SignalObservation>,
  options: SignalOptions = {}
): ReadonlyArray<SystemicSignal> => [
  ...rateLimitBunching(observations, options),
  ...correlatedFailures(observations, options),
  ...latencyCliffs(observations, options)
]

/** Observations from a scan's traces: one per agent run, the stimulus being the scan stimulus. */
export const observationsFromScanTraces = (traces: ReadonlyArray<ScanTrace>, startedAtMs = 0): ReadonlyArray<SignalObservation> => {
  const out: Array<SignalObservation> = []
  let clock = startedAtMs
  for (const trace of traces) {
    for (const run of trace.runs) {
      const status = run.error === undefined ? undefined : /\b(4\d\d|5\d\d)\b/.exec(run.error)?.[1]
      const started = run.startedAt === undefined ? Number.NaN : Date.parse(run.startedAt)
      out.push({
        agent: run.agentId,
        stimulusId: trace.stimulusId,
        atMs: Number.isFinite(started) ? started : clock,
        latencyMs: run.latencyMs,
        failed: run.status !== "ok",
        ...(status === undefined ? {} : { httpStatus: Number(status) }),
        ...(run.error === undefined ? {} : { error: run.error })
      })
      clock += run.latencyMs
    }
  }
  return out
}

/** Observations from production spans: model calls, attributed to agents, grouped by OTLP trace. */
export const observationsFromTraces = (
  traces: ReadonlyArray<Trace>,
  agentOfSpan: ReadonlyMap<string, string>
): ReadonlyArray<SignalObservation> =>
  traces.flatMap((span) => {
    const view = genAiView(span)
    const agent = agentOfSpan.get(span.id)
    if (agent === undefined || !view.isModelCall) return []
    const message = span.attributes["spectral.status.message"]
    return [{
      agent,
      stimulusId: view.conversation ?? span.traceId,
      atMs: view.startMs,
      latencyMs: view.latencyMs,
      failed: view.isError,
      ...(view.httpStatus === undefined ? {} : { httpStatus: view.httpStatus }),
      ...(typeof message === "string" && message !== "" ? { error: message } : {})
    }]
  })
