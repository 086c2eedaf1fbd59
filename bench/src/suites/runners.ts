/**
 * Scans on runner processes (`spectral runner`) on a throwaway PostgreSQL server, the simulated
 * model in every runner. Each runner is a separate OS process; this process submits through a
 * client-only member of the cluster (`ScanWorkflow.execute`) and stores the declarations.
 *
 * - **Speed-up**: K scans of K workspaces submitted at once, on 1, 2 and 4 runners, at 50 ms per
 *   model call and a fixed per-runner concurrency (`SPECTRAL_RUNNER_CONCURRENCY`): wall time,
 *   speed-up over one runner and its efficiency (speed-up / runners). A scan's execution runs on
 *   one runner; its measurements (the Observe baseline, the tournament's) go out in chunks of a
 *   few stimuli, child workflows spread over the runners by the hash of their key.
 * - **Durability overhead**: one scan at zero latency in this process on the same server
 *   (`ScanOrchestrator.run`, no workflow) against the same scan through the workflow on one
 *   runner (each phase an activity recorded by the cluster): ms per stimulus and the ratio, timed
 *   by the scan's own record (the cluster's handoff of the submission and its reply apart), each
 *   side warmed by an untimed scan of a small workspace first.
 * - **Recovery**: two runners; the one carrying a scan is killed with SIGKILL once it measures;
 *   seconds until the other reports progress of that scan (shard locks expire after 6 s,
 *   `ClusterTiming`), and whether the scan then completes.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import { ClusterStorage, ClusterTiming, SimulatedLanguageModel, Storage } from "@spectral/adapters"
import { findPostgresBinaries, startThrowawayPostgres } from "@spectral/adapters/testing"
import { ScanEngine, ScanOrchestrator, ScanRepo, ScanWorkflow, WorkspaceRepo } from "@spectral/engine"
import type { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { Console, Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { ClusterWorkflowEngine } from "effect/cluster"
import type { Suite } from "../Suite.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const bin = join(root, "packages", "cli", "src", "bin.ts")
const example = JSON.parse(readFileSync(join(root, "examples", "tax-prep", "workspace.json"), "utf8")) as Workspace

const workspaceOf = (id: string, evalSetSize: number): Workspace => ({
  ...example,
  id,
  framework: { ...example.framework, evalSetSize, optimization: { ...example.framework.optimization, maxCandidates: 3, maxRounds: 1 } }
})

interface Runner {
  readonly child: ChildProcess
  readonly stderr: () => string
  readonly ready: Promise<void>
}

const startRunner = (port: number, env: Record<string, string>): Runner => {
  const child = spawn(process.execPath, ["--conditions=@spectral/source", bin, "runner", "--port", String(port)], {
    env: { ...process.env, ...env, SPECTRAL_LLM: "simulated" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8")
      if (out.includes(`"ready":true`)) resolve()
    })
    child.on("exit", (code) => reject(new Error(`runner ${port} exited (${code}): ${(out + err).slice(-2000)}`)))
  })
  child.stderr!.on("data", (chunk: Buffer) => void (err += chunk.toString("utf8")))
  return { child, stderr: () => err, ready }
}

const stopAll = (runners: ReadonlyArray<Runner>) =>
  Effect.promise(() =>
    Promise.all(runners.map((r) =>
      new Promise<void>((resolve) => {
        if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve()
        r.child.once("exit", () => resolve())
        r.child.kill("SIGKILL")
      })
    ))
  )

/** Start `count` runners and wait until all joined and shards settled. */
const startRunners = (count: number, basePort: number, env: Record<string, string>) =>
  Effect.gen(function*() {
    const runners = Array.from({ length: count }, (_, i) => startRunner(basePort + i, env))
    yield* Effect.promise(() => Promise.all(runners.map((r) => r.ready)))
    // Let shard assignments settle before work arrives (executions move when a runner joins late).
    yield* Effect.sleep(Duration.seconds(4))
    return runners
  })

