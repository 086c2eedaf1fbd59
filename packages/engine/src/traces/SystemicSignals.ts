/**
 * Systemic signals: patterns that only show across traces and agents, reported beside the failure
 * clusters — rate limiting (429s bunching in time across agents), correlated failures (several
 * agents failing on the same stimuli more often than their own failure rates explain) and latency
 * cliffs (an agent's latency jumping to a new level at a point in time). A pure function over
 * plain observations, so Diagnose can call it on scan traces and hosts on production spans.
 */
import type { ScanTrace, Trace } from "../contracts/index.ts"
import { hypergeometricUpperTail } from "../stats/Hypergeometric.ts"
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

// -----------------------------------------------------------------------------
// Quality failures across agents
// -----------------------------------------------------------------------------

/** One agent's answer on one stimulus, judged pass or fail (a quality failure, not an infrastructure one). */
export interface QualityObservation {
  readonly agent: string
  readonly stimulusId: string
  readonly atMs: number
  readonly failed: boolean
}

export type QualitySignal =
  | {
    readonly kind: "correlated_quality_failure"
    readonly agents: ReadonlyArray<string>
    /** Stimuli on which at least two of the agents failed. */
    readonly stimuli: ReadonlyArray<string>
    readonly observed: number
    /** Co-failing stimuli expected of the most-correlated pair if their failures were independent. */
    readonly expected: number
    /** One-sided p-value of Fisher's exact test for that pair (before the Bonferroni correction over pairs). */
    readonly pValue: number
    readonly description: string
  }
  | {
    readonly kind: "failure_rate_step"
    readonly agents: ReadonlyArray<string>
    readonly atMs: number
    readonly rateBefore: number
    readonly rateAfter: number
    /** Stimuli after the step on which the agents failed. */
    readonly stimuli: ReadonlyArray<string>
    readonly description: string
  }

export interface QualitySignalOptions {
  /** Agent → the agents it depends on, to say when a co-failure is one agent's failure propagating. */
  readonly dependsOn?: Readonly<Record<string, ReadonlyArray<string>>>
  /** Family-wise false-alarm rate over all agent pairs (Bonferroni) and agents (default 0.01). */
  readonly alpha?: number
  /** Fewest stimuli two agents must fail together on (default 3). */
  readonly minCorrelatedStimuli?: number
  /** Fewest observations on each side of a failure-rate step (default 10). */
  readonly minStepSide?: number
  /** Steps of several agents within this window are one shared step (default 10 minutes). */
  readonly stepWindowMs?: number
  /** Which authority judged the failures, for the description (default "the world model"). */
  readonly judgedBy?: string
}

const percent = (x: number) => `${Math.round(x * 100)}%`

