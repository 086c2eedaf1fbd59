#!/usr/bin/env node
/**
 * The `spectral` bin: runs the command tree of `Spectral.ts` on Node.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { spectral, VERSION } from "./Spectral.ts"

spectral.pipe(
  Command.run({ version: VERSION }),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
