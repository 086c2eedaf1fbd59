/**
 * Consistency across epochs (pass^k): with k > 1 runs per stimulus, the share of stimuli whose
 * every run passes (`passThreshold`, the framework's; 0.5 when the input has none). The candidate
 * must not lower pass^k beyond `maxConsistencyRegression`: the per-stimulus paired difference of
 * "passes every run" gets a bootstrap standard error (the statistics core), and the gate fails only
 * when the drop is significant at α (one-sided) AND beyond the tolerance — the same rule as the
 * regression gates. With one run per stimulus there is nothing to read: neutral, saying why.
 */
import { Result } from "effect"
import { bootstrapCI } from "../stats/BootstrapCI.ts"
import { check, type Gate, pct, pWorse, share } from "./Gate.ts"
import { judgedSubset, subsetRows } from "./QualityGates.ts"
import type { GateArm } from "./VerdictInput.ts"

const passesEvery = (arm: GateArm, threshold: number): number => (arm.runs.length > 0 && arm.runs.every((r) => r >= threshold) ? 1 : 0)

export const consistencyGate: Gate = {
  name: "builtin/consistency",
  description: "With several epochs, the candidate does not significantly lower pass^k (the share of stimuli passing in every run) beyond the framework's tolerance.",
  run: (input) => {
    if (input.noCandidate) return [check("consistency", "pass_k", "neutral", "no candidate change")]
    const rows = subsetRows(input, judgedSubset(input, "all").subset)
    const k = rows.length === 0 ? 0 : Math.min(...rows.map((s) => Math.min(s.baseline.runs.length, s.candidate.runs.length)))
    if (k <= 1) return [check("consistency", "pass_k", "neutral", "one run per stimulus: consistency (pass^k) needs epochs > 1")]
    const threshold = input.passThreshold ?? 0.5
    const tolerance = input.thresholds.maxConsistencyRegression
    const alpha = input.thresholds.alpha
    const b = rows.map((s) => passesEvery(s.baseline, threshold))
    const c = rows.map((s) => passesEvery(s.candidate, threshold))
    const result = bootstrapCI({ statistic: "mean_diff_paired", x: b, y: c, level: 1 - alpha, method: "percentile", resamples: input.resamples, seed: input.seed })
    if (Result.isFailure(result)) return [check("consistency", "pass_k", "neutral", `no interval: ${result.failure.message}`)]
    const r = result.success
    const p = pWorse(r)
    const before = b.reduce((s, x) => s + x, 0) / b.length
    const after = c.reduce((s, x) => s + x, 0) / c.length
    const text = `pass^${k} ${share(before)} → ${share(after)} (${pct(r.estimate)} [${pct(r.low)}, ${pct(r.high)}], one-sided p ${r.estimate < 0 ? p.toFixed(4) : "—"}) on ${rows.length} stimuli`
    if (p < alpha && r.estimate < -tolerance) {
      return [check("consistency", "pass_k", "fail", `the candidate passes every run less often: ${text}; beyond the ${pct(tolerance)} tolerance and significant at α ${alpha}`, r.estimate, -tolerance)]
    }
    return [check("consistency", "pass_k", "pass", `${text}; ${r.estimate >= 0 ? "no loss of consistency" : `not a significant loss beyond ${pct(tolerance)}`}`, r.estimate, -tolerance)]
  }
}
