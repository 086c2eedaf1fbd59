/**
 * One tax-prep scan in this process, for the `scan` suite (which runs each size and store in its
 * own process, so peak RSS and retained memory belong to that run alone) and by hand:
 *
 *   npm run --workspace bench scan-run -- --store memory|pglite|server --size N [--latency MS] [--concurrency C] [--phases] [--profile FILE] [--heap-snapshot PHASE]
 *
 * With the SIMULATED model. `--store server` reads the database from SPECTRAL_BENCH_PG_URL (the
 * application role) and SPECTRAL_BENCH_PG_OWNER_URL (the migrating owner); give it an empty database
 * (the `scan` suite makes one per run): on one that an earlier run left its scan in, this run is a
 * re-scan of the same workspace (another baseline, other calls, maybe another verdict). Prints one JSON line:
 * stimuli, store, wall and CPU ms, peak RSS (MiB), heap retained after GC with the scan's store
 * still open (KiB), model calls, traces (-1 above 20,000 stimuli: not read back) and the verdict. A 200-stimulus scan on a throwaway memory
 * store runs first, unmeasured (JIT warm-up); peak RSS includes it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { writeHeapSnapshot } from "node:v8"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Schema } from "effect"
import { SimulatedLanguageModel, Storage } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, ScanProgress, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { taxPrepWorkspace } from "../../examples/tax-prep/src/TaxPrepTeam.ts"

export interface ScanRunFigures {
  readonly store: string
  readonly stimuli: number
  readonly wallMs: number
  readonly cpuMs: number
  readonly peakRssMiB: number
  readonly retainedKiB: number
  readonly calls: number
  readonly traces: number
  readonly verdict: string
}

/** Above this many stimuli the stored traces are not read back to count them (`traces`: -1). */
const TRACE_COUNT_LIMIT = 20_000

const flag = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : undefined
}

const store = flag("store") ?? "memory"
const size = Number(flag("size") ?? "1000")
const latencyMs = Number(flag("latency") ?? "0")
const concurrency = Number(flag("concurrency") ?? "32")
/** `--phases`: each phase's wall time and memory (RSS, heap, peak RSS so far) on stderr as it finishes (the JSON line is unchanged). */
const phases = process.argv.includes("--phases")
/** `--profile FILE`: a V8 CPU profile of the measured scan alone (not start-up or the warm-up). */
const profile = flag("profile")
/** `--heap-snapshot PHASE`: a heap snapshot (./scan-<PHASE>.heapsnapshot) as that phase finishes (with `--phases`). */
const snapshotAt = flag("heap-snapshot")
if (!["memory", "pglite", "server"].includes(store) || !Number.isInteger(size) || size <= 0) {
  console.error(`usage: scan-run --store memory|pglite|server --size N (got --store ${store} --size ${flag("size")})`)
  process.exit(2)
}

const raw = taxPrepWorkspace("simulated-small")
const workspace = Schema.decodeUnknownSync(Workspace)({
  ...raw,
  framework: { ...raw.framework, evalSetSize: size, economics: { maxCallsPerScan: 100_000_000, maxTokensPerScan: 100_000_000_000, maxUsdPerScan: 10_000_000, costPerFailureUsd: 1 } }
})

const dir = mkdtempSync(join(tmpdir(), "spectral-scan-run-"))
const storage = (): Layer.Layer<any, any> => {
  if (store === "memory") return MemoryStorage.layer
  if (store === "pglite") return Storage.layerPglite({ dataDir: join(dir, "db") })
  const url = process.env["SPECTRAL_BENCH_PG_URL"]
  if (url === undefined) throw new Error("--store server needs SPECTRAL_BENCH_PG_URL (and SPECTRAL_BENCH_PG_OWNER_URL)")
  return Storage.layerPg({ url, ownerUrl: process.env["SPECTRAL_BENCH_PG_OWNER_URL"] ?? url })
}

const layer = ScanEngine.layer().pipe(
  Layer.provideMerge(Layer.mergeAll(storage(), WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1, latencyMs })))
)

// Warm-up on a throwaway memory store (JIT, module initialisation), so a figure is the steady
// state and not the first scan's compile time: 200 stimuli, then dropped before measuring.
{
  const warm = Schema.decodeUnknownSync(Workspace)({ ...workspace, framework: { ...workspace.framework, evalSetSize: 200 } })
  await Effect.runPromise(Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(warm)
    yield* (yield* ScanOrchestrator).run({ workspaceId: warm.id, seed: 2, concurrency })
  }).pipe(Effect.provide(ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1, latencyMs: 0 })))
  ))))
}

const session = profile === undefined ? undefined : new Session()
if (session !== undefined) {
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 250 })
}

const figures = await Effect.runPromise(Effect.gen(function*() {
  yield* (yield* WorkspaceRepo).upsert(workspace)
  if (session !== undefined) yield* Effect.promise(() => session.post("Profiler.start"))
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  let phaseStarted = started
  const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency }).pipe(
    phases
      ? Effect.provideService(ScanProgress, {
        enabled: false,
        report: (event) =>
          Effect.sync(() => {
            if (event._tag === "PhaseStarted") phaseStarted = performance.now()
            if (event._tag === "PhaseFinished" && !event.resumed && event.phase === snapshotAt) {
              console.error(`  heap snapshot: ${writeHeapSnapshot(`scan-${snapshotAt}.heapsnapshot`)}`)
            }
            if (event._tag === "PhaseFinished" && !event.resumed) {
              const memory = process.memoryUsage()
              console.error(`  ${event.phase.padEnd(10)} ${(performance.now() - phaseStarted).toFixed(0).padStart(7)} ms  rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB  heap ${(memory.heapUsed / 2 ** 20).toFixed(0)}/${(memory.heapTotal / 2 ** 20).toFixed(0)} MiB  external ${(memory.external / 2 ** 20).toFixed(0)} MiB  peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
            }
          })
      })
      : (effect) => effect
  )
  const wallMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  if (session !== undefined) {
    const { profile: taken } = yield* Effect.promise(() => session.post("Profiler.stop"))
    writeFileSync(profile!, JSON.stringify(taken))
  }
  globalThis.gc?.()
  const retained = process.memoryUsage().heapUsed - heapBefore
  // The peak before reading the traces back (which would load every one of them at once).
  const peakRssMiB = process.resourceUsage().maxRSS / 1024
  const traces = size > TRACE_COUNT_LIMIT ? -1 : (yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)).length
  return {
    store,
    stimuli: size,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB,
    retainedKiB: Math.max(0, retained) / 1024,
    calls: outcome.spend.total.calls,
    traces,
    verdict: outcome.verdict.outcome
  } satisfies ScanRunFigures
}).pipe(Effect.provide(layer)))
rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify(figures))
