/**
 * The built-in strategies. Each targets the agent a failure is blamed on (credit assignment);
 * agents that are not to blame keep their version.
 * - `builtin/hyperparameter_shift`: the documented table `hyperparameterTable` of failure pattern →
 *   adjustment, always within the world model's declared bounds;
 * - `builtin/few_shot`: examples from passing working-set runs resembling each failing cluster
 *   (same segment, most words in common with the cluster's failing inputs), chosen for diversity;
 * - `builtin/rule_guidance`: a guidance line per actionable cluster, from the rubric's explanations;
 * - `builtin/instruction_rewrite`: the language model rewrites the blamed agent's instruction
 *   through a meta-prompt that receives the cluster's explanations (the model is a port: the
 *   simulated model offline, a real one when configured);
 * - `builtin/chain_of_thought`: one step more reasoning for each blamed agent;
 * - `builtin/context_selection`: what the template includes (whole stimulus vs selected fields,
 *   upstream outputs) and how much (truncation), from the documented `contextTable`.
 */
import { Effect } from "effect"
import type { AgentVersion, ChainOfThought, FailureCluster } from "../contracts/index.ts"
import { hashString, seededGenerator } from "../random/Deterministic.ts"
import {
  blamedAgent,
  type Candidate,
  clustersByBlamedAgent,
  finalAgentOf,
  mostBlamedAgent,
  type Strategy,
  type StrategyInput,
  withAgent
} from "./Strategy.ts"

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

const sameConfig = (a: AgentVersion, b: AgentVersion) => JSON.stringify(a) === JSON.stringify(b)

/** Agents with evidence against them: blamed for clusters, or with parse/truncation failures. */
const suspectAgents = (input: StrategyInput): ReadonlyArray<string> => {
  const ids = new Set<string>()
  for (const c of input.clusters) ids.add(blamedAgent(c, finalAgentOf(input)))
  for (const [agentId, rates] of Object.entries(input.agentFailureRates)) if (rates.parse > 0.02 || rates.truncated > 0.02) ids.add(agentId)
  for (const [agentId, share] of Object.entries(input.agentBlame)) if (share > 0.2) ids.add(agentId)
  return input.current.map((a) => a.agentId).filter((id) => ids.has(id))
}

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
      // Several agents with evidence: also the shift of all of them together.
      return all.length >= 2
        ? [...perAgent, { id: `hp-${all.join("+")}`, strategy: "builtin/hyperparameter_shift", rationale: perAgent.map((c) => c.rationale).join(" | "), agents: team, changed: all }]
        : perAgent
    })
}

const words = (text: string) => new Set(text.toLowerCase().split(/[^a-z0-9$]+/).filter((w) => w.length > 3))

const overlap = (a: ReadonlySet<string>, b: ReadonlySet<string>) => {
  let n = 0
  for (const w of a) if (b.has(w)) n++
  return n / Math.max(1, Math.min(a.size, b.size))
}

export const fewShotStrategy: Strategy = {
  name: "builtin/few_shot",
  description: "Add examples from passing runs that resemble each failing cluster, chosen for diversity.",
  propose: (input) =>
    Effect.sync(() => {
      const out: Array<Candidate> = []
      const rng = seededGenerator(hashString(`few-shot:${input.seed}`))
      for (const [agentId, clusters] of clustersByBlamedAgent(input)) {
        const examples: Array<{ input: string; output: string; note: string }> = []
        const usedStimuli = new Set<string>()
        for (const cluster of clusters) {
          const failing = input.failingExamples.filter((f) => f.clusterId === cluster.id)
          const failingWords = words(failing.map((f) => f.input).join(" "))
          const segments = Object.keys(cluster.segments)
          // Resemblance: same segment as the cluster's failures, most words in common with them.
          const pool = input.passingExamples
            .filter((e) => e.agentId === agentId && segments.includes(e.segment) && !usedStimuli.has(e.stimulusId))
            .map((e) => ({ e, sim: overlap(words(e.input), failingWords) + rng.next() * 0.01 }))
            .sort((a, b) => b.sim - a.sim)
          const usedSegments = new Set<string>()
          for (let k = 0; k < 2 && pool.length > 0; k++) {
            // Diversity: prefer a segment not used yet for this cluster.
            const fresh = pool.find((p) => !usedSegments.has(p.e.segment)) ?? pool[0]!
            pool.splice(pool.indexOf(fresh), 1)
            usedSegments.add(fresh.e.segment)
            usedStimuli.add(fresh.e.stimulusId)
            examples.push({ input: fresh.e.input, output: fresh.e.output, note: `addresses: ${cluster.label}` })
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
      for (const [agentId, clusters] of clustersByBlamedAgent(input)) {
        const agent = input.current.find((a) => a.agentId === agentId)
        const declared = input.agents.find((a) => a.id === agentId)
        if (agent === undefined) continue
        const explanations = explanationsFor(input, clusters)
        if (explanations.length === 0) continue
        const prompt = metaPrompt({ role: declared?.role ?? agentId, instruction: agent.template.basePrompt, guidance: agent.template.guidance }, explanations)
        const seen = new Set<string>()
        for (let sample = 0; sample < settings.samples && calls < input.budget.maxModelCalls; sample++) {
          calls++
          const text = (yield* input.complete(prompt.system, prompt.user, { temperature: settings.temperature, sample, maxTokens: 800 })).trim()
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

export const builtinStrategies: ReadonlyArray<Strategy> = [
  hyperparameterShiftStrategy,
  fewShotStrategy,
  ruleGuidanceStrategy,
  instructionRewriteStrategy,
  chainOfThoughtStrategy,
  contextSelectionStrategy
]
