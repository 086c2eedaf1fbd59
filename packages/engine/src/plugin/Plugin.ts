/**
 * The one public way to extend the engine: `Plugin.make({ name, gates, strategies, scorers })`
 * returns a Layer that registers everything into the engine's registries (pass it to
 * `ScanEngine.layer(options, [plugin])`). A plugin's gate, strategy or scorer is indistinguishable
 * from a built-in one; names are namespaced `<plugin>/<name>` when they are not already, and the
 * plugin's spec (its name and what it registered) can be stored with a scan's decision log.
 */
import { Layer } from "effect"
import { type Gate, GateRegistry, registerGates } from "../gates/Gate.ts"
import { registerStrategies, type Strategy, StrategyRegistry } from "../strategies/Strategy.ts"
import { type ObjectiveScorer, registerScorers, ScorerRegistry } from "./ScorerRegistry.ts"

export interface PluginDefinition {
  readonly name: string
  readonly gates?: ReadonlyArray<Gate>
  readonly strategies?: ReadonlyArray<Strategy>
  readonly scorers?: ReadonlyArray<ObjectiveScorer>
}

export interface PluginSpec {
  readonly name: string
  readonly gates: ReadonlyArray<string>
  readonly strategies: ReadonlyArray<string>
  readonly scorers: ReadonlyArray<string>
}

/** A plugin entry's registered name: `<plugin>/<name>` unless it already names its namespace. */
export const namespaced = (plugin: string, name: string) => (name.includes("/") ? name : `${plugin}/${name}`)

export type PluginLayer = Layer.Layer<never, never, GateRegistry | StrategyRegistry | ScorerRegistry>

export const Plugin = {
  /** The registrations of a plugin, as one Layer over the engine's registries. */
  make: (definition: PluginDefinition): PluginLayer => {
    const gates = (definition.gates ?? []).map((g) => ({ ...g, name: namespaced(definition.name, g.name) }))
    const strategies = (definition.strategies ?? []).map((s) => ({ ...s, name: namespaced(definition.name, s.name) }))
    const scorers = (definition.scorers ?? []).map((s) => ({ ...s, name: namespaced(definition.name, s.name) }))
    return Layer.mergeAll(registerGates(gates), registerStrategies(strategies), registerScorers(scorers))
  },
  /** What a plugin registers, by name (stored with scans for traceability). */
  spec: (definition: PluginDefinition): PluginSpec => ({
    name: definition.name,
    gates: (definition.gates ?? []).map((g) => namespaced(definition.name, g.name)),
    strategies: (definition.strategies ?? []).map((s) => namespaced(definition.name, s.name)),
    scorers: (definition.scorers ?? []).map((s) => namespaced(definition.name, s.name))
  })
} as const
