/**
 * The supervisor: per agent, the mode of its scan history — ACTIVE, PLATEAU, FRONTIER or NO_DATA —
 * with the sentence a person would write to justify it. It reads the history as one continuous
 * series: a world-model version bump is metadata on the scans (listed in `worldModelVersions` and
 * named in the reason), never a reset or a partition (ADR-030). Pure; the input is what
 * `loadScanHistory` (or a host) builds.
 *
 * The rules, for one agent whose scans (oldest first) are P₁ … Pₙ, latest L = Pₙ:
 * - Two scans are compared by their per-agent intervals: Δ(A, B) = A − B with standard error
 *   √(se_A² + se_B²) (each scan's bootstrap standard error, or its interval's half-width / z), and a
 *   normal interval at `level`. "Significantly higher" means that interval lies above 0.
 * - The window is the last `window` scans (default 5; all n when fewer); its change is Δ(L, first
 *   scan of the window).
 * - A scan P dominates L when it is significantly better and not costlier, or cheaper and not
 *   significantly worse. Costs differ when they differ by more than `costTolerance` (default 5%)
 *   of the larger; "cheaper" and "costlier" mean beyond that tolerance.
 *
 * 1. NO_DATA — fewer than 2 scans scored the agent.
 * 2. ACTIVE (trend improving) — the window's change is significantly above 0.
 * 3. FRONTIER — no scan of the history dominates L, and some scan cost a different amount (the
 *    history has explored the quality/cost trade; with one cost level there is no front to be on).
 *    A significant drop bought with a lower cost is FRONTIER too: it is a trade, not a regression.
 * 4. PLATEAU (trend flat) — the window's change is not significant either way.
 * 5. ACTIVE (trend declining) — the window's change is significantly below 0 and an earlier scan
 *    dominates L (named in the reason): the history is moving beyond noise, the wrong way.
 */
import { Schema } from "effect"
import { NonNegative, NonNegativeInt, PositiveInt } from "../contracts/index.ts"
import { normalQuantile } from "../stats/NormalDistribution.ts"
import { QualityInterval, type ScanSummary } from "./ScanSummary.ts"

export const SupervisorClass = Schema.Literals(["ACTIVE", "PLATEAU", "FRONTIER", "NO_DATA"])
export type SupervisorClass = typeof SupervisorClass.Type

export const Trend = Schema.Literals(["improving", "declining", "flat"])
export type Trend = typeof Trend.Type

/** The latest scan's score minus the window's first, in score units (×100 for points). */
export const ScoreChange = Schema.Struct({
  estimate: Schema.Finite,
  low: Schema.Finite,
  high: Schema.Finite,
  level: Schema.Finite,
  fromScanId: Schema.String,
  toScanId: Schema.String,
  /** Scans in the window. */
  scans: PositiveInt
})
export type ScoreChange = typeof ScoreChange.Type

export const AgentStatus = Schema.Struct({
  agentId: Schema.NonEmptyString,
  status: SupervisorClass,
  /** Absent for NO_DATA. */
  trend: Schema.optionalKey(Trend),
  /** Why, in one sentence: "PLATEAU: no significant change across the last 5 scans (Δ +0.4 pts, 95% CI [−1.1, +1.9])". */
  reason: Schema.String,
  /** Scans of the history that scored this agent. */
  scans: NonNegativeInt,
  change: Schema.optionalKey(ScoreChange),
  latest: Schema.optionalKey(Schema.Struct({
    scanId: Schema.String,
    agentVersion: Schema.optionalKey(PositiveInt),
    quality: QualityInterval,
    costUsd: NonNegative
  })),
  /** Scan ids on the agent's quality/cost front (dominated by no other scan of its history), oldest first. */
  frontier: Schema.Array(Schema.String),
  /** The scan that dominates the latest one, when one does. */
  dominatedBy: Schema.optionalKey(Schema.String),
  /** `worldModelId@version` of the window's scans, in order of first appearance: metadata only. */
  worldModelVersions: Schema.Array(Schema.String)
})
export type AgentStatus = typeof AgentStatus.Type

