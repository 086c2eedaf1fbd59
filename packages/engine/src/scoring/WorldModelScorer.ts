/**
 * The world-model authority: "did the team produce the response the rule says it should?" It
 * compares the team's final answer with the ground truth packaged in each eval-set sample, per
 * scoring dimension, and scores agents that declare a `groundTruthKey` against the sample's
 * intermediate ground truth. Rule internals never reach it: only the sample does.
 */
import { Context, Effect, Layer } from "effect"
import type { EvalSetSample, GroundTruthValue, ScoringDimension, WorkspaceAgent } from "../contracts/index.ts"

export interface WorldModelScore {
  readonly score: number
  readonly dimensions: Readonly<Record<string, number>>
  readonly agents: Readonly<Record<string, number>>
}

const normalize = (value: unknown): unknown =>
  typeof value === "string" ? value.trim().toLowerCase().replace(/[\s-]+/g, "_") : value

const toNumber = (value: unknown): number | undefined => {
  if (typeof value === "number" && Number.isFinite(value)) return value
  if (typeof value === "string") {
    const n = Number(value.replace(/[$,\s]/g, ""))
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

export const matchesGroundTruth = (dimension: Pick<ScoringDimension, "comparison" | "tolerance">, expected: GroundTruthValue, actual: unknown): boolean => {
  switch (dimension.comparison) {
    case "exact":
      return normalize(expected) === normalize(actual)
    case "numeric_tolerance": {
      const a = toNumber(actual)
      const e = toNumber(expected)
      return a !== undefined && e !== undefined && Math.abs(a - e) <= (dimension.tolerance ?? 0)
    }
    case "set_equal": {
      if (!Array.isArray(expected) || !Array.isArray(actual)) return false
      const e = new Set(expected.map(normalize))
      const a = new Set(actual.map(normalize))
      return e.size === a.size && [...e].every((v) => a.has(v))
    }
  }
}

export const scoreAgainstWorld = (
  sample: EvalSetSample,
  finalOutput: Readonly<Record<string, unknown>> | undefined,
  agentOutputs: Readonly<Record<string, Record<string, unknown>>>,
  agents: ReadonlyArray<WorkspaceAgent>,
  finalAgentIds: ReadonlyArray<string>
): WorldModelScore => {
  const dimensions: Record<string, number> = {}
  let weighted = 0
  let totalWeight = 0
  for (const dimension of sample.dimensions) {
    const expected = sample.expected[dimension.field]
    const ok = expected !== undefined && finalOutput !== undefined &&
      matchesGroundTruth(dimension, expected, finalOutput[dimension.field])
    dimensions[dimension.id] = ok ? 1 : 0
    weighted += (ok ? 1 : 0) * dimension.weight
    totalWeight += dimension.weight
  }
  const score = totalWeight > 0 ? weighted / totalWeight : 0
  const agentScores: Record<string, number> = {}
  for (const agent of agents) {
    const key = agent.groundTruthKey
    const truth = key === undefined ? undefined : sample.intermediate[key]
    const output = agentOutputs[agent.id]
    if (truth !== undefined) {
      const fields = Object.keys(truth)
      if (fields.length === 0) continue
      const hits = output === undefined
        ? 0
        : fields.filter((field) => matchesGroundTruth({ comparison: "exact" }, truth[field]!, output[field])).length
      agentScores[agent.id] = hits / fields.length
    } else if (finalAgentIds.includes(agent.id)) {
      agentScores[agent.id] = score
    }
  }
  return { score, dimensions, agents: agentScores }
}

export class WorldModelScorer extends Context.Service<WorldModelScorer, {
  readonly score: (
    sample: EvalSetSample,
    finalOutput: Readonly<Record<string, unknown>> | undefined,
    agentOutputs: Readonly<Record<string, Record<string, unknown>>>,
    agents: ReadonlyArray<WorkspaceAgent>,
    finalAgentIds: ReadonlyArray<string>
  ) => Effect.Effect<WorldModelScore>
}>()("@spectral/engine/scoring/WorldModelScorer") {
  static readonly layer = Layer.succeed(WorldModelScorer, WorldModelScorer.of({
    score: (...args) => Effect.sync(() => scoreAgainstWorld(...args))
  }))
}
