/**
 * `@spectral/cli`: the `spectral` bin, its command tree for hosts that embed the commands in
 * their own CLI (`Command.withSubcommands([spectral, …])`), and the host composition its commands
 * scan with (`hostLayer`: storage, event bus, worlds, model and judge from the environment).
 */
export { spectral, VERSION } from "./Spectral.ts"
export { commands } from "./commands/index.ts"
export { hostLayer, JudgeSettings, languageModelLayer, LlmChoice } from "./HostLayers.ts"
