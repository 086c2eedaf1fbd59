/**
 * The quality gates: delta threshold, bootstrap CI (paired interval on the blended delta, from the
 * statistics core), holdout generalization gap (synthetic holdout only), and the sanity downgrade.
 * `pairedDelta` is the one place the blended delta and its interval are computed; it is memoized
 * per input so the gates (and the verdict's headline delta) share one bootstrap per subset.
 */
import { Result } from "effect"
import { bootstrapCI } from "../stats/BootstrapCI.ts"
import { check, comparable, type Gate, pct, share } from "./Gate.ts"
import type { PairedStimulus, VerdictInput } from "./VerdictInput.ts"

export interface PairedDelta {
  readonly estimate: number
  readonly low: number
  readonly high: number
  readonly n: number
  /** Distinct groups resampled (cluster bootstrap); absent when stimuli were resampled one by one. */
  readonly clusters?: number
  readonly degenerate: boolean
}

/**
 * Fewer groups than this cannot carry a cluster bootstrap: with a handful of clusters the
 * resampled means take a few values and the interval is far too narrow.
 */
export const MIN_CLUSTERS = 10

/** The stimulus subsets a gate reads. Conformance samples are convergence anchors, never holdout. */
export type StimulusSubset = "all" | "working" | "synthetic_working" | "synthetic_holdout"

const inSubset: Record<StimulusSubset, (s: PairedStimulus) => boolean> = {
  all: () => true,
  working: (s) => !s.holdout,
  synthetic_working: (s) => !s.holdout && s.source === "synthetic",
  synthetic_holdout: (s) => s.holdout && s.source === "synthetic"
}

/** The comparable stimuli of a subset (both arms scored; infrastructure and judge failures left out). */
export const subsetRows = (input: VerdictInput, subset: StimulusSubset): ReadonlyArray<PairedStimulus> => comparable(input).filter(inSubset[subset])

const computePairedDelta = (input: VerdictInput, subset: StimulusSubset): PairedDelta | undefined => {
  const all = comparable(input)
  const rows = all.filter(inSubset[subset])
  if (rows.length === 0) return undefined
  // A subset that keeps every comparable stimulus is the whole set: one bootstrap serves both.
  if (subset !== "all" && rows.length === all.length) return pairedDelta(input, "all")
  const x = rows.map((s) => s.baseline.score)
  const y = rows.map((s) => s.candidate.score)
  // Every stimulus grouped: a cluster bootstrap, even over a single group (one cluster: the
  // interval is degenerate and the bootstrap-CI gate cautions, never treating it as ungrouped).
  const grouped = rows.every((s) => s.group !== undefined)
  const clusters = grouped ? new Set(rows.map((s) => s.group)).size : 0
  const groups = grouped ? rows.map((s) => s.group!) : undefined
  const uniformWeights = rows.every((s) => s.weight === rows[0]!.weight)
  const common = {
    groups,
    level: 1 - input.thresholds.alpha,
    method: "bca" as const,
    resamples: input.resamples,
    seed: input.seed
  }
  // Stimuli are resampled (whole groups when grouped); epochs were averaged into `score` first,
  // so runs are never resampled. Unequal stimulus weights: the weighted mean of the differences.
  const result = uniformWeights
    ? bootstrapCI({ statistic: "mean_diff_paired", x, y, ...common })
    : bootstrapCI({ statistic: "weighted_mean", x: rows.map((_, i) => y[i]! - x[i]!), weights: rows.map((s) => s.weight), ...common })
  if (Result.isFailure(result)) return undefined
  const r = result.success
  return {
    estimate: r.estimate,
    low: r.low,
    high: r.high,
    n: rows.length,
    ...(groups !== undefined ? { clusters } : {}),
    degenerate: r.degenerate
  }
}

const memo = new WeakMap<VerdictInput, Map<StimulusSubset, PairedDelta | undefined>>()

/**
 * The paired delta (candidate − baseline) of the blended score on a subset of the stimuli, with its
 * two-sided bootstrap interval at level 1 − α (the framework's α). The cluster bootstrap is used
 * when every stimulus carries a group (one shared group included: one cluster). Undefined when no stimulus of the subset is comparable.
 */
