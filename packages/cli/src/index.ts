/**
 * `@spectral/cli`: the `spectral` bin, its command tree for hosts that embed the commands in
 * their own CLI (`Command.withSubcommands([spectral, …])`), the failure rule its bin applies
 * (`reportUnhandled`, `presenterLayer`: one `{"error"}` line on stdout, exit 2 bad input / 1 internal),
 * and the host composition its commands scan with (`hostLayer`: storage, event bus, worlds, model
 * and judge from the environment).
 */
export { spectral, VERSION } from "./Spectral.ts"
export { commands } from "./commands/index.ts"
export { CliFailed, presenterLayer, reportUnhandled, Verbose } from "./CliFailure.ts"
export { CliInputError, DEFAULT_MAX_INPUT_BYTES, MaxInputBytes } from "./CliIo.ts"
export { hostLayer, JudgeSettings, languageModelLayer, LlmChoice } from "./HostLayers.ts"