const formatP = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`)

const correlatedQualityFailures = (observations: ReadonlyArray<QualityObservation>, options: QualitySignalOptions): Array<QualitySignal> => {
  const alpha = options.alpha ?? 0.01
  const minStimuli = options.minCorrelatedStimuli ?? 3
  const judgedBy = options.judgedBy ?? "the world model"
  // stimulus → agent → failed (any epoch failing counts as failed on that stimulus)
  const byStimulus = new Map<string, Map<string, boolean>>()
  for (const o of observations) {
    let agents = byStimulus.get(o.stimulusId)
    if (agents === undefined) byStimulus.set(o.stimulusId, agents = new Map())
    agents.set(o.agent, (agents.get(o.agent) ?? false) || o.failed)
  }
  const agentNames = [...new Set(observations.map((o) => o.agent))].sort()
  const pairs = (agentNames.length * (agentNames.length - 1)) / 2
  if (pairs === 0) return []
  interface Pair {
    readonly a: string
    readonly b: string
    readonly both: Array<string>
    readonly expected: number
    readonly pValue: number
  }
  const significant: Array<Pair> = []
  for (let i = 0; i < agentNames.length; i++) {
    for (let j = i + 1; j < agentNames.length; j++) {
      const a = agentNames[i]!
      const b = agentNames[j]!
      let n = 0
      let fa = 0
      let fb = 0
      const both: Array<string> = []
      for (const [stimulus, agents] of byStimulus) {
        if (!agents.has(a) || !agents.has(b)) continue
        n++
        const af = agents.get(a)!
        const bf = agents.get(b)!
        if (af) fa++
        if (bf) fb++
        if (af && bf) both.push(stimulus)
      }
      if (n === 0 || both.length < minStimuli) continue
      // Fisher's exact test: given how often each fails, are they failing on the same stimuli?
      const expected = (fa * fb) / n
      const pValue = hypergeometricUpperTail(both.length, n, fa, fb)
      // And a difference worth reporting: one's failing raises the other's failure rate by ≥ 20 points.
      const lift = Math.max(
        both.length / fa - (fb - both.length) / Math.max(1, n - fa),
        both.length / fb - (fa - both.length) / Math.max(1, n - fb)
      )
      if (lift >= 0.2 && pValue * pairs < alpha) significant.push({ a, b, both, expected, pValue })
    }
  }
  // Agents linked by significant pairs form one signal (components of the pair graph).
  const parent = new Map(agentNames.map((a) => [a, a]))
  const find = (a: string): string => (parent.get(a) === a ? a : find(parent.get(a)!))
  for (const pair of significant) parent.set(find(pair.a), find(pair.b))
  const components = new Map<string, Array<Pair>>()
  for (const pair of significant) {
    const root = find(pair.a)
    components.set(root, [...(components.get(root) ?? []), pair])
  }
  const signals: Array<QualitySignal> = []
  for (const members of components.values()) {
    const agents = [...new Set(members.flatMap((p) => [p.a, p.b]))].sort()
    const stimuli = [...new Set(members.flatMap((p) => p.both))].sort()
    const strongest = [...members].sort((x, y) => x.pValue - y.pValue || y.both.length - x.both.length)[0]!
    const dependsOn = options.dependsOn ?? {}
    const propagation = members
      .map((p) =>
        (dependsOn[p.b] ?? []).includes(p.a) ? `${p.b} depends on ${p.a}` : (dependsOn[p.a] ?? []).includes(p.b) ? `${p.a} depends on ${p.b}` : undefined
      )
      .filter((x): x is string => x !== undefined)
    const cause = propagation.length > 0
      ? `${propagation.join("; ")}: an upstream failure propagates downstream`
      : "no dependency links them: a shared cause such as the stimuli themselves"
    signals.push({
      kind: "correlated_quality_failure",
      agents,
      stimuli,
      observed: stimuli.length,
      expected: Math.round(strongest.expected * 100) / 100,
      pValue: strongest.pValue,
      description: `${agents.join(" and ")} fail together on ${stimuli.length} stimuli by ${judgedBy} (${strongest.a} and ${strongest.b}: ${strongest.both.length} where ${
        strongest.expected.toFixed(1)
      } were expected if independent, ${formatP(strongest.pValue)}); ${cause}`
    })
  }
  return signals.sort((x, y) => (y as { observed: number }).observed - (x as { observed: number }).observed)
}

/** log-likelihood of k successes in n Bernoulli trials at the MLE rate. */
const bernoulliLogLikelihood = (k: number, n: number) => {
  if (n === 0 || k === 0 || k === n) return 0
  const p = k / n
  return k * Math.log(p) + (n - k) * Math.log(1 - p)
}

const failureRateSteps = (observations: ReadonlyArray<QualityObservation>, options: QualitySignalOptions): Array<QualitySignal> => {
  const minSide = options.minStepSide ?? 10
  const windowMs = options.stepWindowMs ?? 600_000
  const alpha = options.alpha ?? 0.01
  const byAgent = new Map<string, Array<QualityObservation>>()
  for (const o of observations) {
    let list = byAgent.get(o.agent)
    if (list === undefined) byAgent.set(o.agent, list = [])
    list.push(o)
  }
  // Per agent: the split maximising the two-rate likelihood. Its likelihood ratio is compared with a
  // threshold that holds alpha over all agents and split points (Bonferroni over the splits tried).
  const steps: Array<{ agent: string; atMs: number; before: number; after: number; stimuli: Array<string> }> = []
  for (const [agent, unsorted] of byAgent) {
    if (unsorted.length < 2 * minSide) continue
    const list = [...unsorted].sort((a, b) => a.atMs - b.atMs)
    const prefix = [0]
    for (const o of list) prefix.push(prefix[prefix.length - 1]! + (o.failed ? 1 : 0))
    const n = list.length
    const total = prefix[n]!
    const whole = bernoulliLogLikelihood(total, n)
    let best = { k: -1, llr: 0 }
    for (let k = minSide; k <= n - minSide; k++) {
      const left = prefix[k]!
      const right = total - left
      if (right / (n - k) <= left / k) continue // only steps up
      const llr = bernoulliLogLikelihood(left, k) + bernoulliLogLikelihood(right, n - k) - whole
      if (llr > best.llr) best = { k, llr }
    }
    if (best.k < 0) continue
    const tried = Math.max(1, n - 2 * minSide + 1) * byAgent.size
    // 2·LLR ~ χ²(1) for one split; P(χ²(1) > x) = erfc(sqrt(x/2)), bounded by exp(−x/2) for this test.
    const pBound = Math.exp(-best.llr) // P(χ²₁ > 2·llr) ≤ e^(−llr)
    const before = prefix[best.k]! / best.k
    const after = (total - prefix[best.k]!) / (n - best.k)
    if (pBound * tried >= alpha || after - before < 0.2 || after < 2 * before) continue
    steps.push({
      agent,
      atMs: list[best.k]!.atMs,
      before,
      after,
      stimuli: list.slice(best.k).filter((o) => o.failed).map((o) => o.stimulusId)
    })
  }
  // Steps of several agents close in time are one shared step (one upstream change).
  steps.sort((a, b) => a.atMs - b.atMs)
  const signals: Array<QualitySignal> = []
  for (let i = 0; i < steps.length;) {
    let j = i
    while (j + 1 < steps.length && steps[j + 1]!.atMs - steps[i]!.atMs <= windowMs) j++
    const group = steps.slice(i, j + 1)
    if (group.length >= 2) {
      const agents = group.map((s) => s.agent).sort()
      const before = group.reduce((s, g) => s + g.before, 0) / group.length
      const after = group.reduce((s, g) => s + g.after, 0) / group.length
      signals.push({
        kind: "failure_rate_step",
        agents,
        atMs: group[0]!.atMs,
        rateBefore: before,
        rateAfter: after,
        stimuli: [...new Set(group.flatMap((g) => g.stimuli))].sort(),
        description: `the failure rate of ${agents.join(" and ")} rose together from ${percent(before)} to ${percent(after)} at ${
          new Date(group[0]!.atMs).toISOString()
        }: one change upstream of them (a prompt, a model, a tool or the inputs) is the likely cause`
      })
    }
    i = j + 1
  }
  return signals
}

/** Quality failures that strike several agents together: co-failing stimuli and shared failure-rate steps. */
export const detectQualitySignals = (
  observations: ReadonlyArray<QualityObservation>,
  options: QualitySignalOptions = {}
): ReadonlyArray<QualitySignal> => [...correlatedQualityFailures(observations, options), ...failureRateSteps(observations, options)]

/**
 * Observations from a scan's traces added a batch at a time (a page of a paged read), in scan
 * order: after every batch, `observations` is what `observationsFromScanTraces` gives for all the
 * traces added so far. Nothing of a trace is kept beyond its observations.
 */
export interface ScanTraceObservations {
  readonly add: (traces: ReadonlyArray<ScanTrace>) => void
  readonly observations: ReadonlyArray<SignalObservation>
}

/** An empty fold of scan-trace observations; runs without a start time are timed from `startedAtMs` on. */
export const makeScanTraceObservations = (startedAtMs = 0): ScanTraceObservations => {
  const out: Array<SignalObservation> = []
  let clock = startedAtMs
  const add = (traces: ReadonlyArray<ScanTrace>) => {
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
  }
  return { add, observations: out }
}

/** Observations from a scan's traces: one per agent run, the stimulus being the scan stimulus. */
export const observationsFromScanTraces = (traces: ReadonlyArray<ScanTrace>, startedAtMs = 0): ReadonlyArray<SignalObservation> => {
  const fold = makeScanTraceObservations(startedAtMs)
  fold.add(traces)
  return fold.observations
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