export const pairedDelta = (input: VerdictInput, subset: StimulusSubset = "all"): PairedDelta | undefined => {
  let cached = memo.get(input)
  if (cached === undefined) {
    cached = new Map()
    memo.set(input, cached)
  }
  if (!cached.has(subset)) cached.set(subset, computePairedDelta(input, subset))
  return cached.get(subset)
}

/**
 * Where the delta threshold and bootstrap CI gates judge the candidate. A candidate the tournament
 * selected on the working set is judged on the synthetic holdout (unselected) stimuli only: the
 * best of K working-set deltas is biased upward, and testing it on the data that chose it inflates
 * the false-go rate with K (≈ 12 % for 24 no-effect candidates). Runs we did not select (a
 * `spectral verdict` file) are judged as given: the delta on the working set, the interval on all.
 * `tooFew` is set when a selected candidate's holdout has fewer than minSamples / 2 comparable
 * stimuli: too few to judge it on, a caution (never go).
 */
export const judgedSubset = (input: VerdictInput, unselected: StimulusSubset): {
  readonly subset: StimulusSubset
  readonly where: string
  readonly tooFew?: string
} => {
  if (input.selectedOnWorkingSet !== true) return { subset: unselected, where: unselected === "working" ? "on the working set" : "on all stimuli" }
  const n = pairedDelta(input, "synthetic_holdout")?.n ?? 0
  const need = input.thresholds.minSamples / 2
  const where = `on the synthetic holdout (${n} stimuli; the candidate was selected on the working set)`
  return n < need
    ? { subset: "synthetic_holdout", where, tooFew: `the candidate was selected on the working set and its synthetic holdout has ${n} comparable stimuli, fewer than ${need} (minSamples / 2): too few to judge it on` }
    : { subset: "synthetic_holdout", where }
}

export const deltaThresholdGate: Gate = {
  name: "builtin/delta_threshold",
  description: "The blended-score delta reaches the framework's minimum worth shipping, on the working set (on the synthetic holdout when the candidate was selected on the working set).",
  run: (input) => {
    const min = input.thresholds.minDelta
    if (input.noCandidate) return [check("delta_threshold", "blended_delta", "neutral", "no candidate change: nothing to compare", pairedDelta(input, "working")?.estimate, min)]
    const judged = judgedSubset(input, "working")
    const d = pairedDelta(input, judged.subset)
    if (judged.tooFew !== undefined) return [check("delta_threshold", "blended_delta", "caution", judged.tooFew, d?.estimate, min)]
    if (d === undefined) return [check("delta_threshold", "blended_delta", "neutral", "no comparable working-set stimuli")]
    if (d.estimate > 0 && d.estimate >= min) {
      return [check("delta_threshold", "blended_delta", "pass", `delta ${pct(d.estimate)} ≥ minimum ${pct(min)} ${judged.where}`, d.estimate, min)]
    }
    if (d.estimate > 0) {
      return [check("delta_threshold", "blended_delta", "caution", `delta ${pct(d.estimate)} is below the minimum ${pct(min)} ${judged.where}`, d.estimate, min)]
    }
    return [check("delta_threshold", "blended_delta", "fail", `delta ${pct(d.estimate)} is not an improvement ${judged.where}`, d.estimate, min)]
  }
}

/**
 * Go needs the lower end of the two-sided (1 − α) interval above zero: a one-sided test at α/2,
 * the decision of a two-sided paired test at α in the improving direction. Under no effect the
 * false-go rate is therefore about α/2 (≤ α by construction), and power matches a two-sided
 * paired t-test at α (bench `verdict`, test/gates/VerdictStudy.test.ts). A candidate selected on
 * the working set is tested on the synthetic holdout only (`judgedSubset`), so the selection does
 * not spend the α (the A/A study with tournament selection checks it).
 */
