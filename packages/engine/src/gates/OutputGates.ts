/**
 * Output similarity (a change that changes nothing, or everything, is flagged), Pareto acceptance
 * over the framework's optimization vectors, and the convergence gate (conformance anchors).
 */
import { check, comparable, type Gate, pct, weightedMean } from "./Gate.ts"
import type { GateArm as ArmMeasurement, VerdictInput } from "./VerdictInput.ts"

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
      return [check("output_similarity", "changed_share", "caution", `only ${pct(changed)} of outputs changed: the change does almost nothing`, changed, t.minChangedShare)]
    }
    if (changed > t.maxChangedShare) {
      return [check("output_similarity", "changed_share", "caution", `${pct(changed)} of outputs changed: the change rewrites almost everything`, changed, t.maxChangedShare)]
    }
    return [check("output_similarity", "changed_share", "pass", `${pct(changed)} of outputs changed`, changed)]
  }
}

type Axis = { readonly name: string; readonly direction: "maximize" | "minimize"; readonly read: (m: ArmMeasurement) => number | undefined }

const axisFor = (kind: string, name: string, direction: "maximize" | "minimize"): Axis | undefined => {
  switch (kind) {
    case "quality":
      return { name, direction, read: (m) => m.score }
    case "cost":
      return { name, direction, read: (m) => m.costUsd }
    case "latency":
      return { name, direction, read: (m) => m.latencyMs }
    case "safety":
    case "compliance":
      return { name, direction, read: (m) => m.worldModel }
    default:
      return { name, direction, read: (m) => m.dimensions?.[name] }
  }
}

/** Pareto acceptance: the candidate must not be dominated by the baseline on the configured vectors. */
export const paretoGate: Gate = {
  name: "builtin/pareto",
  description: "The candidate is not dominated by the baseline on the framework's optimization vectors (quality, cost, latency, safety, custom).",
  run: (input) => {
    const vectors = input.vectors.length > 0
      ? input.vectors
      : [{ name: "quality", kind: "quality", direction: "maximize", weight: 1 }, { name: "cost", kind: "cost", direction: "minimize", weight: 1 }, { name: "latency", kind: "latency", direction: "minimize", weight: 1 }] as const
    if (input.noCandidate) return [check("pareto", "front", "neutral", "no candidate change")]
    const rows = comparable(input)
    const compared: Array<{ name: string; better: boolean; worse: boolean; delta: number }> = []
    for (const v of vectors) {
      const axis = axisFor(v.kind, v.name, v.direction)
      if (axis === undefined) continue
      const both = rows.filter((s) => axis.read(s.baseline) !== undefined && axis.read(s.candidate) !== undefined)
      if (both.length === 0) continue
      const b = weightedMean(both.map((s) => axis.read(s.baseline)!), both.map((s) => s.weight))
      const c = weightedMean(both.map((s) => axis.read(s.candidate)!), both.map((s) => s.weight))
      const delta = c - b
      const scale = Math.max(Math.abs(b), 1e-9)
      const tolerance = v.kind === "quality" ? 0.005 : 0.02 * scale
      const better = axis.direction === "maximize" ? delta > tolerance : delta < -tolerance
      const worse = axis.direction === "maximize" ? delta < -tolerance : delta > tolerance
      compared.push({ name: v.name, better, worse, delta })
    }
    if (compared.length < 2) return [check("pareto", "front", "neutral", "fewer than two vectors measured")]
    const summary = compared.map((c) => `${c.name} ${c.better ? "better" : c.worse ? "worse" : "same"}`).join(", ")
    if (compared.some((c) => c.worse) && !compared.some((c) => c.better)) {
      return [check("pareto", "front", "fail", `dominated by the baseline: ${summary}`)]
    }
    if (compared.some((c) => c.worse)) return [check("pareto", "front", "neutral", `a trade-off on the front: ${summary}`)]
    if (compared.some((c) => c.better)) return [check("pareto", "front", "pass", `dominates the baseline: ${summary}`)]
    return [check("pareto", "front", "neutral", `no difference: ${summary}`)]
  }
}

export const convergenceGate: Gate = {
  name: "builtin/convergence",
  description: "On conformance samples, the rubric and the world model agree (absent without conformance samples).",
  run: (input) => {
    const anchors = input.stimuli.filter((s) => s.source === "conformance" && s.candidate.rubric !== undefined && s.candidate.worldModel !== undefined)
    if (anchors.length === 0) {
      return [check("convergence", "rubric_vs_world_model", "neutral", "absent: no conformance samples in this scan")]
    }
    const delta = Math.abs(weightedMean(anchors.map((s) => s.candidate.rubric! - s.candidate.worldModel!), anchors.map((s) => s.weight)))
    const max = input.thresholds.maxConvergenceDelta
    return [
      delta > max
        ? check("convergence", "rubric_vs_world_model", "caution", `rubric and world model diverge by ${pct(delta)} on ${anchors.length} conformance samples`, delta, max)
        : check("convergence", "rubric_vs_world_model", "pass", `rubric and world model within ${pct(delta)}`, delta, max)
    ]
  }
}
