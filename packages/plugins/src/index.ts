/**
 * `@spectral/plugins`: optional strategies (and the means to add gates and scorers) built only on
 * the engine's public API (`@spectral/engine`, `@spectral/engine/contracts`). `OptimizerPlugins`
 * is the Layer that registers the DSPy-style optimizer and the GEPA-style evolution; pass it to
 * `ScanEngine.layer(options, [OptimizerPlugins])`.
 */
import { Plugin } from "@spectral/engine"
import { dspyOptimizer } from "./DspyOptimizer.ts"
import { gepaEvolution } from "./GepaEvolution.ts"

export * from "./DspyOptimizer.ts"
export * from "./GepaEvolution.ts"

export const optimizerPluginDefinition = { name: "plugin", strategies: [dspyOptimizer(), gepaEvolution()] } as const

export const OptimizerPlugins = Plugin.make(optimizerPluginDefinition)

/** What `spectral scan --plugin @spectral/plugins` loads (a module's `plugin` export). */
export const plugin = optimizerPluginDefinition
