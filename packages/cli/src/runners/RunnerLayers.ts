/**
 * Scans on runner processes: the layers of `spectral runner` (a socket runner of `effect/cluster`
 * carrying scan workflow executions, with the engine on the configured store) and of a process
 * that only submits and follows scans (`spectral scan --submit | --detach`, a client-only member).
 * Both keep the cluster's state on the PostgreSQL server (`ClusterStorage`).
 *
 * Failover: a runner that stops renewing its shard locks loses them after `shardLockExpiration`;
 * the survivors take them over at their next assignment refresh and replay the executions, whose
 * finished phases come back from their recorded activity results (timing: `ClusterTiming`).
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import { ClusterStorage, ClusterTiming } from "@spectral/adapters"
import { BlameChunkWorkflow, MeasureChunkWorkflow, type PluginLayer, RunnerCallPermits, ScanProgress, type ScanProgressReporter, ScanWorkflow } from "@spectral/engine"
import type { PackageVersion } from "@spectral/engine/contracts"
import { Config, Effect, Layer, Logger, Option, Schema, Semaphore } from "effect"
import { ClusterWorkflowEngine, RunnerAddress } from "effect/cluster"
import { hostLayer } from "../HostLayers.ts"

/** Shard-lock timing: failover in about 6–8 s (`ClusterTiming`). */
export const sharding = ClusterTiming.sharding

export interface RunnerOptions {
  readonly host: string
  readonly port: number
  /** Seed of the simulated model (`SPECTRAL_LLM=simulated`): the one an in-process scan of the same seed uses. */
  readonly modelSeed: number
  readonly plugins: ReadonlyArray<PluginLayer>
  readonly packages: ReadonlyArray<PackageVersion>
  /** Where the scans it carries report their progress (default: nowhere). */
  readonly progress?: ScanProgressReporter | undefined
}

/** The cluster's own log lines go to stderr: stdout is the commands' JSON. */
const logsToStderr = Layer.succeed(Logger.LogToStderr)(true)

/**
 * Stimuli per chunk a runner hands to the cluster, and failing runs per chunk of Diagnose's
 * counterfactual re-runs (`SPECTRAL_MEASURE_CHUNK`, default 50; 0: measure and diagnose on the scan's runner).
 */
export const MeasureChunk = Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), "SPECTRAL_MEASURE_CHUNK").pipe(Config.withDefault(50))
/** Chunks of one measurement out at once (`SPECTRAL_MEASURE_CHUNKS_IN_FLIGHT`, default 8). */
export const ChunksInFlight = Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1024 })), "SPECTRAL_MEASURE_CHUNKS_IN_FLIGHT").pipe(
  Config.withDefault(8)
)
/** Model calls in flight at once on this runner, over every scan and chunk it carries (`SPECTRAL_RUNNER_CONCURRENCY`, default: no limit). */
export const RunnerConcurrency = Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })), "SPECTRAL_RUNNER_CONCURRENCY").pipe(
  Config.option
)

/** How long the scans a runner carries hold their lease without its heartbeat (`SPECTRAL_SCAN_LEASE_MS`, default 30 000). */
export const ScanLeaseMs = Config.schema(Schema.Int.check(Schema.isBetween({ minimum: 10, maximum: 86_400_000 })), "SPECTRAL_SCAN_LEASE_MS").pipe(
  Config.withDefault(30_000)
)

/**
 * The workflows a runner carries: scans, whose measurements and counterfactual re-runs go out in
 * chunks (child workflows spread over the runners by key), and the chunks; all of them under the
 * runner's call permits.
 */
const workflows = (options: RunnerOptions) =>
  Layer.unwrap(Effect.gen(function*() {
    const chunkSize = yield* MeasureChunk
    const inFlight = yield* ChunksInFlight
    const concurrency = yield* RunnerConcurrency
    // Each take of a scan's lease names this runner (`host:port/pid`).
    const lease = Layer.succeed(ScanWorkflow.ScanLeaseSettings)({ durationMs: yield* ScanLeaseMs, owner: `${options.host}:${options.port}/${process.pid}` })
    const permits = Option.isSome(concurrency)
      ? Layer.effect(RunnerCallPermits)(Semaphore.make(concurrency.value))
      : Layer.empty
    // Diagnose's counterfactual re-runs go out like the measurements: `chunkSize` failing runs a chunk.
    const scans = chunkSize === 0 ? ScanWorkflow.layer : ScanWorkflow.layer.pipe(
      Layer.provide(Layer.mergeAll(MeasureChunkWorkflow.layerDispatch({ chunkSize, inFlight }), BlameChunkWorkflow.layerDispatch({ chunkSize, inFlight })))
    )
    return Layer.mergeAll(scans.pipe(Layer.provide(lease)), MeasureChunkWorkflow.layer, BlameChunkWorkflow.layer).pipe(
      Layer.provide(permits),
      Layer.provide(options.progress === undefined ? Layer.empty : Layer.succeed(ScanProgress)(options.progress))
    )
  }))

const buildRunner = (options: RunnerOptions) =>
  workflows(options).pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: { ...sharding, runnerAddress: Option.some(RunnerAddress.make(options.host, options.port)) }
      })
    ),
    Layer.provide(ClusterStorage.layerConfig),
    Layer.provideMerge(hostLayer(options.modelSeed, options.plugins, options.packages)),
    Layer.provide(logsToStderr)
  )

/** A runner: the scan workflow registered on the cluster's workflow engine, the engine on the configured store. */
export const runnerLayer = (options: RunnerOptions): Layer.Layer<never, RunnerSetupError> => buildRunner(options)

/**
 * Why a runner could not start: no server, a database behind the migrations or unreachable
 * (`ClusterUnavailable`, `StorageSetupError`), a bad setting, a port in use. Typed loosely: the
 * union the layers infer names engine internals no declaration can reach.
 */
export type RunnerSetupError = unknown

/** A member that submits scans and reads their results, running none. */
export const clientLayer = ClusterWorkflowEngine.layer.pipe(
  Layer.provideMerge(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: sharding })),
  Layer.provide(ClusterStorage.layerConfig),
  Layer.provide(logsToStderr)
)
