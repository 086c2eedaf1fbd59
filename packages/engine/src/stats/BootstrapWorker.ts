/**
 * Worker-thread entry for `BootstrapWorkers`: fills the bootstrap distribution for a range of
 * blocks and posts it back. Holds no state between jobs.
 */
import { parentPort } from "node:worker_threads"
import { fillBootstrapBlocks, RESAMPLES_PER_BLOCK } from "./ResampleKernel.ts"
import type { ResamplePlan } from "./ResamplePlan.ts"

export interface BootstrapWorkerJob {
  readonly plan: ResamplePlan
  readonly seed: number
  readonly resamples: number
  readonly firstBlock: number
  readonly endBlock: number
}

parentPort?.on("message", (job: BootstrapWorkerJob) => {
  const count = Math.min(job.resamples, job.endBlock * RESAMPLES_PER_BLOCK) - job.firstBlock * RESAMPLES_PER_BLOCK
  const values = new Float64Array(count)
  fillBootstrapBlocks(job.plan, job.seed, job.resamples, job.firstBlock, job.endBlock, values)
  parentPort!.postMessage(values, [values.buffer])
})