export const bootstrapCiGate: Gate = {
  name: "builtin/bootstrap_ci",
  description: "The paired bootstrap interval of the blended delta, at level 1 − α, lies above zero (on the synthetic holdout when the candidate was selected on the working set).",
  run: (input) => {
    const level = 1 - input.thresholds.alpha
    if (input.noCandidate) return [check("bootstrap_ci", "paired_interval", "neutral", "no candidate change")]
    const judged = judgedSubset(input, "all")
    const d = pairedDelta(input, judged.subset)
    if (judged.tooFew !== undefined) return [check("bootstrap_ci", "paired_interval", "caution", judged.tooFew, d?.n ?? 0, input.thresholds.minSamples / 2)]
    if (d === undefined) return [check("bootstrap_ci", "paired_interval", "neutral", "no comparable stimuli")]
    const unit = d.clusters === undefined ? `${d.n} stimuli` : `${d.n} stimuli in ${d.clusters} group${d.clusters === 1 ? "" : "s"}`
    const text = `${+(level * 100).toFixed(2)}% interval [${pct(d.low)}, ${pct(d.high)}] on ${unit}${input.selectedOnWorkingSet === true ? " of the synthetic holdout (the candidate was selected on the working set)" : ""}`
    if (d.n < 2) return [check("bootstrap_ci", "paired_interval", "caution", `one stimulus cannot carry an interval; ${text}`, d.estimate, 0)]
    if (d.clusters !== undefined && d.clusters < MIN_CLUSTERS) {
      const groupsText = d.clusters === 1 ? "only 1 group" : `only ${d.clusters} groups`
      return [check("bootstrap_ci", "paired_interval", "caution", `${groupsText}: too few for a cluster interval (need ${MIN_CLUSTERS}); ${text}`, d.clusters, MIN_CLUSTERS)]
    }
    if (d.degenerate && d.estimate === 0) return [check("bootstrap_ci", "paired_interval", "caution", `candidate and baseline score identically; ${text}`, d.estimate, 0)]
    if (d.low > 0) return [check("bootstrap_ci", "paired_interval", "pass", `improvement is significant: ${text}`, d.low, 0)]
    if (d.high < 0) return [check("bootstrap_ci", "paired_interval", "fail", `significant regression: ${text}`, d.high, 0)]
    return [check("bootstrap_ci", "paired_interval", "caution", `interval includes zero: ${text}`, d.low, 0)]
  }
}

/**
 * The synthetic holdout only: conformance samples are convergence anchors, never holdout. A
 * significant regression on the holdout (its interval below zero) fails; a gap between working
 * and holdout deltas above the framework's maximum is a caution (the winner may be overfit to the
 * working set it was selected on).
 */
export const holdoutGapGate: Gate = {
  name: "builtin/holdout_generalization_gap",
  description: "The improvement on the working set carries over to the synthetic holdout.",
  run: (input) => {
    if (input.noCandidate) return [check("holdout_generalization_gap", "gap", "neutral", "no candidate change")]
    const working = pairedDelta(input, "synthetic_working")
    const held = pairedDelta(input, "synthetic_holdout")
    if (held === undefined) return [check("holdout_generalization_gap", "gap", "neutral", "no synthetic holdout stimuli")]
    if (working === undefined) return [check("holdout_generalization_gap", "gap", "neutral", "no synthetic working-set stimuli")]
    const gap = working.estimate - held.estimate
    const max = input.thresholds.maxHoldoutGap
    const text = `working ${pct(working.estimate)} (${working.n}), synthetic holdout ${pct(held.estimate)} [${pct(held.low)}, ${pct(held.high)}] (${held.n}), gap ${pct(gap)}`
    if (held.n >= 2 && held.high < 0) {
      return [check("holdout_generalization_gap", "gap", "fail", `the candidate regresses on the holdout: ${text}`, gap, max)]
    }
    if (gap > max) return [check("holdout_generalization_gap", "gap", "caution", `gap above ${pct(max)}: ${text}`, gap, max)]
    return [check("holdout_generalization_gap", "gap", "pass", `gap within ${pct(max)}: ${text}`, gap, max)]
  }
}

