/**
 * The engine as one Layer: every phase, the orchestrator, the gate and strategy registries with
 * the built-ins, the change-set lifecycle, and the `on scan completed` handler subscribed to the
 * bus. It still needs the ports: `LanguageModel`, `EvalSetProvider`, the repositories and the
 * `EventBus` (see `@spectral/adapters` for drivers, `MemoryStorage` / `EventBus.layerMemory` here).
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
import { Calibrate } from "./Calibrate.ts"
import { Diagnose, FailureClusterer } from "./Diagnose.ts"
import { Evaluate } from "./Evaluate.ts"
import { Observe } from "./Observe.ts"
import { Optimize } from "./Optimize.ts"
import { Preflight } from "./Preflight.ts"
import { Safety } from "./Safety.ts"
import { ScanOrchestrator } from "./ScanOrchestrator.ts"
import { Verdict } from "./Verdict.ts"

export interface ScanEngineOptions {
  /** The judge model for the rubric authority. */
  readonly judge: JudgeSettings
}

export const defaultJudge: JudgeSettings = { provider: "default", model: "default", temperature: 0, maxTokens: 400 }

/** The registries with the built-in gates and strategies; plugins add to the same instances. */
export const Registries = {
  layer: Layer.mergeAll(
    registerGates(builtinGates),
    registerStrategies(builtinStrategies)
  ).pipe(Layer.provideMerge(Layer.mergeAll(GateRegistry.layerEmpty, StrategyRegistry.layerEmpty)))
}

/** Subscribes the `on scan completed` handler to the bus. */
export const AcceptanceSubscription = Layer.effectDiscard(
  Effect.gen(function*() {
    const bus = yield* EventBus
    const acceptance = yield* AutomatedAcceptance
    yield* bus.subscribe("automated-acceptance", (event) =>
      event.type === "scan.completed" ? Effect.asVoid(acceptance.onScanCompleted(event.payload)) : Effect.void)
  })
)

export const ScanEngine = {
  /**
   * Every engine service. `extensions` are plugin layers (gates, strategies) built against the
   * same registries.
   */
  layer: (options: ScanEngineOptions = { judge: defaultJudge }, extensions: ReadonlyArray<Layer.Layer<never, never, GateRegistry | StrategyRegistry>> = []) => {
    const registries = extensions.length === 0
      ? Registries.layer
      : Layer.mergeAll(...(extensions as [Layer.Layer<never, never, GateRegistry | StrategyRegistry>])).pipe(Layer.provideMerge(Registries.layer))
    const core = Layer.mergeAll(
      AgentRunner.layerNoDeps,
      RubricScorer.layerNoDeps(options.judge),
      WorldModelScorer.layer,
      FailureClusterer.layerOffline
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
      Layer.provideMerge(AcceptanceSubscription.pipe(Layer.provideMerge(lifecycle)))
    )
  }
}
