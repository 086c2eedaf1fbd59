/**
 * What the table-driven built-in strategies share: which agents have evidence against them
 * (`suspectAgents`: blamed for clusters, or with parse / truncation failures, or a large share of the
 * blame), and whether an adjustment changed an agent at all (`sameConfig`). Owns no strategy.
 */
import type { AgentVersion } from "../../contracts/index.ts"
import { blamedAgent, finalAgentOf, type StrategyInput } from "../Strategy.ts"

export const sameConfig = (a: AgentVersion, b: AgentVersion) => JSON.stringify(a) === JSON.stringify(b)

/** Agents with evidence against them: blamed for clusters, or with parse/truncation failures. */
export const suspectAgents = (input: StrategyInput): ReadonlyArray<string> => {
  const ids = new Set<string>()
  for (const c of input.clusters) ids.add(blamedAgent(c, finalAgentOf(input)))
  for (const [agentId, rates] of Object.entries(input.agentFailureRates)) if (rates.parse > 0.02 || rates.truncated > 0.02) ids.add(agentId)
  for (const [agentId, share] of Object.entries(input.agentBlame)) if (share > 0.2) ids.add(agentId)
  return input.current.map((a) => a.agentId).filter((id) => ids.has(id))
}
