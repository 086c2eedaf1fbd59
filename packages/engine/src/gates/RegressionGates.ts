/**
 * Agent regression and dimension regression: one family of paired tests, so that watching more
 * metrics does not make a real improvement harder to ship.
 *
 * Every watched metric — each agent's score, and each scoring dimension per authority
 * (`world_model:<id>` is ground truth, `rubric:<id>` the judge's) — gets the paired difference
 * candidate − baseline on the stimuli both arms scored (the subset the bootstrap CI gate judges),
 * its interval and standard error from the statistics core's bootstrap, and a one-sided p-value for
 * "the candidate is worse" (z = estimate / bootstrap SE). The p-values of the whole family, both
 * gates together, are adjusted with Holm's step-down procedure, which controls the family-wise
 * error at the framework's α.
 *
 * The rule: a metric blocks (fail) only when it is significantly below zero after the adjustment
 * AND its estimate is beyond the framework's tolerance (maxAgentRegression, maxDimensionRegression).
 * A metric that did not move passes with probability ≥ 1 − α for the family however many are
 * watched; a regression beyond the tolerance that the data cannot tell from noise is reported in
 * the reason but does not block. `npm run bench -- verdict` measures both error kinds.
 */
import { Result } from "effect"
import { bootstrapCI } from "../stats/BootstrapCI.ts"
import { check, type Gate, pct, pWorse } from "./Gate.ts"
import type { GateCheck } from "../contracts/index.ts"
import { judgedSubset, subsetRows } from "./QualityGates.ts"
import type { GateArm, VerdictInput } from "./VerdictInput.ts"

export type RegressionKind = "agent" | "dimension"

export interface WatchedMetric {
  readonly kind: RegressionKind
  /** `intake`, `world_model:filing_status`, `rubric:clarity`. */
  readonly key: string
  readonly n: number
  readonly estimate: number
  readonly low: number
  readonly high: number
  /** One-sided p-value for "the candidate is worse", before adjustment. */
  readonly p: number
  /** Holm-adjusted p-value over the whole family. */
  readonly adjustedP: number
  readonly tolerance: number
  readonly blocks: boolean
}

export interface RegressionFamily {
  readonly metrics: ReadonlyArray<WatchedMetric>
  readonly where: string
}

const sources: ReadonlyArray<{ readonly kind: RegressionKind; readonly prefix: string; readonly pick: (arm: GateArm) => Readonly<Record<string, number>> | undefined }> = [
  { kind: "agent", prefix: "", pick: (arm) => arm.agents },
  { kind: "dimension", prefix: "world_model:", pick: (arm) => arm.worldDimensions },
  { kind: "dimension", prefix: "rubric:", pick: (arm) => arm.rubricDimensions }
]

/** Holm's step-down adjustment: adjusted p of the i-th smallest is max over j ≤ i of (m − j + 1) p_(j), capped at 1. */
export const holmAdjust = (pValues: ReadonlyArray<number>): ReadonlyArray<number> => {
  const m = pValues.length
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const adjusted = new Array<number>(m)
  let running = 0
  for (const [rank, { p, i }] of order.entries()) {
    running = Math.max(running, Math.min(1, (m - rank) * p))
    adjusted[i] = running
  }
  return adjusted
}

