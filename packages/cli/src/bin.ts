#!/usr/bin/env node
/**
 * The `spectral` bin: runs the command tree of `Spectral.ts` on Node. A failure is one
 * `{"error":"…"}` line on stdout and an exit code (2 bad input, 1 internal), never a stack trace
 * (`--verbose` adds the cause on stderr): see `CliFailure.ts`. Log lines go to stderr.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Logger } from "effect"
import { Command } from "effect/cli"
import { presenterLayer, reportUnhandled } from "./CliFailure.ts"
import { spectral, VERSION } from "./Spectral.ts"

spectral.pipe(
  Command.run({ version: VERSION }),
  Effect.catchCause(reportUnhandled),
  // Log lines (the engine's warnings, the cluster's) go to stderr: stdout is the command's JSON.
  Effect.provideService(Logger.LogToStderr, true),
  Effect.provide([presenterLayer, NodeServices.layer]),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
