/**
 * The strategy API (public; plugins use it). A strategy receives the diagnosis (failure clusters
 * with per-agent blame and the rubric's explanations — never world-model internals: no rules, no
 * expected answers), the current configuration and change set, examples of passing and failing
 * runs from the working set, and a budget; it returns candidate configurations with a rationale
 * each. Strategies take settings in their constructor and data in `propose`, and return new values.
 *
 * Two capabilities come with the input so that search-based strategies (DSPy-style, GEPA-style)
 * need nothing else: `complete` (one metered language-model call, for meta-prompts) and
 * `evaluate` (measure a configuration on the working set — never the holdout — and get per-stimulus
 * scores and rubric explanations back). Both charge the scan's one budget ledger. `complete` fails
 * with `BudgetExhausted` past the strategy's `budget.maxModelCalls` or when the call would eat into
 * what measuring the winner on the holdout needs, and with `CompletionFailed` when the model could
 * not answer: a strategy decides what to do without that answer (skip a sample, stop searching).
 *
 * The registry also holds extra objective scorers: a `custom` optimization vector of the framework
 * whose name matches a registered scorer is measured by it in the tournament.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, FailureCluster, HyperparameterBounds, WorkspaceAgent } from "../contracts/index.ts"
import type { BudgetExhausted, BudgetLedger } from "../agents/BudgetLedger.ts"
import type { Candidate } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { Candidate }

export interface PassingExample {
  readonly agentId: string
  readonly stimulusId: string
  readonly segment: string
  readonly input: string
  readonly output: string
}

/** A failing run as the rubric saw it: the stimulus, the answer and the judge's explanation. */
export interface FailingExample {
  readonly clusterId: string
  /** The agent the run is blamed on (credit assignment). */
  readonly agentId: string
  readonly stimulusId: string
  readonly segment: string
  readonly input: string
  /** The blamed agent's output (JSON). */
  readonly output: string
  readonly explanation: string
}

/**
 * A `complete` call the language model could not answer (`infra`: the provider failed; `parse`: the
 * answer was unusable). The call still counts against the strategy's allowance and the scan's budget.
 */
export class CompletionFailed extends Schema.TaggedError<CompletionFailed>()("CompletionFailed", {
  strategy: Schema.String,
  kind: Schema.Literals(["infra", "parse"]),
  message: Schema.String
}) {}

/**
 * A strategy that proposes nothing may say why by failing with this (for example "no failures to
 * reflect on", "all rewrites were rejected"): Optimize records `detail` in the decision log
 * (`no_candidate`) instead of assuming the diagnosis had nothing for the strategy. `reason` is the
 * strategy's own short code for the cause.
 */
export class NoCandidate extends Schema.TaggedError<NoCandidate>()("NoCandidate", {
  strategy: Schema.String,
  reason: Schema.String,
  detail: Schema.String
}) {}

/** What a strategy may spend while proposing (model calls of its own plus evaluated stimulus runs). */
export interface StrategyBudget {
  readonly maxCandidates: number
  /** Model calls for meta-prompts (`complete`). */
  readonly maxModelCalls: number
  /** Team runs on working-set stimuli through `evaluate` (each also costs a judge call). */
  readonly maxEvaluations: number
}

export interface WorkingStimulus {
  readonly id: string
  readonly segment: string
  readonly input: string
}

export interface StimulusScore {
  readonly stimulusId: string
  readonly segment: string
  /** Blended score (mean over epochs), 0–1. */
  readonly score: number
  readonly passed: boolean
  readonly explanation?: string
  /** The team's final answer (JSON), when it gave one. */
  readonly output?: string
}

export interface WorkingSetEvaluation {
  /**
   * Mean blended score over the scored stimuli. An answer that did not parse scores what the world
   * model gives it (0); a stimulus whose every run failed for infrastructure reasons is not scored
   * (it says nothing about the configuration) and is listed in `infraFailures` instead.
   */
  readonly score: number
  readonly passRate: number
  readonly stimuli: ReadonlyArray<StimulusScore>
  /** Stimuli left out because every run of them failed for infrastructure reasons. */
  readonly infraFailures: ReadonlyArray<string>
}

export interface CompletionOptions {
  readonly temperature?: number
  readonly maxTokens?: number
  /** Attribution in the ledger; default `strategy:<name>`. */
  readonly purpose?: string
  /** Repeat index for sampling several answers to one prompt. */
  readonly sample?: number
}

