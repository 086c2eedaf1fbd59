/**
 * The `spectral` command tree: every subcommand in `commands/` under one root, with the global
 * flags every command takes (`--verbose`, `--max-input-bytes`). `bin.ts` runs it; a host that wants
 * the same commands inside its own CLI (or adds its own subcommands) imports it from `@spectral/cli`.
 */
import { Command } from "effect/cli"
import { createRequire } from "node:module"
import { MaxInputBytes } from "./CliIo.ts"
import { Verbose } from "./CliFailure.ts"
import { commands } from "./commands/index.ts"

/** The installed package's version (`../package.json` from both `src/` and `dist/`), never typed twice. */
export const VERSION: string = (createRequire(import.meta.url)("../package.json") as { readonly version: string }).version

export const spectral = Command.make("spectral").pipe(
  Command.withDescription("Spectral engine: scans, statistics, clustering, worlds and verdicts"),
  Command.withSubcommands(commands),
  Command.withGlobalFlags([Verbose, MaxInputBytes])
)
