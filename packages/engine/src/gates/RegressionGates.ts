/** Agent regression (per agent) and dimension regression (per rubric or scoring dimension). */
import { check, comparable, type Gate, pct, weightedMean } from "./Gate.ts"
import type { VerdictInput } from "./VerdictInput.ts"

const perKeyDeltas = (input: VerdictInput, pick: (m: VerdictInput["stimuli"][number]["baseline"]) => Readonly<Record<string, number>> | undefined) => {
  const keys = new Set<string>()
  for (const s of comparable(input)) {
    for (const k of Object.keys(pick(s.baseline) ?? {})) keys.add(k)
  }
  return [...keys].sort().map((key) => {
    const rows = comparable(input).filter((s) => pick(s.baseline)?.[key] !== undefined && pick(s.candidate)?.[key] !== undefined)
    const delta = weightedMean(
      rows.map((s) => pick(s.candidate)![key]! - pick(s.baseline)![key]!),
      rows.map((s) => s.weight)
    )
    return { key, delta, n: rows.length }
  })
}

const regressionGate = (
  gate: string,
  label: string,
  pick: (m: VerdictInput["stimuli"][number]["baseline"]) => Readonly<Record<string, number>> | undefined,
  threshold: (input: VerdictInput) => number
): Gate["run"] =>
(input) => {
  const deltas = perKeyDeltas(input, pick)
  if (deltas.length === 0) return [check(gate, label, "neutral", `no per-${label} scores`)]
  const max = threshold(input)
  return deltas.map(({ key, delta, n }) =>
    n === 0
      ? check(gate, `${label}:${key}`, "neutral", "no comparable stimuli")
      : delta < -max
      ? check(gate, `${label}:${key}`, "fail", `${key} regresses by ${pct(-delta)} (tolerance ${pct(max)})`, delta, -max)
      : check(gate, `${label}:${key}`, "pass", `${key} changes by ${pct(delta)}`, delta, -max)
  )
}

export const agentRegressionGate: Gate = {
  name: "builtin/agent_regression",
  description: "No agent of the team gets worse beyond the framework's tolerance.",
  run: regressionGate("agent_regression", "agent", (m) => m.agents, (i) => i.thresholds.maxAgentRegression)
}

export const dimensionRegressionGate: Gate = {
  name: "builtin/dimension_regression",
  description: "No scoring dimension gets worse beyond the framework's tolerance.",
  run: regressionGate("dimension_regression", "dimension", (m) => m.dimensions, (i) => i.thresholds.maxDimensionRegression)
}
