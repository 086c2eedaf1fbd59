/**
 * The built-in strategies:
 * - `builtin/hyperparameter_shift`: the documented table of failure pattern → adjustment
 *   (fabrication → lower temperature and chain of thought; truncation → more max tokens;
 *   unparseable answers → lower temperature; retrieval misses → larger top-k, lower threshold),
 *   always within the world model's declared bounds;
 * - `builtin/few_shot`: examples from passing runs that resemble each failing cluster, diverse;
 * - `builtin/rule_guidance`: a guidance line per actionable cluster, written from the rubric's
 *   explanations of what went wrong;
 * - `builtin/chain_of_thought`: full reasoning for the blamed agent.
 * Each targets the blamed agent; agents that are not to blame keep their version.
 */
import { Effect } from "effect"
import type { AgentVersion, FailureCluster } from "../contracts/index.ts"
import { hashString, seededGenerator } from "../random/Deterministic.ts"
import { blamedAgent, type Candidate, mostBlamedAgent, type Strategy, type StrategyInput, withAgent } from "./Strategy.ts"

const finalAgentId = (input: StrategyInput) => input.current[input.current.length - 1]?.agentId ?? ""

const clusterText = (cluster: FailureCluster) => `${cluster.label} ${cluster.topTerms.join(" ")} ${cluster.representativeExplanations.join(" ")}`.toLowerCase()

/** Failure pattern → adjustment. Each row: a test on the evidence, and what to change. */
export const hyperparameterTable: ReadonlyArray<{
  readonly pattern: string
  readonly matches: (input: StrategyInput, agentId: string, text: string) => boolean
  readonly adjust: (agent: AgentVersion, input: StrategyInput) => AgentVersion
}> = [
  {
    pattern: "fabrication (invented facts, unsupported claims)",
    matches: (_i, _a, text) => /fabricat|invent|hallucinat|unsupported|not (stated|mentioned) in the input|made up/.test(text),
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, temperature: Math.max(input.bounds.temperature.min, Math.min(agent.hyperparameters.temperature * 0.25, 0.2)) },
      template: { ...agent.template, chainOfThought: agent.template.chainOfThought === "none" ? "brief" : "full" }
    })
  },
  {
    pattern: "truncation (answers cut off at max tokens)",
    matches: (input, agentId, text) => (input.agentFailureRates[agentId]?.truncated ?? 0) > 0.02 || /truncat|cut off/.test(text),
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, maxTokens: Math.min(input.bounds.maxTokens.max, agent.hyperparameters.maxTokens * 2) }
    })
  },
  {
    pattern: "unparseable answers",
    matches: (input, agentId) => (input.agentFailureRates[agentId]?.parse ?? 0) > 0.02,
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, temperature: Math.max(input.bounds.temperature.min, agent.hyperparameters.temperature * 0.5) }
    })
  },
  {
    pattern: "retrieval misses (relevant context not found)",
    matches: (_i, _a, text) => /retriev|not found in context|missing context|overlooked/.test(text),
    adjust: (agent) => {
      const r = agent.hyperparameters.retrieval
      return r === undefined ? agent : {
        ...agent,
        hyperparameters: { ...agent.hyperparameters, retrieval: { topK: r.topK * 2, similarityThreshold: Math.max(0, r.similarityThreshold - 0.1) } }
      }
    }
  }
]

const sameConfig = (a: AgentVersion, b: AgentVersion) => JSON.stringify(a) === JSON.stringify(b)

export const hyperparameterShiftStrategy: Strategy = {
  name: "builtin/hyperparameter_shift",
  description: "Shift hyperparameters by the documented failure-pattern table, within the world model's bounds.",
  propose: (input) =>
    Effect.sync(() => {
      const out: Array<Candidate> = []
      const agentIds = new Set([...input.clusters.map((c) => blamedAgent(c, finalAgentId(input))), ...Object.keys(input.agentFailureRates)])
      for (const agentId of agentIds) {
        const text = input.clusters.filter((c) => blamedAgent(c, finalAgentId(input)) === agentId).map(clusterText).join(" ")
        const rows = hyperparameterTable.filter((row) => row.matches(input, agentId, text))
        if (rows.length === 0) continue
        const agents = withAgent(input.current, agentId, (agent) => rows.reduce((acc, row) => row.adjust(acc, input), agent))
        const before = input.current.find((a) => a.agentId === agentId)!
        if (sameConfig(before, agents.find((a) => a.agentId === agentId)!)) continue
        out.push({
          id: `hp-${agentId}`,
          strategy: "builtin/hyperparameter_shift",
          rationale: `${agentId}: ${rows.map((r) => r.pattern).join("; ")} → ${rows.length} adjustment(s) from the table`,
          agents,
          changed: [agentId]
        })
      }
      return out
    })
}