const computeFamily = (input: VerdictInput): RegressionFamily => {
  const judged = judgedSubset(input, "all")
  const rows = subsetRows(input, judged.subset)
  const alpha = input.thresholds.alpha
  const raw: Array<Omit<WatchedMetric, "adjustedP" | "blocks">> = []
  for (const source of sources) {
    const keys = new Set<string>()
    for (const s of rows) for (const k of Object.keys(source.pick(s.baseline) ?? {})) keys.add(k)
    const tolerance = source.kind === "agent" ? input.thresholds.maxAgentRegression : input.thresholds.maxDimensionRegression
    for (const key of [...keys].sort()) {
      const both = rows.filter((s) => source.pick(s.baseline)?.[key] !== undefined && source.pick(s.candidate)?.[key] !== undefined)
      if (both.length < 2) continue
      const diffs = both.map((s) => source.pick(s.candidate)![key]! - source.pick(s.baseline)![key]!)
      const uniform = both.every((s) => s.weight === both[0]!.weight)
      const common = { level: 1 - alpha, method: "percentile" as const, resamples: input.resamples, seed: input.seed }
      const result = uniform
        ? bootstrapCI({ statistic: "mean", x: diffs, ...common })
        : bootstrapCI({ statistic: "weighted_mean", x: diffs, weights: both.map((s) => s.weight), ...common })
      if (Result.isFailure(result)) continue
      const r = result.success
      const p = pWorse(r)
      raw.push({ kind: source.kind, key: `${source.prefix}${key}`, n: both.length, estimate: r.estimate, low: r.low, high: r.high, p, tolerance })
    }
  }
  const adjusted = holmAdjust(raw.map((m) => m.p))
  return {
    where: judged.where,
    metrics: raw.map((m, i) => ({ ...m, adjustedP: adjusted[i]!, blocks: adjusted[i]! < alpha && m.estimate < -m.tolerance }))
  }
}

const memo = new WeakMap<VerdictInput, RegressionFamily>()

/** The family of watched metrics of a verdict input (memoized: both gates read one computation). */
export const regressionFamily = (input: VerdictInput): RegressionFamily => {
  let family = memo.get(input)
  if (family === undefined) {
    family = computeFamily(input)
    memo.set(input, family)
  }
  return family
}

const formatP = (p: number) => (p < 0.0001 ? "< 0.0001" : p.toFixed(4))

const regressionGate = (gate: string, kind: RegressionKind): Gate["run"] => (input) => {
  const family = regressionFamily(input)
  const mine = family.metrics.filter((m) => m.kind === kind)
  if (mine.length === 0) return [check(gate, kind, "neutral", `no per-${kind} scores on two or more comparable stimuli`)]
  const alpha = input.thresholds.alpha
  const size = family.metrics.length
  return mine.map((m): GateCheck => ({ ...metricCheck(m), interval: { estimate: m.estimate, low: m.low, high: m.high } }))

  function metricCheck(m: WatchedMetric): GateCheck {
    const what = `${m.key} changes by ${pct(m.estimate)} [${pct(m.low)}, ${pct(m.high)}] on ${m.n} stimuli`
    const test = `Holm-adjusted p ${formatP(m.adjustedP)} over ${size} watched metric${size === 1 ? "" : "s"}`
    if (m.blocks) {
      return check(gate, `${kind}:${m.key}`, "fail", `${m.key} regresses by ${pct(-m.estimate)} [${pct(m.low)}, ${pct(m.high)}]: beyond the ${pct(m.tolerance)} tolerance and significant (${test} < α ${alpha})`, m.estimate, -m.tolerance)
    }
    const why = m.estimate < -m.tolerance
      ? `beyond the ${pct(m.tolerance)} tolerance but not significant (${test} ≥ α ${alpha}): not blocking`
      : m.adjustedP < alpha
      ? `significantly lower but within the ${pct(m.tolerance)} tolerance (${test})`
      : m.estimate >= 0
      ? `no regression (${test})`
      : `within the ${pct(m.tolerance)} tolerance (${test})`
    return check(gate, `${kind}:${m.key}`, "pass", `${what}; ${why}`, m.estimate, -m.tolerance)
  }
}

export const agentRegressionGate: Gate = {
  name: "builtin/agent_regression",
  description: "No agent of the team is significantly worse beyond the framework's tolerance (paired bootstrap, Holm-adjusted over every watched metric).",
  run: regressionGate("agent_regression", "agent")
}

export const dimensionRegressionGate: Gate = {
  name: "builtin/dimension_regression",
  description: "No scoring dimension, of either authority, is significantly worse beyond the framework's tolerance (paired bootstrap, Holm-adjusted over every watched metric).",
  run: regressionGate("dimension_regression", "dimension")
}
