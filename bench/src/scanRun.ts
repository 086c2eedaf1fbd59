/**
 * One tax-prep scan in this process, for the `scan` suite (which runs each size and store in its
 * own process, so peak RSS and retained memory belong to that run alone) and by hand:
 *
 *   npm run --workspace bench scan-run -- --store memory|pglite|server --size N [--latency MS] [--concurrency C]
 *
 * With the SIMULATED model. `--store server` reads the database from SPECTRAL_BENCH_PG_URL (the
 * application role) and SPECTRAL_BENCH_PG_OWNER_URL (the migrating owner). Prints one JSON line:
 * stimuli, store, wall and CPU ms, peak RSS (MiB), heap retained after GC with the scan's store
 * still open (KiB), model calls, traces and the verdict. A 200-stimulus scan on a throwaway memory
 * store runs first, unmeasured (JIT warm-up); peak RSS includes it.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Schema } from "effect"
import { SimulatedLanguageModel, Storage } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
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

const flag = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : undefined
}

const store = flag("store") ?? "memory"
const size = Number(flag("size") ?? "1000")
const latencyMs = Number(flag("latency") ?? "0")
const concurrency = Number(flag("concurrency") ?? "32")
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

const figures = await Effect.runPromise(Effect.gen(function*() {
  yield* (yield* WorkspaceRepo).upsert(workspace)
  globalThis.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency })
  const wallMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  globalThis.gc?.()
  const retained = process.memoryUsage().heapUsed - heapBefore
  const traces = (yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)).length
  return {
    store,
    stimuli: size,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    retainedKiB: Math.max(0, retained) / 1024,
    calls: outcome.spend.total.calls,
    traces,
    verdict: outcome.verdict.outcome
  } satisfies ScanRunFigures
}).pipe(Effect.provide(layer)))
rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify(figures))
