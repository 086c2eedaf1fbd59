/**
 * `spectral runner [--port N] [--host H] [--plugin MODULE…] [--model-seed N]`: a runner process of
 * the scan cluster. It joins the runners sharing the PostgreSQL server of `SPECTRAL_DATABASE_URL`
 * (the cluster's own tables on `SPECTRAL_CLUSTER_DATABASE_URL`, by default the owner's connection
 * `SPECTRAL_DATABASE_OWNER_URL`), listens for the other runners on HOST:PORT, and carries the scan
 * workflow executions of the shards it is assigned (`spectral scan --submit | --detach` submit
 * them). Prints `{"runner":"HOST:PORT","ready":true}` once it has joined, scan progress lines on
 * stderr, and runs until stopped. A database behind the engine's migrations, or no PostgreSQL
 * server configured, is refused before joining (exit 2).
 */
import { Console, Effect, Predicate } from "effect"
import { Command, Flag } from "effect/cli"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError } from "../CliIo.ts"
import { loadPlugins, pluginPackages } from "../PluginModules.ts"
import { makeReporter } from "../ScanProgressBar.ts"
import { runnerLayer } from "../runners/RunnerLayers.ts"

export const runner = Command.make(
  "runner",
  {
    port: Flag.Int("port").pipe(Flag.withDefault(34431), Flag.withDescription("Port this runner listens on for the other runners")),
    host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("Address the other runners reach this one at")),
    modelSeed: Flag.Int("model-seed").pipe(Flag.withDefault(1), Flag.withDescription("Seed of the simulated model (SPECTRAL_LLM=simulated)")),
    plugin: Flag.String("plugin").pipe(Flag.withDescription("A plugin module or package whose gates, strategies and scorers scans may use (repeatable)"), Flag.atLeast(0))
  },
  Effect.fn(function*({ port, host, modelSeed, plugin }) {
    if (port < 1 || port > 65_535) return yield* new CliInputError({ file: "--port", message: `${port} is not a port (1–65535)` })
    const plugins = yield* loadPlugins(plugin)
    const layer = runnerLayer({ host, port, modelSeed, plugins: plugins.map((p) => p.layer), packages: pluginPackages(plugins), progress: makeReporter(false) })
    yield* Effect.gen(function*() {
      yield* Console.log(JSON.stringify({ runner: `${host}:${port}`, ready: true }))
      return yield* Effect.never
    }).pipe(
      Effect.provide(layer),
      // No server, or a database behind the engine's migrations: what the user configured (exit 2).
      Effect.mapError((error) =>
        (Predicate.isTagged(error, "ClusterUnavailable") && Predicate.hasProperty(error, "reason") && error.reason !== "Connect") ||
          (Predicate.isTagged(error, "StorageSetupError") && Predicate.hasProperty(error, "reason") && error.reason === "SchemaOutdated")
          ? new CliInputError({ file: "runner", message: Predicate.hasProperty(error, "message") ? String(error.message) : String(error) })
          : error)
    )
  }, reportFailures)
).pipe(Command.withDescription("Run scans submitted to the cluster of runners on the configured PostgreSQL server (until stopped)"))
