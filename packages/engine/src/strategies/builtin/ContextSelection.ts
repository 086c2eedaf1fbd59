/**
 * `builtin/context_selection`: changes what the template of an agent with evidence against it
 * includes (whole stimulus vs selected fields, upstream outputs) and how much (truncation), from the
 * documented `contextTable` of pattern → adjustment. Does not touch sampling settings
 * (HyperparameterShift does).
 */
import { Effect } from "effect"
import type { AgentVersion } from "../../contracts/index.ts"
import { type Candidate, type Strategy, type StrategyInput, withAgent } from "../Strategy.ts"
import { sameConfig, suspectAgents } from "./SuspectAgents.ts"

/** What the template includes → adjustment. Each row: a test on the evidence, and what to change. */
export const contextTable: ReadonlyArray<{
  readonly pattern: string
  readonly matches: (input: StrategyInput, agent: AgentVersion) => boolean
  readonly adjust: (agent: AgentVersion, input: StrategyInput) => AgentVersion
}> = [
  {
    pattern: "stimuli longer than the context limit (the deciding facts may be cut off) → limit raised to the longest stimulus",
    matches: (input, agent) => input.workingStimuli.some((s) => s.input.length > agent.template.contextSelection.maxChars),
    adjust: (agent, input) => ({
      ...agent,
      template: {
        ...agent.template,
        contextSelection: { ...agent.template.contextSelection, maxChars: Math.min(32_000, Math.ceil(Math.max(...input.workingStimuli.map((s) => s.input.length)) * 1.2)) }
      }
    })
  },
  {
    pattern: "only selected fields of the stimulus shown → the whole stimulus",
    matches: (_input, agent) => agent.template.contextSelection.mode === "fields",
    adjust: (agent) => {
      const { fields: _fields, ...rest } = agent.template.contextSelection
      return { ...agent, template: { ...agent.template, contextSelection: { ...rest, mode: "full" } } }
    }
  },
  {
    pattern: "upstream outputs hidden or cut to some fields → all upstream output as JSON",
    matches: (input, agent) => {
      const declared = input.agents.find((a) => a.id === agent.agentId)
      return declared !== undefined && declared.dependsOn.length > 0 && agent.template.upstreamInjection.mode !== "json"
    },
    adjust: (agent) => {
      const { fields: _fields, ...rest } = agent.template.upstreamInjection
      return { ...agent, template: { ...agent.template, upstreamInjection: { ...rest, mode: "json", label: rest.label || "Upstream output" } } }
    }
  }
]

export const contextSelectionStrategy: Strategy = {
  name: "builtin/context_selection",
  description: "Change what the blamed agent's template includes (whole stimulus, upstream outputs) and how much of it (truncation).",
  propose: (input) =>
    Effect.sync(() => {
      const out: Array<Candidate> = []
      for (const agentId of suspectAgents(input)) {
        const agent = input.current.find((a) => a.agentId === agentId)
        if (agent === undefined) continue
        const rows = contextTable.filter((row) => row.matches(input, agent))
        if (rows.length === 0) continue
        const changed = rows.reduce((acc, row) => row.adjust(acc, input), agent)
        if (sameConfig(agent, changed)) continue
        out.push({
          id: `context-${agentId}`,
          strategy: "builtin/context_selection",
          rationale: `${agentId}: ${rows.map((r) => r.pattern).join("; ")}`,
          agents: withAgent(input.current, agentId, () => changed),
          changed: [agentId]
        })
      }
      return out
    })
}