export const fewShotStrategy: Strategy = {
  name: "builtin/few_shot",
  description: "Add examples from passing runs that resemble each failing cluster, chosen for diversity.",
  propose: (input) =>
    Effect.sync(() => {
      const out: Array<Candidate> = []
      const rng = seededGenerator(hashString(`few-shot:${input.seed}`))
      const actionable = input.clusters.filter((c) => c.actionable)
      const byAgent = new Map<string, Array<FailureCluster>>()
      for (const c of actionable) {
        const agent = blamedAgent(c, finalAgentId(input))
        byAgent.set(agent, [...(byAgent.get(agent) ?? []), c])
      }
      for (const [agentId, clusters] of byAgent) {
        const examples: Array<{ input: string; output: string; note: string }> = []
        for (const cluster of clusters) {
          const segments = Object.keys(cluster.segments)
          const pool = input.passingExamples.filter((e) => e.agentId === agentId && segments.includes(e.segment))
          const used = new Set<string>()
          for (let k = 0; k < 2 && pool.length > 0; k++) {
            // Diversity: prefer a segment not used yet for this cluster.
            const fresh = pool.filter((e) => !used.has(e.segment))
            const from = fresh.length > 0 ? fresh : pool
            const pick = from[rng.int(from.length)]!
            used.add(pick.segment)
            pool.splice(pool.indexOf(pick), 1)
            examples.push({ input: pick.input, output: pick.output, note: `addresses: ${cluster.label}` })
          }
        }
        if (examples.length === 0) continue
        out.push({
          id: `fewshot-${agentId}`,
          strategy: "builtin/few_shot",
          rationale: `${agentId}: ${examples.length} passing example(s) resembling ${clusters.map((c) => `"${c.label}"`).join(", ")}`,
          agents: withAgent(input.current, agentId, (agent) => ({
            ...agent,
            template: { ...agent.template, fewShotExamples: [...agent.template.fewShotExamples, ...examples].slice(-6) }
          })),
          changed: [agentId]
        })
      }
      return out
    })
}

/** Guidance written from a cluster: the judge's explanation of the failure, as an instruction. */
export const guidanceFor = (cluster: FailureCluster): string => {
  const explanation = cluster.representativeExplanations[0] ?? cluster.label
  return `Avoid this observed failure (${cluster.label}): ${explanation.replace(/\s+/g, " ").trim()}`
}

export const ruleGuidanceStrategy: Strategy = {
  name: "builtin/rule_guidance",
  description: "Add a guidance line per actionable failure cluster, written from the rubric's explanations.",
  propose: (input) =>
    Effect.sync(() => {
      const actionable = input.clusters.filter((c) => c.actionable).slice(0, 4)
      if (actionable.length === 0) return []
      let agents = input.current
      const changed = new Set<string>()
      for (const cluster of actionable) {
        const agentId = blamedAgent(cluster, finalAgentId(input))
        changed.add(agentId)
        agents = withAgent(agents, agentId, (agent) => ({
          ...agent,
          template: { ...agent.template, guidance: [...agent.template.guidance, guidanceFor(cluster)] }
        }))
      }
      return [{
        id: "guidance",
        strategy: "builtin/rule_guidance",
        rationale: `guidance for ${actionable.map((c) => `"${c.label}"`).join(", ")}`,
        agents,
        changed: [...changed]
      }]
    })
}

export const chainOfThoughtStrategy: Strategy = {
  name: "builtin/chain_of_thought",
  description: "Turn on full step-by-step reasoning for the agent most blamed for failures.",
  propose: (input) =>
    Effect.sync(() => {
      if (input.clusters.length === 0) return []
      const agentId = mostBlamedAgent(input.clusters, finalAgentId(input))
      const agent = input.current.find((a) => a.agentId === agentId)
      if (agent === undefined || agent.template.chainOfThought === "full") return []
      return [{
        id: `cot-${agentId}`,
        strategy: "builtin/chain_of_thought",
        rationale: `${agentId} is blamed for most failures; reason through every test before answering`,
        agents: withAgent(input.current, agentId, (a) => ({ ...a, template: { ...a.template, chainOfThought: "full" } })),
        changed: [agentId]
      }]
    })
}

export const builtinStrategies: ReadonlyArray<Strategy> = [
  hyperparameterShiftStrategy,
  fewShotStrategy,
  ruleGuidanceStrategy,
  chainOfThoughtStrategy
]
