/**
 * The strategy API (public; plugins use it): a strategy receives the diagnosis (clusters, per-agent
 * blame, rubric explanations — never world-model internals), the current configuration, examples of
 * passing runs and a budget, and returns candidate configurations with a rationale each. Strategies
 * take settings in their layer and data in their arguments, and return new values.
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, FailureCluster, HyperparameterBounds, WorkspaceAgent } from "../contracts/index.ts"
import type { BudgetLedger } from "../agents/BudgetLedger.ts"

export interface PassingExample {
  readonly agentId: string
  readonly stimulusId: string
  readonly segment: string
  readonly input: string
  readonly output: string
}

export interface StrategyInput {
  readonly workspaceId: string
  readonly agents: ReadonlyArray<WorkspaceAgent>
  readonly current: ReadonlyArray<AgentVersion>
  readonly clusters: ReadonlyArray<FailureCluster>
  /** Rate of parse failures and of truncated answers per agent in the baseline. */
  readonly agentFailureRates: Readonly<Record<string, { readonly parse: number; readonly truncated: number }>>
  readonly passingExamples: ReadonlyArray<PassingExample>
  readonly bounds: HyperparameterBounds
  readonly seed: number
}

export interface Candidate {
  readonly id: string
  readonly strategy: string
  readonly rationale: string
  readonly agents: ReadonlyArray<AgentVersion>
  /** The agents this candidate changes. */
  readonly changed: ReadonlyArray<string>
}

export interface Strategy {
  /** `builtin/name` or `plugin/name`. */
  readonly name: string
  readonly description: string
  readonly propose: (input: StrategyInput) => Effect.Effect<ReadonlyArray<Candidate>, never, LanguageModel.LanguageModel | BudgetLedger>
}

export class StrategyRegistry extends Context.Service<StrategyRegistry, {
  readonly register: (strategy: Strategy) => Effect.Effect<void>
  readonly strategies: Effect.Effect<ReadonlyArray<Strategy>>
}>()("@spectral/engine/strategies/StrategyRegistry") {
  static readonly layerEmpty = Layer.effect(
    StrategyRegistry,
    Effect.gen(function*() {
      const list = yield* Ref.make<ReadonlyArray<Strategy>>([])
      return StrategyRegistry.of({
        register: (strategy) => Ref.update(list, (all) => [...all.filter((s) => s.name !== strategy.name), strategy]),
        strategies: Ref.get(list)
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

/** Replace one agent's configuration in a team configuration. */
export const withAgent = (
  current: ReadonlyArray<AgentVersion>,
  agentId: string,
  change: (agent: AgentVersion) => AgentVersion
): ReadonlyArray<AgentVersion> => current.map((a) => (a.agentId === agentId ? change(a) : a))

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
