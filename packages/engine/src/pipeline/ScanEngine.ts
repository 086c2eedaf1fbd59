/**
 * The engine as one Layer: every phase, the orchestrator, the gate and strategy registries with
 * the built-ins, the change-set lifecycle, and the `on scan completed` handler subscribed to the
 * bus. It still needs the ports: `LanguageModel`, `EvalSetProvider`, the repositories and the
 * `EventBus` (see `@spectral/adapters` for drivers, `MemoryStorage` / `EventBus.layerMemory` here).
 *
 * Exported as the `ScanEngine` namespace: `ScanEngine.layer(options, plugins)`.
 */
import { Effect, Layer } from "effect"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetLedger } from "../agents/BudgetLedger.ts"
import { AutomatedAcceptance } from "../autonomy/AutomatedAcceptance.ts"
import { ChangeSets } from "../changesets/ChangeSetLifecycle.ts"
import { GateRegistry, registerGates } from "../gates/Gate.ts"
import { builtinGates } from "../gates/BuiltinGates.ts"
import { VerdictEngine } from "../gates/VerdictEngine.ts"
import { EventBus } from "../ports/EventBus.ts"
import { RubricScorer, type JudgeSettings } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { builtinStrategies } from "../strategies/BuiltinStrategies.ts"
import { registerStrategies, StrategyRegistry } from "../strategies/Strategy.ts"
import type { PluginLayer } from "../plugin/Plugin.ts"
import { ScorerRegistry } from "../plugin/ScorerRegistry.ts"
import { Calibrate } from "./Calibrate.ts"
import { Diagnose, FailureClusterer } from "./Diagnose.ts"
import { Evaluate } from "./Evaluate.ts"
import { Observe } from "./Observe.ts"
import { Tournament } from "../optimize/Tournament.ts"
import { Optimize } from "./Optimize.ts"
import { Preflight } from "./Preflight.ts"
import { Safety } from "./Safety.ts"
import { ScanOrchestrator } from "./ScanOrchestrator.ts"
import { Verdict } from "./Verdict.ts"

export interface Options {
  /** The judge model for the rubric authority. */
  readonly judge: JudgeSettings
}

export const defaultJudge: JudgeSettings = { provider: "default", model: "default", temperature: 0, maxTokens: 400 }

/** The registries with the built-in gates and strategies; plugins add to the same instances. */
export const layerRegistries = Layer.mergeAll(
  registerGates(builtinGates),
  registerStrategies(builtinStrategies)
).pipe(Layer.provideMerge(Layer.mergeAll(GateRegistry.layerEmpty, StrategyRegistry.layerEmpty, ScorerRegistry.layerEmpty)))

/** Subscribes the `on scan completed` handler to the bus. */
export const layerAcceptanceSubscription = Layer.effectDiscard(
  Effect.gen(function*() {
    const bus = yield* EventBus
    const acceptance = yield* AutomatedAcceptance
    yield* bus.subscribe("automated-acceptance", (event) =>
      event.type === "scan.completed" ? Effect.asVoid(acceptance.onScanCompleted(event.payload)) : Effect.void)
  })
)

/**
 * Every engine service. `extensions` are plugin layers (`Plugin.make`: gates, strategies,
 * scorers) built against the same registries.
 */
export const layer = (options: Options = { judge: defaultJudge }, extensions: ReadonlyArray<PluginLayer> = []) => {
  const registries = extensions.length === 0
    ? layerRegistries
    : Layer.mergeAll(...(extensions as [PluginLayer])).pipe(Layer.provideMerge(layerRegistries))
  const core = Layer.mergeAll(
    AgentRunner.layerNoDeps,
    RubricScorer.layerNoDeps(options.judge),
    WorldModelScorer.layer,
    FailureClusterer.layerOffline,
    Tournament.layer
  ).pipe(Layer.provideMerge(BudgetLedger.layer))
  const verdictEngine = VerdictEngine.layerNoDeps.pipe(Layer.provideMerge(registries))
  const phases = Layer.mergeAll(
    Preflight.layer,
    Observe.layer,
    Calibrate.layer,
    Diagnose.layer,
    Evaluate.layer,
    Optimize.layer,
    Safety.layer,
    Verdict.layer
  ).pipe(Layer.provideMerge(Layer.mergeAll(core, verdictEngine)))
  const lifecycle = AutomatedAcceptance.layer.pipe(Layer.provideMerge(ChangeSets.layer))
  return ScanOrchestrator.layer.pipe(
    Layer.provideMerge(phases),
    Layer.provideMerge(layerAcceptanceSubscription.pipe(Layer.provideMerge(lifecycle)))
  )
}