export interface StrategyInput {
  readonly workspaceId: string
  /** The name of the strategy being asked (for attribution). */
  readonly strategyName: string
  readonly agents: ReadonlyArray<WorkspaceAgent>
  readonly current: ReadonlyArray<AgentVersion>
  /** The team's final agents (whose answer is scored): a failure with no recorded blame is theirs. */
  readonly finalAgentIds: ReadonlyArray<string>
  /** The change set whose configuration is `current`, when there is one. */
  readonly currentChangeSet: { readonly id: string; readonly version: number } | null
  readonly clusters: ReadonlyArray<FailureCluster>
  /** Rate of parse failures and of truncated answers per agent in the baseline. */
  readonly agentFailureRates: Readonly<Record<string, { readonly parse: number; readonly truncated: number }>>
  /** Per-agent share of all quality failures (credit assignment), 0–1. */
  readonly agentBlame: Readonly<Record<string, number>>
  readonly passingExamples: ReadonlyArray<PassingExample>
  readonly failingExamples: ReadonlyArray<FailingExample>
  readonly workingStimuli: ReadonlyArray<WorkingStimulus>
  readonly bounds: HyperparameterBounds
  readonly seed: number
  readonly budget: StrategyBudget
  /**
   * One metered model call with the baseline's final agent's provider and model (meta-prompts).
   * Counts against `budget.maxModelCalls`; fails with BudgetExhausted past it or when the call would
   * spend what measuring the winner on the holdout needs, and with CompletionFailed when the model
   * fails (never an empty answer in its place).
   */
  readonly complete: (system: string, user: string, options?: CompletionOptions) => Effect.Effect<string, BudgetExhausted | CompletionFailed>
  /**
   * Measure a team configuration on working-set stimuli (all, or the given ids; never holdout).
   * Counts against `budget.maxEvaluations`; fails with BudgetExhausted past it or past the scan's budget.
   */
  readonly evaluate: (team: ReadonlyArray<AgentVersion>, stimulusIds?: ReadonlyArray<string>) => Effect.Effect<WorkingSetEvaluation, BudgetExhausted>
}

export interface Strategy {
  /** `builtin/name` or `plugin/name`. */
  readonly name: string
  readonly description: string
  /** A CompletionFailed the strategy does not handle ends its proposals (logged, no candidate); NoCandidate says why there is none. */
  readonly propose: (input: StrategyInput) => Effect.Effect<ReadonlyArray<Candidate>, BudgetExhausted | CompletionFailed | NoCandidate, LanguageModel.LanguageModel | BudgetLedger>
}

export class StrategyRegistry extends Context.Service<StrategyRegistry, {
  readonly register: (strategy: Strategy) => Effect.Effect<void>
  /** The registered strategies (only the selected ones, after `select`). */
  readonly strategies: Effect.Effect<ReadonlyArray<Strategy>>
  /** Use only the named strategies (for example to measure one strategy alone); `undefined`: all. */
  readonly select: (names: ReadonlyArray<string> | undefined) => Effect.Effect<void>
}>()("@spectral/engine/strategies/StrategyRegistry") {
  static readonly layerEmpty = Layer.effect(
    StrategyRegistry,
    Effect.gen(function*() {
      const list = yield* Ref.make<ReadonlyArray<Strategy>>([])
      const selected = yield* Ref.make<ReadonlyArray<string> | undefined>(undefined)
      return StrategyRegistry.of({
        register: (strategy) => Ref.update(list, (all) => [...all.filter((s) => s.name !== strategy.name), strategy]),
        strategies: Effect.map(Effect.all([Ref.get(list), Ref.get(selected)]), ([all, names]) => names === undefined ? all : all.filter((s) => names.includes(s.name))),
        select: (names) => Ref.set(selected, names)
      })
    })
  )
}

export const registerStrategies = (strategies: ReadonlyArray<Strategy>) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const registry = yield* StrategyRegistry
      for (const strategy of strategies) yield* registry.register(strategy)
    })
  )

/** A Layer that restricts the registry to the named strategies (order of registration does not matter). */
export const selectStrategies = (names: ReadonlyArray<string>) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const registry = yield* StrategyRegistry
      yield* registry.select(names)
    })
  )

