/**
 * The quality gates: delta threshold, bootstrap CI (paired interval on the blended delta, from the
 * statistics core), holdout generalization gap (synthetic holdout only), and the sanity downgrade.
 */
import { Result } from "effect"
import { bootstrapCI } from "../stats/BootstrapCI.ts"
import { check, comparable, type Gate, pct } from "./Gate.ts"
import type { VerdictInput } from "./VerdictInput.ts"

export interface PairedDelta {
  readonly estimate: number
  readonly low: number
  readonly high: number
  readonly n: number
  readonly degenerate: boolean
}

/**
 * The paired delta (candidate − baseline) of the blended score with its bootstrap interval at
 * level 1 − α. Uses the cluster bootstrap when stimuli carry groups, and resamples stimuli, never
 * runs (epochs are averaged per stimulus first).
 */
export const pairedDelta = (input: VerdictInput, filter: (s: VerdictInput["stimuli"][number]) => boolean = () => true): PairedDelta | undefined => {
  const rows = comparable(input).filter(filter)
  if (rows.length === 0) return undefined
  const x = rows.map((s) => s.baseline.score)
  const y = rows.map((s) => s.candidate.score)
  const groups = rows.every((s) => s.group !== undefined) && new Set(rows.map((s) => s.group)).size > 1
    ? rows.map((s) => s.group!)
    : undefined
  const result = bootstrapCI({
    statistic: "mean_diff_paired",
    x,
    y,
    groups,
    level: 1 - input.thresholds.alpha,
    method: "bca",
    resamples: input.resamples,
    seed: input.seed
  })
  if (Result.isFailure(result)) return undefined
  const r = result.success
  return { estimate: r.estimate, low: r.low, high: r.high, n: rows.length, degenerate: r.degenerate }
}

export const deltaThresholdGate: Gate = {
  name: "builtin/delta_threshold",
  description: "The blended-score delta reaches the framework's minimum worth shipping.",
  run: (input) => {
    const d = pairedDelta(input, (s) => !s.holdout)
    const min = input.thresholds.minDelta
    if (d === undefined) return [check("delta_threshold", "blended_delta", "neutral", "no comparable stimuli")]
    if (input.noCandidate) {
      return [check("delta_threshold", "blended_delta", "neutral", "no candidate change: nothing to compare", d.estimate, min)]
    }
    if (d.estimate >= min && d.estimate > 0) {
      return [check("delta_threshold", "blended_delta", "pass", `delta ${pct(d.estimate)} ≥ minimum ${pct(min)}`, d.estimate, min)]
    }
    if (d.estimate > 0) {
      return [check("delta_threshold", "blended_delta", "caution", `delta ${pct(d.estimate)} is below the minimum ${pct(min)}`, d.estimate, min)]
    }
    return [check("delta_threshold", "blended_delta", "fail", `delta ${pct(d.estimate)} is not an improvement`, d.estimate, min)]
  }
}

export const bootstrapCiGate: Gate = {
  name: "builtin/bootstrap_ci",
  description: "The paired bootstrap interval of the blended delta excludes zero.",
  run: (input) => {
    const level = 1 - input.thresholds.alpha
    const d = pairedDelta(input)
    if (d === undefined) return [check("bootstrap_ci", "paired_interval", "neutral", "no comparable stimuli")]
    const text = `${(level * 100).toFixed(0)}% interval [${pct(d.low)}, ${pct(d.high)}] on ${d.n} stimuli`
    if (input.noCandidate) return [check("bootstrap_ci", "paired_interval", "neutral", `no candidate change; ${text}`, d.estimate)]
    if (d.degenerate && d.estimate === 0) return [check("bootstrap_ci", "paired_interval", "caution", `candidate and baseline score identically; ${text}`, d.estimate)]
    if (d.low > 0) return [check("bootstrap_ci", "paired_interval", "pass", `improvement is significant: ${text}`, d.low, 0)]
    if (d.high < 0) return [check("bootstrap_ci", "paired_interval", "fail", `significant regression: ${text}`, d.high, 0)]
    return [check("bootstrap_ci", "paired_interval", "caution", `interval includes zero: ${text}`, d.estimate, 0)]
  }
}