/** The simulated model's latency in the speed-up runs (`SPECTRAL_BENCH_LATENCY_MS` to try another). */
const LATENCY_MS = Number(process.env["SPECTRAL_BENCH_LATENCY_MS"] ?? 50)
/** Each runner's fixed concurrency in the speed-up runs (`SPECTRAL_RUNNER_CONCURRENCY`). */
const RUNNER_CONCURRENCY = 8
/** Stimuli per chunk in the speed-up runs (`SPECTRAL_MEASURE_CHUNK`; `SPECTRAL_BENCH_CHUNK` to try another): small, so hashing spreads them evenly. */
const CHUNK = Number(process.env["SPECTRAL_BENCH_CHUNK"] ?? 5)

/** CPU seconds (user + system) a live process has used so far, from /proc (0 where there is none). */
const cpuSecondsOf = (pid: number | undefined): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

const waitFor = (condition: () => boolean, timeoutMs: number) =>
  Effect.sync(condition).pipe(
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (done) => done }),
    Effect.timeoutOption(Duration.millis(timeoutMs))
  )

export const runnersSuite: Suite = {
  name: "runners",
  description: "Scans on 1, 2 and 4 runner processes (speed-up at 50 ms latency), the workflow's durability overhead, recovery after a runner kill",
  run: ({ quick }) =>
    Effect.gen(function*() {
      const found = findPostgresBinaries()
      if (found === undefined) {
        yield* Console.log("runners: skipped (no PostgreSQL binaries under /usr/lib/postgresql)")
        return {}
      }
      const pg = yield* Effect.acquireRelease(Effect.promise(() => startThrowawayPostgres(found)), (started) => Effect.sync(() => started.stop()))
      const info = pg.info
      yield* Storage.migratePg(Redacted.make(info.ownerUrl))
      const env = { SPECTRAL_DATABASE_URL: info.appUrl, SPECTRAL_DATABASE_OWNER_URL: info.ownerUrl }
      const store = Storage.layerPgWithEvents({ url: info.appUrl })
      const client = ClusterWorkflowEngine.layer.pipe(
        Layer.provideMerge(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: ClusterTiming.sharding })),
        Layer.provide(ClusterStorage.layerUrl(Redacted.make(info.ownerUrl)))
      )
      const basePort = 37_000 + (process.pid % 1_000) * 8
      const figures: Record<string, number> = {}

      // Speed-up over runners: each runner makes at most RUNNER_CONCURRENCY model calls at once (its
      // fixed concurrency), and the scans' measurements go out in chunks of CHUNK stimuli (child
      // workflows, spread over the runners by key), all of them out at once.
      const scans = Number(process.env["SPECTRAL_BENCH_SCANS"] ?? (quick ? 2 : 8))
      const runnerCounts = quick ? [1, 2] : [1, 2, 4]
      const small = quick ? 60 : 100
      const chunking = { SPECTRAL_RUNNER_CONCURRENCY: String(RUNNER_CONCURRENCY), SPECTRAL_MEASURE_CHUNK: String(CHUNK), SPECTRAL_MEASURE_CHUNKS_IN_FLIGHT: "64" }
      figures["runner_concurrency"] = RUNNER_CONCURRENCY
      figures["chunk_stimuli"] = CHUNK
      yield* Effect.gen(function*() {
        for (let i = 0; i < scans; i++) yield* (yield* WorkspaceRepo).upsert(workspaceOf(`bench-runners-${i}`, small))
        yield* (yield* WorkspaceRepo).upsert(workspaceOf("bench-runners-warmup", 40))
      }).pipe(Effect.provide(store))
      let single = 0
      for (const count of runnerCounts) {
        const runners = yield* startRunners(count, basePort, { ...env, ...chunking, SPECTRAL_SIMULATED_LATENCY_MS: String(LATENCY_MS) })
        // Runners are long-lived: one untimed scan first, whose chunks reach every runner, so the
        // timed round measures warm processes (not each new process compiling the engine's code).
        yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: "bench-runners-warmup", requestId: `warmup-${count}`, seed: 2, concurrency: 64 }).pipe(Effect.provide(client))
        const started = Date.now()
        const cpuBefore = runners.reduce((sum, r) => sum + cpuSecondsOf(r.child.pid), 0)
        yield* Effect.forEach(
          Array.from({ length: scans }, (_, i) => i),
          (i) => ScanWorkflow.ScanWorkflow.execute({ workspaceId: `bench-runners-${i}`, requestId: `speedup-${count}`, seed: 1, concurrency: 64 }),
          { concurrency: "unbounded" }
        ).pipe(Effect.provide(client))
        const wall = (Date.now() - started) / 1000
        const cpu = runners.reduce((sum, r) => sum + cpuSecondsOf(r.child.pid), 0) - cpuBefore
        yield* stopAll(runners)
        figures[`runner_cpu_s_${count}_runners`] = cpu
        if (count === 1) single = wall
        const speedUp = single / wall
        figures[`wall_s_${count}_runners`] = wall
        figures[`speedup_${count}_runners`] = speedUp
        figures[`efficiency_${count}_runners`] = speedUp / count
        yield* Console.log(
          `runners: ${scans} scans × ${small} stimuli at ${LATENCY_MS} ms/call, ${RUNNER_CONCURRENCY} calls at once per runner, chunks of ${CHUNK} stimuli, on ${count} runner(s): ` +
            `${wall.toFixed(1)} s, speed-up ${speedUp.toFixed(2)} (${((speedUp / count) * 100).toFixed(0)}% of linear); the runners used ${cpu.toFixed(1)} s of CPU ` +
            `(${(cpu / wall).toFixed(2)} of the machine's ${availableParallelism()} cores)`
        )
      }

      if (process.env["SPECTRAL_BENCH_SPEEDUP_ONLY"] === "1") return figures
      // Durability overhead at zero latency: the same scan in-process and through the workflow on one
      // runner, timed by the scan's own record (created → last written: the execution itself), so
      // what handing a submission to the cluster and its reply back costs (the cluster's polling,
      // a fixed cost a scan) is told apart and reported on its own.
      const size = quick ? 60 : 320
      // Each side timed twice (on workspaces of their own: a second scan of one workspace is a re-scan), the faster kept.
      const REPEATS = 2
      const idsOf = (prefix: string) => Array.from({ length: REPEATS }, (_, i) => `${prefix}-${i}`)
      const inProcessIds = idsOf("bench-overhead-local")
      const workflowIds = idsOf("bench-overhead-workflow")
      const engine = ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(store, WorldsEvalSetProvider.layer, SimulatedLanguageModel.layer({ seed: 1 }))))
      // Both sides warmed by one untimed scan of a small workspace (the code compiled, the pools open):
      // the figures compare a scan's cost, not a new process's start.
      const warmId = "bench-overhead-warm"
      /** The completed scan of the workspace: its own duration, and its calls. */
      const recorded = (workspaceId: string) =>
        Effect.gen(function*() {
          const scan = (yield* (yield* ScanRepo).list(workspaceId)).find((s) => s.state === "completed")
          return { ms: scan === undefined ? Number.NaN : Date.parse(scan.updatedAt) - Date.parse(scan.createdAt), calls: scan?.spend?.total.calls ?? 0 }
        }).pipe(Effect.provide(store))
      const local = yield* Effect.gen(function*() {
        const repo = yield* WorkspaceRepo
        for (const id of [...inProcessIds, ...workflowIds]) yield* repo.upsert(workspaceOf(id, size))
        yield* repo.upsert(workspaceOf(warmId, 40))
        const orchestrator = yield* ScanOrchestrator
        yield* orchestrator.run({ workspaceId: warmId, seed: 2, concurrency: 8 })
        const runs = []
        for (const id of inProcessIds) {
          yield* orchestrator.run({ workspaceId: id, seed: 1, concurrency: 8 })
          runs.push(yield* recorded(id))
        }
        return { ms: Math.min(...runs.map((r) => r.ms)), wall: Number.NaN, calls: runs[0]!.calls }
      }).pipe(Effect.provide(engine))
      // Through the workflow: measurements on the scan's runner (chunks off), then in chunks of the
      // default size (each a child workflow with its own recorded activity).
      const through = (requestId: string, extra: Record<string, string>) =>
        Effect.gen(function*() {
          const one = yield* startRunners(1, basePort, { ...env, ...extra })
          yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: warmId, requestId: `${requestId}-warm`, seed: 2, concurrency: 8 }).pipe(Effect.provide(client))
          const runs = []
          for (const id of workflowIds) {
            const t = Date.now()
            yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: id, requestId, seed: 1, concurrency: 8 }).pipe(Effect.provide(client))
            runs.push({ ...(yield* recorded(id)), wall: Date.now() - t })
          }
          yield* stopAll(one)
          const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a))
          return best
        })
      const durable = yield* through("overhead", { SPECTRAL_MEASURE_CHUNK: "0" })
      const chunked = yield* through("overhead-chunked", {})
      figures["in_process_ms_per_stimulus"] = local.ms / size
      figures["workflow_ms_per_stimulus"] = durable.ms / size
      figures["durability_overhead_ratio"] = durable.ms / local.ms
      figures["workflow_chunked_ms_per_stimulus"] = chunked.ms / size
      figures["durability_overhead_ratio_chunked"] = chunked.ms / local.ms
      figures["workflow_handoff_ms"] = durable.wall - durable.ms
      figures["in_process_calls_per_stimulus"] = local.calls / size
      figures["workflow_calls_per_stimulus"] = durable.calls / size
      yield* Console.log(
        `runners: zero latency, ${size} stimuli, timed by the scan's record: in-process ${(local.ms / size).toFixed(2)} ms/stimulus, ` +
          `through the workflow ${(durable.ms / size).toFixed(2)} ms/stimulus (×${(durable.ms / local.ms).toFixed(2)}), ` +
          `with measurements in chunks of 50 ${(chunked.ms / size).toFixed(2)} ms/stimulus (×${(chunked.ms / local.ms).toFixed(2)}); ` +
          `handing the submission over and its reply back ${(durable.wall - durable.ms).toFixed(0)} ms a scan; ` +
          `model calls per stimulus ${(local.calls / size).toFixed(1)} in-process, ${(durable.calls / size).toFixed(1)} through the workflow`
      )

      // Recovery after the carrier is killed.
      const recoveryId = "bench-recovery"
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspaceOf(recoveryId, quick ? 60 : 160))
      }).pipe(Effect.provide(store))
      const pair = yield* startRunners(2, basePort, { ...env, SPECTRAL_SIMULATED_LATENCY_MS: "20" })
      yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: recoveryId, requestId: "recovery", seed: 1, concurrency: 8 }, { discard: true }).pipe(Effect.provide(client))
      const marker = `${recoveryId}:scan:1: observe started`
      yield* waitFor(() => pair.some((r) => r.stderr().includes(marker)), 120_000)
      const carrier = pair.find((r) => r.stderr().includes(marker))
      const survivor = pair.find((r) => r !== carrier)
      let recovery = Number.NaN
      let completed = 0
      if (carrier !== undefined && survivor !== undefined) {
        const killedAt = Date.now()
        carrier.child.kill("SIGKILL")
        const moved = yield* waitFor(() => survivor.stderr().includes(`${recoveryId}:scan:1:`), 120_000)
        recovery = moved._tag === "Some" ? (Date.now() - killedAt) / 1000 : Number.NaN
        const ended = yield* Effect.gen(function*() {
          const repo = yield* ScanRepo
          return yield* repo.get(recoveryId, `${recoveryId}:scan:1`).pipe(
            Effect.repeat({ schedule: Schedule.spaced("500 millis"), until: (s) => s.state !== "running" && s.state !== "scheduled" }),
            Effect.timeoutOption(Duration.minutes(3))
          )
        }).pipe(Effect.provide(store))
        completed = ended._tag === "Some" && ended.value.state === "completed" ? 1 : 0
      }
      yield* stopAll(pair)
      figures["recovery_s_after_kill"] = recovery
      figures["recovered_scan_completed"] = completed
      yield* Console.log(`runners: carrier killed mid-observe: the other runner went on after ${recovery.toFixed(1)} s; the scan ${completed === 1 ? "completed" : "did not complete"}`)
      return figures
    }).pipe(Effect.scoped)
}
