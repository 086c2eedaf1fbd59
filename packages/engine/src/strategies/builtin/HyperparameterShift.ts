/**
 * `builtin/hyperparameter_shift`: shifts the sampling settings of each agent with evidence against
 * it by the documented table `hyperparameterTable` of failure pattern → adjustment (fabrication →
 * cooler sampler and more reasoning, truncation → more tokens, …), always within the world model's
 * declared bounds; with several such agents, also all of their shifts together. Does not touch
 * instructions, examples or context (the other built-in strategies do).
 */
import { Effect } from "effect"
import type { AgentVersion, FailureCluster } from "../../contracts/index.ts"
import { blamedAgent, type Candidate, finalAgentOf, type Strategy, type StrategyInput, withAgent } from "../Strategy.ts"
import { sameConfig, suspectAgents } from "./SuspectAgents.ts"

const clusterText = (cluster: FailureCluster) => `${cluster.label} ${cluster.topTerms.join(" ")} ${cluster.representativeExplanations.join(" ")}`.toLowerCase()

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x))

/** Failure pattern → adjustment. Each row: a test on the evidence, and what to change. */
export const hyperparameterTable: ReadonlyArray<{
  readonly pattern: string
  readonly adjustment: string
  readonly matches: (input: StrategyInput, agentId: string, text: string) => boolean
  readonly adjust: (agent: AgentVersion, input: StrategyInput) => AgentVersion
}> = [
  {
    pattern: "fabrication (invented facts, unsupported claims)",
    adjustment: "temperature to at most 0.2 (a quarter of it), one step more chain of thought",
    matches: (_i, _a, text) => /fabricat|invent|hallucinat|unsupported|not (stated|mentioned) in the input|made up/.test(text),
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, temperature: clamp(Math.min(agent.hyperparameters.temperature * 0.25, 0.2), input.bounds.temperature.min, input.bounds.temperature.max) },
      template: { ...agent.template, chainOfThought: agent.template.chainOfThought === "none" ? "brief" : "full" }
    })
  },
  {
    pattern: "truncation (answers cut off at max tokens)",
    adjustment: "max tokens doubled (at least 400), up to the bound",
    matches: (input, agentId, text) => (input.agentFailureRates[agentId]?.truncated ?? 0) > 0.02 || /truncat|cut off/.test(text),
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, maxTokens: Math.min(input.bounds.maxTokens.max, Math.max(400, agent.hyperparameters.maxTokens * 2)) }
    })
  },
  {
    pattern: "unparseable answers (no JSON, missing fields)",
    adjustment: "temperature halved (at most 0.7)",
    matches: (input, agentId) => (input.agentFailureRates[agentId]?.parse ?? 0) - (input.agentFailureRates[agentId]?.truncated ?? 0) > 0.02,
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, temperature: clamp(Math.min(0.7, agent.hyperparameters.temperature * 0.5), input.bounds.temperature.min, input.bounds.temperature.max) }
    })
  },
  {
    pattern: "misreadings (wrong facts read from an ambiguous input) with a hot sampler",
    adjustment: "temperature to at most 0.3",
    matches: (input, agentId, _text) => {
      const agent = input.current.find((a) => a.agentId === agentId)
      return agent !== undefined && agent.hyperparameters.temperature > 0.6 && (input.agentBlame[agentId] ?? 0) > 0.2
    },
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: { ...agent.hyperparameters, temperature: clamp(Math.min(0.3, agent.hyperparameters.temperature), input.bounds.temperature.min, input.bounds.temperature.max) }
    })
  },
  {
    pattern: "retrieval misses (relevant context not found)",
    adjustment: "retrieval top-k doubled, similarity threshold lowered by 0.1",
    matches: (_i, _a, text) => /retriev|not found in context|missing context|overlooked/.test(text),
    adjust: (agent) => {
      const r = agent.hyperparameters.retrieval
      return r === undefined ? agent : {
        ...agent,
        hyperparameters: { ...agent.hyperparameters, retrieval: { topK: r.topK * 2, similarityThreshold: Math.max(0, r.similarityThreshold - 0.1) } }
      }
    }
  },
  {
    pattern: "out-of-bounds sampling settings",
    adjustment: "temperature and max tokens clamped into the world model's bounds",
    matches: (input, agentId) => {
      const hp = input.current.find((a) => a.agentId === agentId)?.hyperparameters
      return hp !== undefined && (hp.temperature > input.bounds.temperature.max || hp.temperature < input.bounds.temperature.min || hp.maxTokens > input.bounds.maxTokens.max || hp.maxTokens < input.bounds.maxTokens.min)
    },
    adjust: (agent, input) => ({
      ...agent,
      hyperparameters: {
        ...agent.hyperparameters,
        temperature: clamp(agent.hyperparameters.temperature, input.bounds.temperature.min, input.bounds.temperature.max),
        maxTokens: clamp(agent.hyperparameters.maxTokens, input.bounds.maxTokens.min, input.bounds.maxTokens.max)
      }
    })
  }
]

export const hyperparameterShiftStrategy: Strategy = {
  name: "builtin/hyperparameter_shift",
  description: "Shift hyperparameters by the documented failure-pattern table, within the world model's bounds.",
  propose: (input) =>
    Effect.sync(() => {
      const perAgent: Array<Candidate> = []
      let team = input.current
      const all: Array<string> = []
      for (const agentId of suspectAgents(input)) {
        const text = input.clusters.filter((c) => blamedAgent(c, finalAgentOf(input)) === agentId).map(clusterText).join(" ")
        const rows = hyperparameterTable.filter((row) => row.matches(input, agentId, text))
        if (rows.length === 0) continue
        const agents = withAgent(input.current, agentId, (agent) => rows.reduce((acc, row) => row.adjust(acc, input), agent))
        const before = input.current.find((a) => a.agentId === agentId)!
        const after = agents.find((a) => a.agentId === agentId)!
        if (sameConfig(before, after)) continue
        team = withAgent(team, agentId, () => after)
        all.push(agentId)
        perAgent.push({
          id: `hp-${agentId}`,
          strategy: "builtin/hyperparameter_shift",
          rationale: `${agentId}: ${rows.map((r) => `${r.pattern} → ${r.adjustment}`).join("; ")}`,
          agents,
          changed: [agentId]
        })
      }
      // Several agents with evidence: also the shift of all of them together, offered first (the
      // candidate pool takes each strategy's first proposal first, and the joint shift is the one
      // that addresses every piece of evidence).
      return all.length >= 2
        ? [{ id: `hp-${all.join("+")}`, strategy: "builtin/hyperparameter_shift", rationale: perAgent.map((c) => c.rationale).join(" | "), agents: team, changed: all }, ...perAgent]
        : perAgent
    })
}