export const holdoutGapGate: Gate = {
  name: "builtin/holdout_generalization_gap",
  description: "The improvement on the working set carries over to the synthetic holdout.",
  run: (input) => {
    const holdout = (s: VerdictInput["stimuli"][number]) => s.holdout && s.source === "synthetic"
    const working = pairedDelta(input, (s) => !s.holdout && s.source === "synthetic")
    const held = pairedDelta(input, holdout)
    if (input.noCandidate) return [check("holdout_generalization_gap", "gap", "neutral", "no candidate change")]
    if (working === undefined || held === undefined) {
      return [check("holdout_generalization_gap", "gap", "neutral", "no synthetic holdout stimuli")]
    }
    const gap = working.estimate - held.estimate
    const max = input.thresholds.maxHoldoutGap
    const text = `working ${pct(working.estimate)}, holdout ${pct(held.estimate)}, gap ${pct(gap)}`
    if (held.estimate < 0 && working.estimate > 0) {
      return [check("holdout_generalization_gap", "gap", "fail", `improvement does not generalize: ${text}`, gap, max)]
    }
    if (gap > max) return [check("holdout_generalization_gap", "gap", "caution", `gap above ${pct(max)}: ${text}`, gap, max)]
    return [check("holdout_generalization_gap", "gap", "pass", `within ${pct(max)}: ${text}`, gap, max)]
  }
}

export const sanityDowngradeGate: Gate = {
  name: "builtin/sanity_downgrade",
  description: "Too-good-to-be-true deltas, high infrastructure or parse failure rates, or too few samples turn go into caution.",
  run: (input) => {
    const t = input.thresholds
    const n = input.stimuli.length
    const rate = (pick: "baseline" | "candidate", status: "infra_failure" | "parse_failure") =>
      n === 0 ? 0 : input.stimuli.filter((s) => s[pick].status === status).length / n
    const infra = Math.max(rate("baseline", "infra_failure"), rate("candidate", "infra_failure"))
    const parse = Math.max(rate("baseline", "parse_failure"), rate("candidate", "parse_failure"))
    const d = pairedDelta(input)
    const checks = [
      n < t.minSamples
        ? check("sanity_downgrade", "sample_size", "caution", `${n} stimuli is fewer than ${t.minSamples}`, n, t.minSamples)
        : check("sanity_downgrade", "sample_size", "pass", `${n} stimuli`, n, t.minSamples),
      infra > t.maxInfraFailureRate
        ? check("sanity_downgrade", "infra_failure_rate", "caution", `infrastructure failures on ${pct(infra)} of stimuli`, infra, t.maxInfraFailureRate)
        : check("sanity_downgrade", "infra_failure_rate", "pass", `infrastructure failures ${pct(infra)}`, infra, t.maxInfraFailureRate),
      parse > t.maxParseFailureRate
        ? check("sanity_downgrade", "parse_failure_rate", "caution", `parse failures on ${pct(parse)} of stimuli`, parse, t.maxParseFailureRate)
        : check("sanity_downgrade", "parse_failure_rate", "pass", `parse failures ${pct(parse)}`, parse, t.maxParseFailureRate),
      d !== undefined && d.estimate > t.sanityMaxDelta
        ? check("sanity_downgrade", "plausible_delta", "caution", `delta ${pct(d.estimate)} is too good to be true (> ${pct(t.sanityMaxDelta)})`, d.estimate, t.sanityMaxDelta)
        : check("sanity_downgrade", "plausible_delta", d === undefined ? "neutral" : "pass", d === undefined ? "no delta" : `delta ${pct(d.estimate)} is plausible`, d?.estimate, t.sanityMaxDelta)
    ]
    if (input.budgetExhausted) {
      checks.push(check("sanity_downgrade", "budget", "caution", "the scan's budget ran out before optimization finished"))
    }
    return checks
  }
}
