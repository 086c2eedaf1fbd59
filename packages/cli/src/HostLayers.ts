/**
 * The default host composition the CLI runs scans with: storage from `SPECTRAL_DATABASE_URL` (or
 * embedded PGlite under `SPECTRAL_DATA_DIR`), the worlds' EvalSetProvider, the in-memory event bus,
 * and the language model chosen by `SPECTRAL_LLM` (`simulated`, the default, or `openai`).
 */
import { Config, Effect, Layer } from "effect"
import { OpenAiCompatible, SimulatedLanguageModel, Storage } from "@spectral/adapters"
import { EventBus, ScanEngine } from "@spectral/engine"
import { WorldsEvalSetProvider } from "@spectral/worlds"

export const LlmChoice = Config.Literals(["simulated", "openai"], "SPECTRAL_LLM").pipe(Config.withDefault("simulated" as const))

export const languageModelLayer = (seed: number) =>
  Layer.unwrap(Effect.map(LlmChoice, (llm) => (llm === "openai" ? OpenAiCompatible.layerConfig : SimulatedLanguageModel.layer({ seed }))))

export const hostLayer = (seed: number) =>
  ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(Storage.layerConfig, WorldsEvalSetProvider.layer, EventBus.layerMemory, languageModelLayer(seed)))
  )
