#!/usr/bin/env node
/**
 * The `spectral` command. Each subcommand lives in `commands/`; this file only composes them.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { commands } from "./commands/index.ts"

const spectral = Command.make("spectral").pipe(
  Command.withDescription("Spectral engine: scans, statistics, clustering, worlds and verdicts"),
  Command.withSubcommands(commands)
)

spectral.pipe(
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
