/**
 * `builtin/chain_of_thought`: one step more reasoning (none → brief → full) for each agent blamed for
 * failures, full reasoning for the most blamed. Changes nothing else in the template.
 */
import { Effect } from "effect"
import type { ChainOfThought } from "../../contracts/index.ts"
import { type Candidate, clustersByBlamedAgent, finalAgentOf, mostBlamedAgent, type Strategy, withAgent } from "../Strategy.ts"

const nextReasoning: Readonly<Record<ChainOfThought, ChainOfThought>> = { none: "brief", brief: "full", full: "full" }

export const chainOfThoughtStrategy: Strategy = {
  name: "builtin/chain_of_thought",
  description: "One step more reasoning (none → brief → full) for each agent blamed for failures; full reasoning for the most blamed.",
  propose: (input) =>
    Effect.sync(() => {
      if (input.clusters.length === 0) return []
      const out: Array<Candidate> = []
      const most = mostBlamedAgent(input.clusters, finalAgentOf(input))
      for (const agentId of clustersByBlamedAgent(input, false).keys()) {
        const agent = input.current.find((a) => a.agentId === agentId)
        if (agent === undefined || agent.template.chainOfThought === "full") continue
        const mode = agentId === most ? "full" : nextReasoning[agent.template.chainOfThought]
        out.push({
          id: `cot-${agentId}`,
          strategy: "builtin/chain_of_thought",
          rationale: `${agentId} is blamed for ${agentId === most ? "most" : "some"} failures: reasoning ${agent.template.chainOfThought} → ${mode}`,
          agents: withAgent(input.current, agentId, (a) => ({ ...a, template: { ...a.template, chainOfThought: mode } })),
          changed: [agentId]
        })
      }
      return out
    })
}
