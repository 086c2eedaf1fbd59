/**
 * The framework's hard constraints (`framework.hardConstraints`), enforced on the candidate: one
 * check per constraint, failed when the candidate's measure violates it, neutral when the measure
 * is absent (a file verdict without costs, say). Owns the measures; not the constraints' schema
 * (contracts/EvaluationFramework.ts).
 */
import type { HardConstraint } from "../contracts/index.ts"
import { check, comparable, type Gate, pct, weightedMean } from "./Gate.ts"
import type { VerdictInput } from "./VerdictInput.ts"

export interface ConstraintMeasure {
  readonly value: number
  /** How it was measured, for the check's reason. */
  readonly basis: string
}

/** The nearest-rank p-quantile of a non-empty list. */
const quantile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!
}

/**
 * The candidate's measure of one constraint's metric, or undefined when the input does not carry
 * it. Cost is the mean per stimulus; latency the nearest-rank 95th percentile over stimuli; the
 * parse failure rate is over every stimulus whose run status is known; the world-model score is
 * the stimulus-weighted mean. Infrastructure failures are left out of cost, latency and score.
 */
export const measureConstraint = (input: VerdictInput, metric: HardConstraint["metric"]): ConstraintMeasure | undefined => {
  const rows = comparable(input)
  switch (metric) {
    case "cost_usd_per_stimulus": {
      const costs = rows.flatMap((s) => (s.candidate.costUsd === undefined ? [] : [s.candidate.costUsd]))
      return costs.length === 0 ? undefined : { value: costs.reduce((a, b) => a + b, 0) / costs.length, basis: `mean over ${costs.length} stimuli` }
    }
    case "latency_ms_p95": {
      const latencies = rows.flatMap((s) => (s.candidate.latencyMs === undefined ? [] : [s.candidate.latencyMs]))
      return latencies.length === 0 ? undefined : { value: quantile(latencies, 0.95), basis: `p95 over ${latencies.length} stimuli` }
    }
    case "parse_failure_rate": {
      const known = input.stimuli.filter((s) => s.candidate.status !== undefined)
      return known.length === 0
        ? undefined
        : { value: known.filter((s) => s.candidate.status === "parse_failure").length / known.length, basis: `over ${known.length} stimuli` }
    }
    case "world_model_score": {
      const scored = rows.filter((s) => s.candidate.worldModel !== undefined)
      return scored.length === 0
        ? undefined
        : { value: weightedMean(scored.map((s) => s.candidate.worldModel!), scored.map((s) => s.weight)), basis: `weighted mean over ${scored.length} stimuli` }
    }
  }
}

const format = (metric: HardConstraint["metric"], value: number): string => {
  switch (metric) {
    case "cost_usd_per_stimulus":
      return `$${+value.toPrecision(4)}`
    case "latency_ms_p95":
      return `${+value.toFixed(1)} ms`
    case "parse_failure_rate":
    case "world_model_score":
      return pct(value)
  }
}

export const hardConstraintsGate: Gate = {
  name: "builtin/hard_constraints",
  description: "The candidate meets every hard constraint of the framework (cost per stimulus, p95 latency, parse failure rate, world-model score).",
  run: (input) => {
    const constraints = input.hardConstraints ?? []
    if (constraints.length === 0) return [check("hard_constraints", "constraints", "neutral", "the framework sets no hard constraints")]
    return constraints.map((constraint) => {
      const name = `${constraint.metric} ${constraint.op} ${constraint.value}`
      const limit = format(constraint.metric, constraint.value)
      if (input.noCandidate) return check("hard_constraints", name, "neutral", "no candidate change", undefined, constraint.value)
      const measured = measureConstraint(input, constraint.metric)
      if (measured === undefined) return check("hard_constraints", name, "neutral", `absent: ${constraint.metric} is not measured on the candidate`, undefined, constraint.value)
      const met = constraint.op === "<=" ? measured.value <= constraint.value : measured.value >= constraint.value
      const text = `candidate ${constraint.metric} ${format(constraint.metric, measured.value)} (${measured.basis})`
      return met
        ? check("hard_constraints", name, "pass", `${text} meets ${constraint.op} ${limit}`, measured.value, constraint.value)
        : check("hard_constraints", name, "fail", `${text} violates ${constraint.op} ${limit}`, measured.value, constraint.value)
    })
  }
}