/** Replace one agent's configuration in a team configuration. */
export const withAgent = (
  current: ReadonlyArray<AgentVersion>,
  agentId: string,
  change: (agent: AgentVersion) => AgentVersion
): ReadonlyArray<AgentVersion> => current.map((a) => (a.agentId === agentId ? change(a) : a))

/** The agents whose configuration differs between two team configurations. */
export const changedAgents = (baseline: ReadonlyArray<AgentVersion>, proposed: ReadonlyArray<AgentVersion>): ReadonlyArray<string> =>
  proposed.filter((p) => {
    const b = baseline.find((a) => a.agentId === p.agentId)
    return b === undefined || JSON.stringify(b.template) !== JSON.stringify(p.template) || JSON.stringify(b.hyperparameters) !== JSON.stringify(p.hyperparameters)
  }).map((p) => p.agentId)

/** The agent most blamed across the given clusters (weighted by cluster size). */
export const mostBlamedAgent = (clusters: ReadonlyArray<FailureCluster>, fallback: string): string => {
  const totals = new Map<string, number>()
  for (const c of clusters) {
    for (const [agent, share] of Object.entries(c.agentBlame)) {
      totals.set(agent, (totals.get(agent) ?? 0) + share * c.memberTraceIds.length)
    }
  }
  let best = fallback
  let bestValue = -1
  for (const [agent, value] of totals) {
    if (value > bestValue) {
      best = agent
      bestValue = value
    }
  }
  return best
}

/** The agent a cluster is mostly blamed on. */
export const blamedAgent = (cluster: FailureCluster, fallback: string): string => mostBlamedAgent([cluster], fallback)

/**
 * The agent a failure with no recorded blame is charged to: the team's (first) final agent, whose
 * answer is scored — as credit assignment does when a counterfactual changes nothing; the last agent
 * of the configuration when no final agent is known.
 */
export const finalAgentOf = (input: Pick<StrategyInput, "current" | "finalAgentIds">): string =>
  input.finalAgentIds[0] ?? input.current[input.current.length - 1]?.agentId ?? ""

/** Evidence against an agent: a parse or truncation rate above this… */
export const SUSPECT_MIN_FAILURE_RATE = 0.02
/** …or a share of the team's quality failures above this, or being most blamed for a cluster. */
export const SUSPECT_MIN_BLAME_SHARE = 0.2

/**
 * The agents with evidence against them, in configuration order: the agent each cluster is mostly
 * blamed on (`finalAgentOf` when it records no blame), agents whose parse or truncation rate passes
 * SUSPECT_MIN_FAILURE_RATE, and agents whose share of the blame passes SUSPECT_MIN_BLAME_SHARE. The
 * one definition: strategies target these agents, and the optimize phase undoes a candidate's change
 * to any other agent (it is not to blame and keeps its version).
 */
export const suspectAgents = (input: Pick<StrategyInput, "clusters" | "agentFailureRates" | "agentBlame" | "current" | "finalAgentIds">): ReadonlyArray<string> => {
  const ids = new Set<string>()
  for (const c of input.clusters) ids.add(blamedAgent(c, finalAgentOf(input)))
  for (const [agentId, rates] of Object.entries(input.agentFailureRates)) {
    if (rates.parse > SUSPECT_MIN_FAILURE_RATE || rates.truncated > SUSPECT_MIN_FAILURE_RATE) ids.add(agentId)
  }
  for (const [agentId, share] of Object.entries(input.agentBlame)) if (share > SUSPECT_MIN_BLAME_SHARE) ids.add(agentId)
  return input.current.map((a) => a.agentId).filter((id) => ids.has(id))
}

/**
 * Clusters grouped by the agent they are mostly blamed on, actionable ones first. With
 * `onlyActionable`, a cluster counts when it is actionable or recurs (three members or more): the
 * actionability flag is a clustering heuristic, and the tournament decides what helps.
 */
export const clustersByBlamedAgent = (input: Pick<StrategyInput, "clusters" | "current" | "finalAgentIds">, onlyActionable = true): ReadonlyMap<string, ReadonlyArray<FailureCluster>> => {
  const out = new Map<string, Array<FailureCluster>>()
  const ordered = [...input.clusters].sort((a, b) => Number(b.actionable) - Number(a.actionable))
  for (const c of ordered) {
    if (onlyActionable && !c.actionable && c.memberTraceIds.length < 3) continue
    const agent = blamedAgent(c, finalAgentOf(input))
    out.set(agent, [...(out.get(agent) ?? []), c])
  }
  return out
}
