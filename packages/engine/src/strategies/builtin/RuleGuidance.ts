/**
 * `builtin/rule_guidance`: one guidance line per actionable failure cluster (at most four), written
 * from the rubric's explanation of the failure (`guidanceFor`) and added to the blamed agent's
 * template, all in one candidate. Does not rewrite the instruction (InstructionRewrite does).
 */
import { Effect } from "effect"
import type { FailureCluster } from "../../contracts/index.ts"
import { blamedAgent, finalAgentOf, type Strategy, withAgent } from "../Strategy.ts"

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
        const agentId = blamedAgent(cluster, finalAgentOf(input))
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