/**
 * Cautions, which turn a go into caution and leave a no_go as it is — with one exception: when the
 * judge failed on most stimuli there is no rubric authority to blend, and the verdict fails
 * (`judge_failure_rate`) instead of passing off the world-model score alone as the result.
 */
export const JUDGE_FAILURE_FAIL_RATE = 0.5

export const sanityDowngradeGate: Gate = {
  name: "builtin/sanity_downgrade",
  description: "Too-good-to-be-true deltas, high infrastructure, parse or judge failure rates, or too few samples turn go into caution; a judge that failed on most stimuli fails the verdict.",
  run: (input) => {
    const t = input.thresholds
    const total = input.stimuli.length
    const n = comparable(input).length
    const rate = (pick: "baseline" | "candidate", status: "infra_failure" | "parse_failure" | "judge_failure") =>
      total === 0 ? 0 : input.stimuli.filter((s) => s[pick].status === status).length / total
    const infra = Math.max(rate("baseline", "infra_failure"), rate("candidate", "infra_failure"))
    const parse = Math.max(rate("baseline", "parse_failure"), rate("candidate", "parse_failure"))
    const judge = Math.max(rate("baseline", "judge_failure"), rate("candidate", "judge_failure"))
    // The plausibility of the delta is judged where the bootstrap CI judges it (the holdout for a
    // candidate the tournament selected), so the selection's optimism does not leak in.
    const d = input.noCandidate ? undefined : pairedDelta(input, judgedSubset(input, "all").subset)
    const checks = [
      n < t.minSamples
        ? check("sanity_downgrade", "sample_size", "caution", `${n} comparable stimuli is fewer than ${t.minSamples}`, n, t.minSamples)
        : check("sanity_downgrade", "sample_size", "pass", `${n} comparable stimuli`, n, t.minSamples),
      infra > t.maxInfraFailureRate
        ? check("sanity_downgrade", "infra_failure_rate", "caution", `infrastructure failures on ${share(infra)} of stimuli`, infra, t.maxInfraFailureRate)
        : check("sanity_downgrade", "infra_failure_rate", "pass", `infrastructure failures ${share(infra)}`, infra, t.maxInfraFailureRate),
      parse > t.maxParseFailureRate
        ? check("sanity_downgrade", "parse_failure_rate", "caution", `parse failures on ${share(parse)} of stimuli`, parse, t.maxParseFailureRate)
        : check("sanity_downgrade", "parse_failure_rate", "pass", `parse failures ${share(parse)}`, parse, t.maxParseFailureRate),
      judge > JUDGE_FAILURE_FAIL_RATE
        ? check("sanity_downgrade", "judge_failure_rate", "fail", `the judge failed on ${share(judge)} of stimuli: most have no rubric score, so there is no blended score to decide on`, judge, JUDGE_FAILURE_FAIL_RATE)
        : judge > t.maxJudgeFailureRate
        ? check("sanity_downgrade", "judge_failure_rate", "caution", `the judge failed on ${share(judge)} of stimuli (quarantined, above ${share(t.maxJudgeFailureRate)})`, judge, t.maxJudgeFailureRate)
        : check("sanity_downgrade", "judge_failure_rate", "pass", `judge failures ${share(judge)}`, judge, t.maxJudgeFailureRate),
      d === undefined
        ? check("sanity_downgrade", "plausible_delta", "neutral", input.noCandidate ? "no candidate change" : "no delta")
        : d.estimate > t.sanityMaxDelta
        ? check("sanity_downgrade", "plausible_delta", "caution", `delta ${pct(d.estimate)} is too good to be true (> ${pct(t.sanityMaxDelta)})`, d.estimate, t.sanityMaxDelta)
        : check("sanity_downgrade", "plausible_delta", "pass", `delta ${pct(d.estimate)} is plausible`, d.estimate, t.sanityMaxDelta)
    ]
    if (input.budgetExhausted) {
      checks.push(check("sanity_downgrade", "budget", "caution", "the scan's budget ran out before optimization finished"))
    }
    return checks
  }
}
