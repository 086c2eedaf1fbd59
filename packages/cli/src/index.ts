/**
 * `@spectral/cli`: the `spectral` bin, and its command tree for hosts that embed the commands in
 * their own CLI (`Command.withSubcommands([spectral, …])`).
 */
export { spectral, VERSION } from "./Spectral.ts"
export { commands } from "./commands/index.ts"
