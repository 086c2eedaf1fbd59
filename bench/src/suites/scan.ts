/**
 * `npm run bench -- scan`: whole-scan throughput with the SIMULATED model (these figures measure
 * the engine's own overhead and concurrency, not model quality).
 * - zero latency: traces per second and engine time per stimulus-trace on the in-memory store, on
 *   embedded Postgres (PGlite) and on a throwaway PostgreSQL server (when its binaries exist), plus
 *   heap growth per trace;
 * - 50 ms simulated latency at concurrency 32: wall time against the ideal bound
 *   calls × latency ÷ concurrency (target within 1.2×).
 * Reference from the brief: promptfoo 0.123.1 (echo provider, one assertion, concurrency 32) spends
 * ≈ 4.1 ms and 85 KiB per test case; our per-trace overhead should be ten times lower.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Console, Effect, Layer, Schema } from "effect"
import { SimulatedLanguageModel, Storage } from "@spectral/adapters"
import { findPostgresBinaries, startThrowawayPostgres } from "@spectral/adapters/testing"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { taxPrepWorkspace } from "../../../examples/tax-prep/src/TaxPrepTeam.ts"
import type { Suite } from "../Suite.ts"

const workspaceOf = (size: number) =>
  Schema.decodeUnknownSync(Workspace)({
    ...taxPrepWorkspace("simulated-small"),
    framework: { ...taxPrepWorkspace("simulated-small").framework, evalSetSize: size, economics: { maxCallsPerScan: 1_000_000, maxTokensPerScan: 1_000_000_000, maxUsdPerScan: 1000, costPerFailureUsd: 1 } }
  })

interface Run {
  readonly store: string
  readonly stimuli: number
  readonly traces: number
  readonly calls: number
  readonly ms: number
  readonly heapBytes: number
}

const runScan = (store: string, storage: Layer.Layer<any, any>, size: number, latencyMs: number, concurrency: number) =>
  Effect.gen(function*() {
    const workspace = workspaceOf(size)
    const layer = ScanEngine.layer().pipe(
      Layer.provideMerge(Layer.mergeAll(storage, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1, latencyMs })))
    )
    return yield* Effect.gen(function*() {
      yield* (yield* WorkspaceRepo).upsert(workspace)
      globalThis.gc?.()
      const heapBefore = process.memoryUsage().heapUsed
      const started = performance.now()
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency })
      const ms = performance.now() - started
      const heapBytes = process.memoryUsage().heapUsed - heapBefore
      const traces = (yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)).length
      return { store, stimuli: size, traces, calls: outcome.spend.total.calls, ms, heapBytes } satisfies Run
    }).pipe(Effect.provide(layer))
  })

const pad = (s: string, n: number) => s.padEnd(n)

export const scanSuite: Suite = {
  name: "scan",
  description: "whole-scan throughput on the in-memory and embedded Postgres stores (simulated model)",
  run: (options) =>
    Effect.gen(function*() {
      const size = options.quick ? 48 : 200
      const figures: Record<string, number> = {}
      const dir = mkdtempSync(join(tmpdir(), "spectral-bench-"))
      const runs: Array<Run> = []
      // Warm-up (JIT, module initialisation) so the figures are the steady state.
      yield* runScan("warm-up", MemoryStorage.layer, 24, 0, 32)
      runs.push(yield* runScan("memory", MemoryStorage.layer, size, 0, 32))
      runs.push(yield* runScan("pglite", Storage.layerPglite({ dataDir: join(dir, "db") }), size, 0, 32))
      rmSync(dir, { recursive: true, force: true })
      // A throwaway PostgreSQL server, when its binaries are on the machine.
      const bin = findPostgresBinaries()
      if (bin === undefined) {
        yield* Console.log("(no PostgreSQL binaries under /usr/lib/postgresql: the server column is skipped)")
      } else {
        const server = yield* Effect.promise(() => startThrowawayPostgres(bin))
        yield* Effect.gen(function*() {
          runs.push(yield* runScan("server", Storage.layerPg({ url: server.info.appUrl, ownerUrl: server.info.ownerUrl }), size, 0, 32))
        }).pipe(Effect.ensuring(Effect.sync(() => server.stop())))
      }
      yield* Console.log("zero latency (simulated model), concurrency 32:")
      yield* Console.log(`${pad("store", 8)} ${pad("stimuli", 8)} ${pad("traces", 7)} ${pad("calls", 7)} ${pad("wall ms", 9)} ${pad("traces/s", 9)} ${pad("ms/trace", 9)} KiB/trace`)
      for (const r of runs) {
        const perTrace = r.ms / r.traces
        yield* Console.log(`${pad(r.store, 8)} ${pad(String(r.stimuli), 8)} ${pad(String(r.traces), 7)} ${pad(String(r.calls), 7)} ${pad(r.ms.toFixed(0), 9)} ${pad((r.traces / (r.ms / 1000)).toFixed(0), 9)} ${pad(perTrace.toFixed(3), 9)} ${(Math.max(0, r.heapBytes) / 1024 / r.traces).toFixed(1)}`)
        figures[`${r.store}_traces_per_s`] = r.traces / (r.ms / 1000)
        figures[`${r.store}_ms_per_trace`] = perTrace
        figures[`${r.store}_kib_per_trace`] = Math.max(0, r.heapBytes) / 1024 / r.traces
      }
      yield* Console.log("(ms/trace includes the simulated model's own work: reading the scenario, deciding, judging; promptfoo reference ≈ 4.1 ms and 85 KiB per test case)")

      const latency = 50
      const concurrency = 32
      const slow = yield* runScan("memory", MemoryStorage.layer, options.quick ? 48 : 96, latency, concurrency)
      // Calls happen in sequential waves per agent within a stimulus: the ideal bound is calls ×
      // latency ÷ concurrency.
      const ideal = (slow.calls * latency) / concurrency
      yield* Console.log(`\n50 ms latency, concurrency ${concurrency}: ${slow.calls} calls in ${slow.ms.toFixed(0)} ms; ideal bound ${ideal.toFixed(0)} ms; ratio ${(slow.ms / ideal).toFixed(2)}× (target ≤ 1.2×)`)
      figures["latency50_wall_ms"] = slow.ms
      figures["latency50_ideal_ms"] = ideal
      figures["latency50_ratio"] = slow.ms / ideal
      return figures
    })
}
