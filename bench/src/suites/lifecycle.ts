/**
 * Retention sweep benchmark: one `runRetentionSweep` over a workspace holding 100,000 ingested
 * traces (one span each, never curated) whose 90-day window has ended, 1% of them under a legal
 * hold — the sweep reads every record, moves each through ORPHANED to TOMBSTONED with two audited
 * events, purges 99,000 traces and leaves the held ones — then the next sweep, which has nothing
 * due. On the in-memory store and on embedded Postgres (PGlite, the SQL driver).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Console, Effect, type Layer } from "effect"
import {
  MemoryStorage,
  placeLegalHold,
  RetentionRepo,
  runRetentionSweep,
  type SampleRepo,
  type ScanRepo,
  type ScanTraceRepo,
  TraceRepo
} from "@spectral/engine"
import type { Trace } from "@spectral/engine/contracts"
import { Storage } from "@spectral/adapters"
import type { Suite } from "../Suite.ts"

const Workspace = "bench-lifecycle"
const Batch = 5_000
const DayMs = 86_400_000

const traceId = (i: number) => i.toString(16).padStart(32, "0")

const span = (i: number): Trace => ({
  id: `${traceId(i)}/0000000000000001`,
  workspaceId: Workspace,
  traceId: traceId(i),
  spanId: "0000000000000001",
  name: "chat gpt-4o-mini",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:00:00.350Z",
  agentName: `agent-${i % 5}`,
  attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini" },
  input: `Client ${i}: single, wages ${40_000 + i} dollars.`,
  output: "{\"filingStatus\":\"single\"}"
})

/** Store `traces` traces ingested 91 days ago and hold 1% of them; returns how many are held. */
const seed = (traces: number) =>
  Effect.gen(function*() {
    const repo = yield* TraceRepo
    const retention = yield* RetentionRepo
    const ingestedAt = new Date(Date.now() - 91 * DayMs).toISOString()
    for (let start = 0; start < traces; start += Batch) {
      const ids = Array.from({ length: Math.min(Batch, traces - start) }, (_, k) => start + k)
      yield* repo.append(Workspace, ids.map(span))
      yield* retention.track(Workspace, ids.map((i) => ({ workspaceId: Workspace, traceId: traceId(i), state: "ACTIVE" as const, ingestedAt })))
    }
    const held = Array.from({ length: Math.floor(traces / 100) }, (_, k) => traceId(k * 100))
    yield* placeLegalHold({ id: "bench-hold", workspaceId: Workspace, traceIds: held, reason: "bench" }, "bench")
    return held.length
  })

const measure = (traces: number, store: Layer.Layer<TraceRepo | RetentionRepo | SampleRepo | ScanRepo | ScanTraceRepo, unknown>) =>
  Effect.gen(function*() {
    const held = yield* seed(traces)
    const started = performance.now()
    const report = yield* runRetentionSweep(Workspace, "bench")
    const sweepMs = performance.now() - started
    if (report.purgedTraces !== traces - held || report.held.length !== held) {
      return yield* Effect.die(new Error(`purged ${report.purgedTraces}, held ${report.held.length} of ${traces}`))
    }
    const idleStarted = performance.now()
    const idle = yield* runRetentionSweep(Workspace, "bench")
    const idleMs = performance.now() - idleStarted
    if (idle.purgedTraces !== 0) return yield* Effect.die(new Error(`the second sweep purged ${idle.purgedTraces}`))
    return { sweepMs, idleMs, purged: report.purgedTraces, held, transitions: report.transitions }
  }).pipe(Effect.provide(store))

export const lifecycleSuite: Suite = {
  name: "lifecycle",
  description: "Retention sweep of 100,000 expired ingested traces (1% held) on the in-memory store and embedded Postgres",
  run: (options) =>
    Effect.gen(function*() {
      const traces = options.quick ? 10_000 : 100_000
      const memory = yield* measure(traces, MemoryStorage.layer)
      const dir = mkdtempSync(join(tmpdir(), "spectral-lifecycle-bench-"))
      const pglite = yield* measure(traces, Storage.layerPglite({ dataDir: join(dir, "db") })).pipe(
        Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      )
      yield* Console.log(`| store | traces | purged | held | audited transitions | sweep ms | traces/s | next sweep (nothing due) ms |`)
      yield* Console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`)
      for (const [name, r] of [["in-memory", memory], ["embedded Postgres (PGlite)", pglite]] as const) {
        yield* Console.log(`| ${name} | ${traces} | ${r.purged} | ${r.held} | ${r.transitions} | ${r.sweepMs.toFixed(0)} | ${(traces / (r.sweepMs / 1000)).toFixed(0)} | ${r.idleMs.toFixed(0)} |`)
      }
      return {
        lifecycle_traces: traces,
        lifecycle_memory_sweep_ms: memory.sweepMs,
        lifecycle_memory_idle_sweep_ms: memory.idleMs,
        lifecycle_pglite_sweep_ms: pglite.sweepMs,
        lifecycle_pglite_idle_sweep_ms: pglite.idleMs,
        lifecycle_pglite_traces_per_second: traces / (pglite.sweepMs / 1000)
      }
    })
}
