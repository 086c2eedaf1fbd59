/**
 * The Effect edge of the bootstrap: `bootstrapCIEffect` validates (failing with the typed
 * `BootstrapInputError`) and, for large jobs, spreads the resample blocks over worker threads.
 * Blocks carry their own random streams, so the interval is bit-identical for any worker count.
 */
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import {
  type BootstrapInput,
  BootstrapInputError,
  type BootstrapInterval,
  finiteInterval,
  intervalFromDistribution,
  type PreparedBootstrap,
  prepareBootstrap,
  runPrepared
} from "./BootstrapCI.ts"
import type { BootstrapWorkerJob } from "./BootstrapWorker.ts"
import { blockCount, RESAMPLES_PER_BLOCK } from "./ResampleKernel.ts"

/** Row draws (n × B) below which starting threads costs more than it saves (~0.3 s on one core). */
export const WORKER_THRESHOLD = 2 ** 27

export interface BootstrapEffectInput extends BootstrapInput {
  /** Worker threads: a count (1 = this thread) or `"auto"` (default: all cores, only above `WORKER_THRESHOLD`). */
  readonly workers?: number | "auto" | undefined
}

/** How many threads a prepared bootstrap will use. */
export const plannedWorkers = (prepared: PreparedBootstrap, workers: number | "auto" | undefined): number => {
  const blocks = blockCount(prepared.resamples)
  if (prepared.degenerateReason !== null || prepared.drawsPerResample === 0) return 1
  if (workers === undefined || workers === "auto") {
    return prepared.drawsPerResample * prepared.resamples < WORKER_THRESHOLD
      ? 1
      : Math.min(availableParallelism(), blocks)
  }
  return Math.min(workers, blocks)
}

// The worker module sits beside this one: `.ts` when run from the sources, `.js` from the build.
const WORKER_URL = new URL(`./BootstrapWorker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url)

const runJob = (job: BootstrapWorkerJob) =>
  Effect.callback<Float64Array>((resume) => {
    const worker = new Worker(WORKER_URL)
    worker.once("message", (values: Float64Array) => {
      resume(Effect.succeed(values))
      void worker.terminate()
    })
    worker.once("error", (error) => resume(Effect.die(error)))
    worker.postMessage(job)
    return Effect.sync(() => void worker.terminate())
  })

/** The bootstrap distribution drawn by `threads` workers, each taking a contiguous run of blocks. */
export const distributionOnWorkers = Effect.fnUntraced(function*(prepared: PreparedBootstrap, threads: number) {
  const blocks = blockCount(prepared.resamples)
  const jobs: Array<BootstrapWorkerJob> = []
  for (let w = 0; w < threads; w++) {
    const firstBlock = Math.floor((w * blocks) / threads)
    const endBlock = Math.floor(((w + 1) * blocks) / threads)
    if (endBlock > firstBlock) {
      jobs.push({ plan: prepared.plan, seed: prepared.seed, resamples: prepared.resamples, firstBlock, endBlock })
    }
  }
  const parts = yield* Effect.all(jobs.map(runJob), { concurrency: "unbounded" })
  const distribution = new Float64Array(prepared.resamples)
  parts.forEach((part, i) => distribution.set(part, jobs[i].firstBlock * RESAMPLES_PER_BLOCK))
  return distribution
})

/**
 * A bootstrap confidence interval as an Effect: fails with `BootstrapInputError` on invalid
 * input; uses worker threads when asked (or, with `"auto"`, when the job is large). Same interval
 * as `bootstrapCI` for the same input and seed, whatever the number of workers.
 */
export const bootstrapCIEffect = Effect.fn("BootstrapCI.bootstrapCIEffect")(function*(
  input: BootstrapEffectInput
): Effect.fn.Return<BootstrapInterval, BootstrapInputError> {
  const { workers } = input
  if (workers !== undefined && workers !== "auto" && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) {
    return yield* new BootstrapInputError({
      reason: "InvalidWorkers",
      field: "workers",
      message: `workers is ${String(workers)}: it must be "auto" or an integer from 1 to 256`
    })
  }
  const prepared = yield* Effect.fromResult(prepareBootstrap(input))
  const threads = plannedWorkers(prepared, workers)
  if (threads <= 1) return yield* Effect.fromResult(runPrepared(prepared))
  const distribution = yield* distributionOnWorkers(prepared, threads)
  return yield* Effect.fromResult(finiteInterval(prepared, intervalFromDistribution(prepared, distribution)))
})

