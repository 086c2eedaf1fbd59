/**
 * The workspace primitives: Workspace, WorkspaceAgent (with `dependsOn`), the structured
 * PromptTemplate and the Hyperparameters (seeds/primitives.txt). No behaviour lives here.
 */
import { Schema } from "effect"
import { DiagnosisSettings } from "./Diagnosis.ts"
import { EvaluationFramework } from "./EvaluationFramework.ts"
import { NonNegativeInt, PositiveInt, UnitInterval } from "./Measure.ts"
import { WorkspaceId } from "./WorkspaceId.ts"

export const ChainOfThought = Schema.Literals(["none", "brief", "full"])
export type ChainOfThought = typeof ChainOfThought.Type

export const FewShotExample = Schema.Struct({
  input: Schema.String,
  output: Schema.String,
  /** Why this example is here (for example, the failure cluster it addresses). */
  note: Schema.optionalKey(Schema.String)
})
export type FewShotExample = typeof FewShotExample.Type

/** How the agent assembles its context from the stimulus. */
export const ContextSelection = Schema.Struct({
  /** `full`: the whole stimulus; `fields`: only the named fields of the stimulus facts. */
  mode: Schema.Literals(["full", "fields"]),
  fields: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Context longer than this many characters is truncated. */
  maxChars: PositiveInt,
  truncation: Schema.Literals(["head", "tail"])
})
export type ContextSelection = typeof ContextSelection.Type

/** How outputs of the agents this one depends on are put into its prompt. */
export const UpstreamInjection = Schema.Struct({
  mode: Schema.Literals(["none", "json", "fields"]),
  fields: Schema.optionalKey(Schema.Array(Schema.String)),
  label: Schema.String
})
export type UpstreamInjection = typeof UpstreamInjection.Type

export const PromptTemplate = Schema.Struct({
  basePrompt: Schema.NonEmptyString,
  contextSelection: ContextSelection,
  chainOfThought: ChainOfThought,
  fewShotExamples: Schema.Array(FewShotExample),
  upstreamInjection: UpstreamInjection,
  /** Rule-specific guidance lines (added by optimization, rendered after the base prompt). */
  guidance: Schema.Array(Schema.String),
  /** The fields the agent's JSON answer must contain. */
  outputFields: Schema.Array(Schema.NonEmptyString)
})
export type PromptTemplate = typeof PromptTemplate.Type

export const Hyperparameters = Schema.Struct({
  provider: Schema.NonEmptyString,
  model: Schema.NonEmptyString,
  modelVersion: Schema.optionalKey(Schema.String),
  temperature: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 })),
  maxTokens: PositiveInt,
  topP: Schema.optionalKey(UnitInterval),
  retrieval: Schema.optionalKey(Schema.Struct({ topK: PositiveInt, similarityThreshold: UnitInterval })),
  seed: Schema.optionalKey(NonNegativeInt)
})
export type Hyperparameters = typeof Hyperparameters.Type

export const WorkspaceAgent = Schema.Struct({
  id: Schema.NonEmptyString,
  name: Schema.NonEmptyString,
  role: Schema.String,
  dependsOn: Schema.Array(Schema.NonEmptyString),
  template: PromptTemplate,
  hyperparameters: Hyperparameters,
  /**
   * Which intermediate ground truth of an eval-set sample this agent's output answers, when the
   * world model provides one (used to assign blame across the agent graph). Absent for agents
   * whose output only the team's final answer reflects.
   */
  groundTruthKey: Schema.optionalKey(Schema.String)
})
export type WorkspaceAgent = typeof WorkspaceAgent.Type

export const AutonomyMode = Schema.Literals([
  "observe_only",
  "manual",
  "recommend",
  "bounded_auto",
  "auto_test",
  "guarded_auto"
])
export type AutonomyMode = typeof AutonomyMode.Type

export const AutonomySettings = Schema.Struct({
  mode: AutonomyMode,
  /** Forces approval on every later change set, whatever the mode. */
  killSwitch: Schema.Boolean,
  /** bounded_auto gates (also used as guardrails by guarded_auto). */
  minBlendedDelta: Schema.Finite,
  minWorldModelScore: UnitInterval,
  maxRulesAffected: NonNegativeInt,
  requireValidatedChangeSet: Schema.Boolean
})
export type AutonomySettings = typeof AutonomySettings.Type

/**
 * The team's dependency graph is checked when a workspace is decoded: at least one agent, unique
 * ids, every dependency declared, no cycle. The message names the agents concerned.
 */
export const agentGraphProblem = (agents: ReadonlyArray<{ readonly id: string; readonly dependsOn: ReadonlyArray<string> }>): string | undefined => {
  if (agents.length === 0) return "the team declares no agents"
  const ids = new Set<string>()
  for (const agent of agents) {
    if (ids.has(agent.id)) return `agent ${agent.id} is declared twice`
    ids.add(agent.id)
  }
  for (const agent of agents) {
    const unknown = agent.dependsOn.filter((dep) => !ids.has(dep))
    if (unknown.length > 0) return `agent ${agent.id} depends on unknown agent(s) ${unknown.join(", ")}`
  }
  const byId = new Map(agents.map((a) => [a.id, a]))
  const state = new Map<string, "visiting" | "done">()
  const path: Array<string> = []
  const visit = (id: string): ReadonlyArray<string> | undefined => {
    if (state.get(id) === "done") return undefined
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id]
    state.set(id, "visiting")
    path.push(id)
    for (const dep of byId.get(id)!.dependsOn) {
      const cycle = visit(dep)
      if (cycle !== undefined) return cycle
    }
    path.pop()
    state.set(id, "done")
    return undefined
  }
  for (const agent of agents) {
    const cycle = visit(agent.id)
    if (cycle !== undefined) return `dependency cycle: ${cycle.join(" -> ")}`
  }
  return undefined
}

export const Workspace = Schema.Struct({
  id: WorkspaceId,
  name: Schema.NonEmptyString,
  /** The world model the workspace is evaluated against (id only: the version is the world's choice). */
  worldModelId: Schema.NonEmptyString,
  /** The agent team, declared in any order; the engine runs them in topological order of `dependsOn`. */
  agents: Schema.Array(WorkspaceAgent).check(Schema.makeFilter((agents) => agentGraphProblem(agents))),
  framework: EvaluationFramework,
  autonomy: AutonomySettings,
  /** How scans diagnose (the cluster labeller); absent: offline labels. */
  diagnosis: Schema.optionalKey(DiagnosisSettings)
})
export type Workspace = typeof Workspace.Type
