/**
 * `builtin/instruction_rewrite`: the language model rewrites the blamed agent's instruction through
 * a meta-prompt (`metaPrompt`, marked by `META_PROMPT_MARKER`) that receives the judge's explanations
 * of the agent's failing clusters (`explanationsFor`). The model is a port: the simulated model
 * offline, a real one when configured. Settings (samples, temperature) in `instructionRewrite`, data
 * in `propose`. A sample the model fails to write is skipped; when the budget refuses a call, the
 * rewrites already written are proposed. Does not measure the rewrites (the tournament does).
 */
import { Effect } from "effect"
import type { FailureCluster } from "../../contracts/index.ts"
import { type Candidate, clustersByBlamedAgent, type Strategy, type StrategyInput, withAgent } from "../Strategy.ts"

/** The first line of every meta-prompt (the simulated model recognizes it). */
export const META_PROMPT_MARKER = "You are a prompt engineer."

/** The meta-prompt: the agent's instruction and the judge's explanations of its failures. */
export const metaPrompt = (agent: { readonly role: string; readonly instruction: string; readonly guidance: ReadonlyArray<string> }, explanations: ReadonlyArray<string>, task?: string) => ({
  system: [
    META_PROMPT_MARKER,
    "You improve the instruction of one agent in a team of language-model agents.",
    task ?? "Rewrite the instruction so the agent avoids the observed failures: keep what it asks for, state the general rule behind each failure (not the single case), keep it short.",
    "Answer with the new instruction only."
  ].join("\n"),
  user: [
    `Agent role:\n${agent.role}`,
    `Current instruction:\n${agent.instruction}${agent.guidance.length > 0 ? `\n${agent.guidance.join("\n")}` : ""}`,
    `Observed failures (the judge's explanations):\n${explanations.map((e) => `- ${e.replace(/\s+/g, " ").trim()}`).join("\n")}`
  ].join("\n\n")
})

/** The distinct explanations of the clusters blamed on one agent, most frequent clusters first. */
export const explanationsFor = (input: StrategyInput, clusters: ReadonlyArray<FailureCluster>, perCluster = 6): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const cluster of clusters) {
    const fromRuns = input.failingExamples.filter((f) => f.clusterId === cluster.id).map((f) => f.explanation)
    const distinct = [...new Set([...cluster.representativeExplanations, ...fromRuns])]
    out.push(...distinct.slice(0, perCluster))
  }
  return out
}

export interface InstructionRewriteSettings {
  /** Rewrites sampled per blamed agent. */
  readonly samples: number
  readonly temperature: number
}

/** Rewrite the blamed agent's instruction through the language model (settings in, data in `propose`). */
export const instructionRewrite = (settings: InstructionRewriteSettings = { samples: 2, temperature: 0.7 }): Strategy => ({
  name: "builtin/instruction_rewrite",
  description: "Rewrite the blamed agent's instruction with the language model, from a meta-prompt holding the cluster's explanations.",
  propose: (input) =>
    Effect.gen(function*() {
      const out: Array<Candidate> = []
      let calls = 0
      let outOfBudget = false
      for (const [agentId, clusters] of clustersByBlamedAgent(input)) {
        const agent = input.current.find((a) => a.agentId === agentId)
        const declared = input.agents.find((a) => a.id === agentId)
        if (agent === undefined) continue
        const explanations = explanationsFor(input, clusters)
        if (explanations.length === 0) continue
        const prompt = metaPrompt({ role: declared?.role ?? agentId, instruction: agent.template.basePrompt, guidance: agent.template.guidance }, explanations)
        const seen = new Set<string>()
        for (let sample = 0; sample < settings.samples && calls < input.budget.maxModelCalls && !outOfBudget; sample++) {
          calls++
          // A failed sample is skipped (the next may succeed); a refused one ends the rewrites, and
          // those already written are still proposed.
          const answer = yield* input.complete(prompt.system, prompt.user, { temperature: settings.temperature, sample, maxTokens: 800 }).pipe(
            Effect.catchTag("CompletionFailed", () => Effect.succeed(undefined)),
            Effect.catchTag("BudgetExhausted", (e) => out.length > 0 ? Effect.sync(() => { outOfBudget = true }) : Effect.fail(e))
          )
          if (answer === undefined) continue
          const text = answer.trim()
          if (text === "" || seen.has(text) || text === agent.template.basePrompt) continue
          seen.add(text)
          out.push({
            id: `rewrite-${agentId}-${sample + 1}`,
            strategy: "builtin/instruction_rewrite",
            rationale: `${agentId}: instruction rewritten by the language model from ${explanations.length} explanation(s) of ${clusters.map((c) => `"${c.label}"`).join(", ")}`,
            agents: withAgent(input.current, agentId, (a) => ({ ...a, template: { ...a.template, basePrompt: text, guidance: [] } })),
            changed: [agentId]
          })
        }
      }
      return out
    })
})

export const instructionRewriteStrategy: Strategy = instructionRewrite()