/** Settings, decodable from a host's input (an API query, configuration); out-of-range values are refused naming the field. */
export const SupervisorOptions = Schema.Struct({
  window: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2))),
  level: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0.5, maximum: 1, exclusiveMaximum: true }))),
  costTolerance: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }))),
  /** Agents to report even when no scan scored them (NO_DATA); the history's agents are always reported. */
  agents: Schema.optionalKey(Schema.Array(Schema.NonEmptyString))
})
export type SupervisorOptions = typeof SupervisorOptions.Type

export const DefaultSupervisorWindow = 5
export const DefaultSupervisorLevel = 0.95
export const DefaultCostTolerance = 0.05

interface Point {
  readonly scanId: string
  readonly version: string | undefined
  readonly agentVersion: number | undefined
  readonly quality: QualityInterval
  readonly se: number
  readonly costUsd: number
}

interface Difference {
  readonly estimate: number
  readonly low: number
  readonly high: number
}

const standardErrorOf = (q: QualityInterval): number =>
  q.standardError ?? Math.max(0, q.high - q.low) / (2 * normalQuantile((1 + q.level) / 2))

/** Signed points with one decimal and a real minus sign: "+0.4", "−1.1". */
const signedPts = (x: number): string => {
  const v = Math.round(x * 1000) / 10
  return `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(1)}`
}
const pts = (x: number): string => `${(Math.round(x * 1000) / 10).toFixed(1)} pts`
const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`
const percent = (level: number): string => `${Math.round(level * 1000) / 10}%`

const pointsOf = (history: ReadonlyArray<ScanSummary>): Map<string, Array<Point>> => {
  const seen = new Set<string>()
  const ordered = history
    .map((scan, index) => ({ scan, index }))
    .filter(({ scan }) => (seen.has(scan.scanId) ? false : (seen.add(scan.scanId), true)))
    .sort((a, b) => a.scan.at.localeCompare(b.scan.at) || a.index - b.index)
  const byAgent = new Map<string, Array<Point>>()
  for (const { scan } of ordered) {
    const version = scan.attribution === undefined ? undefined : `${scan.attribution.worldModelId}@${scan.attribution.worldModelVersion}`
    for (const agent of scan.agents) {
      let list = byAgent.get(agent.agentId)
      if (list === undefined) byAgent.set(agent.agentId, list = [])
      list.push({
        scanId: scan.scanId,
        version,
        agentVersion: agent.agentVersion,
        quality: agent.quality,
        se: standardErrorOf(agent.quality),
        costUsd: agent.costUsd
      })
    }
  }
  return byAgent
}

/**
 * Classify every agent of the history (and every agent named in `options.agents`), sorted by agent
 * id. The history may come in any order (it is sorted by `at`); a scan id given twice counts once.
 */
export const classifyAgents = (
  history: ReadonlyArray<ScanSummary>,
  options: SupervisorOptions = {}
): ReadonlyArray<AgentStatus> => {
  const window = options.window ?? DefaultSupervisorWindow
  const level = options.level ?? DefaultSupervisorLevel
  const tolerance = options.costTolerance ?? DefaultCostTolerance
  const z = normalQuantile((1 + level) / 2)
  const diff = (a: Point, b: Point): Difference => {
    const estimate = a.quality.estimate - b.quality.estimate
    const half = z * Math.sqrt(a.se * a.se + b.se * b.se)
    return { estimate, low: estimate - half, high: estimate + half }
  }
  const costDiffers = (a: Point, b: Point) => Math.abs(a.costUsd - b.costUsd) > tolerance * Math.max(a.costUsd, b.costUsd)
  const cheaper = (a: Point, b: Point) => a.costUsd < b.costUsd && costDiffers(a, b)
  const costlier = (a: Point, b: Point) => cheaper(b, a)
  const dominates = (p: Point, q: Point): boolean => {
    const d = diff(p, q)
    return (d.low > 0 && !costlier(p, q)) || (cheaper(p, q) && d.high >= 0)
  }

  const byAgent = pointsOf(history)
  const agentIds = [...new Set([...byAgent.keys(), ...(options.agents ?? [])])].sort()
  return agentIds.map((agentId): AgentStatus => {
    const points = byAgent.get(agentId) ?? []
    const n = points.length
    if (n < 2) {
      return {
        agentId,
        status: "NO_DATA",
        reason: `NO_DATA: ${n === 0 ? "no scan" : "only 1 scan"} scored this agent; the supervisor needs at least 2`,
        scans: n,
        ...(n === 1 ? { latest: latestOf(points[0]!) } : {}),
        frontier: points.map((p) => p.scanId),
        worldModelVersions: versionsOf(points)
      }
    }
    const latest = points[n - 1]!
    const inWindow = points.slice(Math.max(0, n - window))
    const first = inWindow[0]!
    const change = diff(latest, first)
    const span = inWindow.length === n && n < window ? `its ${n} scans` : `the last ${inWindow.length} scans`
    const changeText = `Δ ${signedPts(change.estimate)} pts, ${percent(level)} CI [${signedPts(change.low)}, ${signedPts(change.high)}]`
    const versions = versionsOf(inWindow)
    const versionText = versions.length > 1 ? `; the window spans ${versions.join(" → ")}` : ""
    // Newest first, so that among equals the most recent scan is the one named.
    const others = points.slice(0, n - 1).reverse()
    const dominators = others.filter((p) => dominates(p, latest))
    const dominator = dominators.sort((a, b) => b.quality.estimate - a.quality.estimate || a.costUsd - b.costUsd)[0]
    const explored = others.some((p) => costDiffers(p, latest))
    const frontier = points.filter((p) => !points.some((q) => q !== p && dominates(q, p))).map((p) => p.scanId)
    const base = {
      agentId,
      scans: n,
      change: { ...change, level, fromScanId: first.scanId, toScanId: latest.scanId, scans: inWindow.length },
      latest: latestOf(latest),
      frontier,
      ...(dominator === undefined ? {} : { dominatedBy: dominator.scanId }),
      worldModelVersions: versions
    }
    const describe = (p: Point) => `${pts(p.quality.estimate)} at ${usd(p.costUsd)} per stimulus`
    const dominatorText = dominator === undefined
      ? ""
      : `; scan ${dominator.scanId} scored ${describe(dominator)}, against the latest's ${describe(latest)}`
    const trendOf = (d: Difference): Trend => (d.low > 0 ? "improving" : d.high < 0 ? "declining" : "flat")

    if (change.low > 0) {
      return { ...base, status: "ACTIVE", trend: "improving", reason: `ACTIVE: improving beyond noise across ${span} (${changeText})${versionText}` }
    }
    if (dominator === undefined && explored) {
      const cheaperOnes = others.filter((p) => cheaper(p, latest))
      const alternative = (cheaperOnes.length > 0 ? cheaperOnes : others.filter((p) => costDiffers(p, latest)))
        .sort((a, b) => b.quality.estimate - a.quality.estimate || a.costUsd - b.costUsd)[0]!
      const trend = trendOf(change)
      const moved = trend === "flat" ? "no significant change" : "a significant drop bought with a lower cost"
      return {
        ...base,
        status: "FRONTIER",
        trend,
        reason: `FRONTIER: on the quality/cost front of its ${n} scans — none scored as well for less ` +
          `(latest ${describe(latest)}; scan ${alternative.scanId} ${describe(alternative)}); ` +
          `${moved} across ${span} (${changeText})${versionText}`
      }
    }
    if (change.high >= 0) {
      const sameCost = explored ? "" : `; every scan cost about the same (${usd(latest.costUsd)} per stimulus), so there is no quality/cost trade to be on the front of`
      return { ...base, status: "PLATEAU", trend: "flat", reason: `PLATEAU: no significant change across ${span} (${changeText})${dominatorText || sameCost}${versionText}` }
    }
    return { ...base, status: "ACTIVE", trend: "declining", reason: `ACTIVE: declining beyond noise across ${span} (${changeText})${dominatorText}${versionText}` }
  })
}

const latestOf = (p: Point) => ({
  scanId: p.scanId,
  ...(p.agentVersion === undefined ? {} : { agentVersion: p.agentVersion }),
  quality: p.quality,
  costUsd: p.costUsd
})

const versionsOf = (points: ReadonlyArray<Point>): Array<string> => {
  const out: Array<string> = []
  for (const p of points) if (p.version !== undefined && !out.includes(p.version)) out.push(p.version)
  return out
}
