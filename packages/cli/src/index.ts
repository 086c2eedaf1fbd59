/**
 * `@spectral/cli`: the `spectral` bin, its command tree for hosts that embed the commands in
 * their own CLI (`Command.withSubcommands([spectral, …])`), the failure rule its bin applies
 * (`reportUnhandled`, `presenterLayer`: one `{"error"}` line on stdout, exit 2 bad input / 1 internal),
 * and the host composition its commands scan with (`hostLayer`: storage, event bus, worlds, model
 * and judge from the environment), and the host API `spectral serve` mounts (`SpectralApi`, `ApiServer.routes`,
 * the typed `ApiClient`).
 */
export { spectral, VERSION } from "./Spectral.ts"
export { commands } from "./commands/index.ts"
export { CliFailed, presenterLayer, reportUnhandled, Verbose } from "./CliFailure.ts"
export { CliInputError, DEFAULT_MAX_INPUT_BYTES, MaxInputBytes } from "./CliIo.ts"
export { hostLayer, hostLayerOn, JudgeSettings, languageModelLayer, LlmChoice, telemetryLayer } from "./HostLayers.ts"
export * as InProcessRunner from "./runners/InProcessRunner.ts"
/** The host API (`spectral serve`): its definition, routes, typed client, errors and keys. */
export { ApiKeysGroup, CardsGroup, ChangeSetDetail, ChangeSetsGroup, ScanDetail, ScanResult, ScansGroup, SpectralApi, WorkspacesGroup } from "./host/api/Api.ts"
export { ApiAuthorization, ApiCaller } from "./host/api/ApiAuthorization.ts"
export * as ApiClient from "./host/api/ApiClient.ts"
export { ApiConflict, ApiForbidden, ApiInvalid, ApiNotFound, ApiUnauthorized, ApiUnavailable } from "./host/api/ApiErrors.ts"
export { ApiKeyRefused, authenticateApiKey, hashApiKey, issueApiKey } from "./host/api/ApiKeys.ts"
export * as ApiServer from "./host/api/ApiServer.ts"
/** Plugin modules a host names (`--plugin`, `SPECTRAL_PLUGINS`): loaded, checked, as engine layers. */
export { type LoadedPlugin, loadPlugin, loadPlugins, pluginPackages } from "./PluginModules.ts"
