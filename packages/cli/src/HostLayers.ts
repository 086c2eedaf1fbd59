/**
 * The default host composition the CLI runs scans with: storage from `SPECTRAL_DATABASE_URL` (or
 * embedded PGlite under `SPECTRAL_DATA_DIR`) with its durable event bus (outbox) and response cache,
 * the worlds' EvalSetProvider, the language model chosen by `SPECTRAL_LLM` (`simulated`, the default, or `openai`),
 * and the workspaces' own secrets (sealed under `SPECTRAL_SECRETS_KEK`; a workspace's `llm-api-key`
 * replaces `OPENAI_API_KEY` for its calls). With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the scan's own
 * spans are exported over OTLP/HTTP under the workspaces' content classes (`telemetryLayer`).
 */
import { Config, Effect, Layer, Option } from "effect"
import { EngineTelemetry, OpenAiCompatible, SimulatedLanguageModel, Storage, UsageLedger } from "@spectral/adapters"
import { KeyProvider, type PluginLayer, ScanEngine, WorkspaceSecrets } from "@spectral/engine"
import type { PackageVersion } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"

export const LlmChoice = Config.Literals(["simulated", "openai"], "SPECTRAL_LLM").pipe(Config.withDefault("simulated" as const))

/** The simulated model's delay per call (`SPECTRAL_SIMULATED_LATENCY_MS`, default 0: it answers at once). */
export const SimulatedLatency = Config.Int("SPECTRAL_SIMULATED_LATENCY_MS").pipe(Config.withDefault(0))

/** A file the simulated model appends a line to per call (`SPECTRAL_SIMULATED_CALL_LOG`; tests count calls across processes with it). */
export const SimulatedCallLog = Config.String("SPECTRAL_SIMULATED_CALL_LOG").pipe(Config.option)

const simulatedLayer = (seed: number) =>
  Layer.unwrap(Effect.map(Config.all([SimulatedLatency, SimulatedCallLog]), ([latencyMs, callLog]) =>
    SimulatedLanguageModel.layer({ seed, ...(latencyMs > 0 ? { latencyMs } : {}), ...(Option.isSome(callLog) ? { callLog: callLog.value } : {}) })))

export const languageModelLayer = (seed: number) =>
  Layer.unwrap(Effect.map(LlmChoice, (llm) => (llm === "openai" ? OpenAiCompatible.layerConfig : simulatedLayer(seed))))

const store = Storage.layerConfigWithEvents()

/** Workspace secrets on the configured store, the KEK from configuration. */
export const secretsLayer = WorkspaceSecrets.layerWithCredentials.pipe(Layer.provide(KeyProvider.layerConfig))

/** The configured store's layer type: what `hostLayerOn` builds the engine over. */
type StoreLayer = Layer.Layer<Storage.SqlStore, Storage.StorageSetupError | Config.ConfigError>

/** The provider on the store's SQL response cache (a re-run of an unchanged scan costs nothing). */
const hostLanguageModel = (seed: number, onStore: StoreLayer) =>
  Layer.unwrap(Effect.map(LlmChoice, (llm) =>
    llm === "openai"
      ? OpenAiCompatible.layerConfigNoDeps.pipe(Layer.provide(UsageLedger.UsageLedger.layerMemory), Layer.provide(onStore))
      : simulatedLayer(seed)))

/**
 * The judge (rubric authority) model: `SPECTRAL_JUDGE_MODEL`, by default the simulated model's
 * larger variant or `gpt-4.1-mini` — a priced model, so the scan's dollar budget counts its calls.
 */
export const JudgeSettings = Effect.gen(function*() {
  const llm = yield* LlmChoice
  const model = yield* Config.String("SPECTRAL_JUDGE_MODEL").pipe(Config.withDefault(llm === "openai" ? "gpt-4.1-mini" : "simulated-large"))
  return { provider: llm, model, temperature: 0, maxTokens: 400 }
})

/** The engine's own spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; nothing otherwise. */
export const telemetryLayer = EngineTelemetry.layerConfig

const engineOn = (onStore: StoreLayer, seed: number, plugins: ReadonlyArray<PluginLayer>, packages: ReadonlyArray<PackageVersion>) =>
  Layer.unwrap(Effect.map(JudgeSettings, (judge) => ScanEngine.layer({ judge, packages }, plugins))).pipe(
    Layer.provideMerge(Layer.mergeAll(secretsLayer.pipe(Layer.provideMerge(onStore)), WorldsEvalSetProvider.layer, hostLanguageModel(seed, onStore))),
    Layer.provideMerge(telemetryLayer)
  )

/** What `hostLayer` provides (the engine, the store, telemetry), as a type a host can name. */
export type HostLayer = ReturnType<typeof engineOn>

/**
 * The engine on the host's parts over `onStore` (whatever else that layer provides, such as the
 * embedded store's SqlClient for the in-process runner, is kept in the output).
 */
export const hostLayerOn = <X = never>(
  onStore: Layer.Layer<Storage.SqlStore | X, Storage.StorageSetupError | Config.ConfigError>,
  seed: number,
  plugins: ReadonlyArray<PluginLayer> = [],
  packages: ReadonlyArray<PackageVersion> = []
): Layer.Layer<Layer.Success<HostLayer> | X, Layer.Error<HostLayer>, Layer.Services<HostLayer>> =>
  // One `onStore` (built once: layers are shared by reference), its extra services kept in the output.
  Layer.merge(engineOn(onStore, seed, plugins, packages), onStore)

/** The engine on the host's parts; `plugins` (`Plugin.make` layers) add gates, strategies and scorers. */
export const hostLayer = (seed: number, plugins: ReadonlyArray<PluginLayer> = [], packages: ReadonlyArray<PackageVersion> = []) =>
  hostLayerOn(store, seed, plugins, packages)
