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
import type { PackageVersion, ScanRecord } from "../contracts/index.ts"
import { replayGates, ScanProvenance } from "./ScanReplay.ts"

export interface Options {
  /** The judge model for the rubric authority. */
  readonly judge: JudgeSettings
  /** Packages the engine is built with beyond `@spectral/engine` (plugin packages), for scan records. */
  readonly packages?: ReadonlyArray<PackageVersion> | undefined
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

const registriesWith = (extensions: ReadonlyArray<PluginLayer>) =>
  extensions.length === 0
    ? layerRegistries
    : Layer.mergeAll(...(extensions as [PluginLayer])).pipe(Layer.provideMerge(layerRegistries))

const compose = <E>(options: Options, verdictEngine: Layer.Layer<VerdictEngine | GateRegistry | StrategyRegistry | ScorerRegistry, E>) => {
  const core = Layer.mergeAll(
    AgentRunner.layerNoDeps,
    RubricScorer.layerNoDeps(options.judge),
    WorldModelScorer.layer,
    FailureClusterer.layerOffline,
    Tournament.layer,
    ScanProvenance.layer(options)
  ).pipe(Layer.provideMerge(BudgetLedger.layer))
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

/**
 * Every engine service. `extensions` are plugin layers (`Plugin.make`: gates, strategies,
 * scorers) built against the same registries.
 */
export const layer = (options: Options = { judge: defaultJudge }, extensions: ReadonlyArray<PluginLayer> = []) =>
  compose(options, VerdictEngine.layerNoDeps.pipe(Layer.provideMerge(registriesWith(extensions))))

/**
 * The engine a replay runs on (`spectral scan --replay`): as `layer`, but the verdict runs exactly
 * the record's gates with their recorded settings and only the recorded strategies are used; fails
 * with `ScanReplayError` naming a recorded plugin, gate, strategy or scorer that is not loaded.
 * Pass the record's judge as `options.judge`.
 */
export const layerReplay = (options: Options, record: ScanRecord, extensions: ReadonlyArray<PluginLayer> = []) =>
  compose(options, VerdictEngine.layerNoDeps.pipe(Layer.provide(replayGates(record)), Layer.provideMerge(registriesWith(extensions))))

export { ScanProvenance, ScanReplayError, storedRecord, workspaceOfScanId } from "./ScanReplay.ts"
