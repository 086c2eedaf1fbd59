/**
 * Output similarity (a change that changes nothing, or everything, is flagged), Pareto acceptance
 * over the framework's optimization vectors, and the convergence gate (conformance anchors).
 */
import { check, comparable, type Gate, pct, weightedMean } from "./Gate.ts"
import type { OptimizationVector } from "../contracts/index.ts"
import type { GateArm as ArmMeasurement } from "./VerdictInput.ts"

const share = (x: number) => `${(x * 100).toFixed(1)}%`

export const outputSimilarityGate: Gate = {
  name: "builtin/output_similarity",
  description: "Flags a change that changes nothing or changes everything.",
  run: (input) => {
    const rows = comparable(input).filter((s) => s.baseline.output !== undefined && s.candidate.output !== undefined)
    if (rows.length === 0) return [check("output_similarity", "changed_share", "neutral", "no outputs to compare")]
    if (input.noCandidate) return [check("output_similarity", "changed_share", "neutral", "no candidate change")]
    const changed = rows.filter((s) => s.baseline.output !== s.candidate.output).length / rows.length
    const t = input.thresholds
    if (changed < t.minChangedShare) {
      return [check("output_similarity", "changed_share", "caution", `only ${share(changed)} of outputs changed: the change does almost nothing`, changed, t.minChangedShare)]
    }
    if (changed > t.maxChangedShare) {
      return [check("output_similarity", "changed_share", "caution", `${share(changed)} of outputs changed: the change rewrites almost everything`, changed, t.maxChangedShare)]
    }
    return [check("output_similarity", "changed_share", "pass", `${share(changed)} of outputs changed`, changed)]
  }
}

type Axis = { readonly name: string; readonly direction: "maximize" | "minimize"; readonly read: (m: ArmMeasurement) => number | undefined }

const meanOf = (values: ReadonlyArray<number | undefined>): number | undefined => {
  const present = values.filter((v): v is number => v !== undefined)
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0) / present.length
}

/**
 * Where each kind of vector is read on one arm of one stimulus. Quality is the blended score (or
 * the mean of the listed agents' scores when the vector names agents); safety and compliance read
 * the world model's dimension of that name, else the judge's, else the world-model score (the
 * compliance authority); custom vectors read the world model's dimension named like the vector,
 * else the judge's. Cost and latency are per stimulus, for the whole team.
 */
export const axisFor = (vector: OptimizationVector): Axis => {
  const { name, direction } = vector
  switch (vector.kind) {
    case "quality": {
      const agents = vector.agents
      return agents === undefined || agents.length === 0
        ? { name, direction, read: (m) => m.score }
        : { name, direction, read: (m) => meanOf(agents.map((a) => m.agents?.[a])) }
    }
    case "cost":
      return { name, direction, read: (m) => m.costUsd }
    case "latency":
      return { name, direction, read: (m) => m.latencyMs }
    case "safety":
    case "compliance":
      return { name, direction, read: (m) => m.worldDimensions?.[name] ?? m.rubricDimensions?.[name] ?? m.worldModel }
    case "custom":
      return { name, direction, read: (m) => m.worldDimensions?.[name] ?? m.rubricDimensions?.[name] }
  }
}

export const DEFAULT_VECTORS: ReadonlyArray<OptimizationVector> = [
  { name: "quality", kind: "quality", direction: "maximize", weight: 1 },
  { name: "cost", kind: "cost", direction: "minimize", weight: 1 },
  { name: "latency", kind: "latency", direction: "minimize", weight: 1 }
]

/**
 * Pareto acceptance: the candidate must not be dominated by the baseline on the framework's
 * optimization vectors (quality, cost, latency when none are configured). A vector with weight 0
 * is not an objective and is skipped. Scores (quality, safety, compliance, custom) are compared
 * with an absolute tolerance of 0.5 pts, cost and latency with a relative one of 2 %.
 * Dominated → fail; dominates → pass; a trade-off or no difference → neutral.
 */
export const paretoGate: Gate = {
  name: "builtin/pareto",
  description: "The candidate is not dominated by the baseline on the framework's optimization vectors (quality, cost, latency, safety, compliance, custom).",
  run: (input) => {
    if (input.noCandidate) return [check("pareto", "front", "neutral", "no candidate change")]
    const vectors = (input.vectors.length > 0 ? input.vectors : DEFAULT_VECTORS).filter((v) => v.weight > 0)
    const rows = comparable(input)
    const compared: Array<{ name: string; better: boolean; worse: boolean; delta: number }> = []
    for (const v of vectors) {
      const axis = axisFor(v)
      const both = rows.filter((s) => axis.read(s.baseline) !== undefined && axis.read(s.candidate) !== undefined)
      if (both.length === 0) continue
      const b = weightedMean(both.map((s) => axis.read(s.baseline)!), both.map((s) => s.weight))
      const c = weightedMean(both.map((s) => axis.read(s.candidate)!), both.map((s) => s.weight))
      const delta = c - b
      const relative = v.kind === "cost" || v.kind === "latency"
      const tolerance = relative ? 0.02 * Math.max(Math.abs(b), 1e-12) : 0.005
      const better = axis.direction === "maximize" ? delta > tolerance : delta < -tolerance
      const worse = axis.direction === "maximize" ? delta < -tolerance : delta > tolerance
      compared.push({ name: v.name, better, worse, delta })
    }
    if (compared.length < 2) return [check("pareto", "front", "neutral", `fewer than two vectors measured (${compared.map((c) => c.name).join(", ") || "none"})`)]
    const summary = compared.map((c) => `${c.name} ${c.better ? "better" : c.worse ? "worse" : "same"}`).join(", ")
    if (compared.some((c) => c.worse) && !compared.some((c) => c.better)) {
      return [check("pareto", "front", "fail", `dominated by the baseline: ${summary}`)]
    }
    if (compared.some((c) => c.worse)) return [check("pareto", "front", "neutral", `a trade-off on the front: ${summary}`)]
    if (compared.some((c) => c.better)) return [check("pareto", "front", "pass", `dominates the baseline: ${summary}`)]
    return [check("pareto", "front", "neutral", `no difference: ${summary}`)]
  }
}

/**
 * The (weighted) mean over conformance anchors of |rubric − world model| on the candidate, the
 * same measure as `CompositeScore.convergenceDelta`.
 */
export const convergenceGate: Gate = {
  name: "builtin/convergence",
  description: "On conformance samples, the rubric and the world model agree (absent without conformance samples).",
  run: (input) => {
    const anchors = input.stimuli.filter((s) => s.source === "conformance" && s.candidate.rubric !== undefined && s.candidate.worldModel !== undefined)
    if (anchors.length === 0) {
      return [check("convergence", "rubric_vs_world_model", "neutral", "absent: no conformance samples in this scan")]
    }
    // The mean per-anchor disagreement: disagreements in opposite directions must not cancel.
    const delta = weightedMean(anchors.map((s) => Math.abs(s.candidate.rubric! - s.candidate.worldModel!)), anchors.map((s) => s.weight))
    const max = input.thresholds.maxConvergenceDelta
    return [
      delta > max
        ? check("convergence", "rubric_vs_world_model", "caution", `rubric and world model diverge by ${pct(delta)} on ${anchors.length} conformance samples`, delta, max)
        : check("convergence", "rubric_vs_world_model", "pass", `rubric and world model within ${pct(delta)} on average over ${anchors.length} conformance samples`, delta, max)
    ]
  }
}
