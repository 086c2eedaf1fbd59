/**
 * The host's data lifecycle on a controlled clock (TestClock), through the real ingest path: a
 * trace ingested and left alone is purged by the scheduled sweep the day its 90-day window ends
 * (and not the day before), a trace under a legal hold is not; with curation on, the trace is
 * curated into a numbered sample set, its clock restarts at derivation, and at its end the sample
 * keeps its metadata behind a tombstone. On the engine's memory store, embedded PGlite and (where
 * PostgreSQL binaries exist, required in CI) a PostgreSQL server.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingestOtlp, OtlpIngest, Storage } from "@spectral/adapters"
import { findPostgresBinaries, type PgServerInfo, startThrowawayPostgres, useExternalPostgres } from "@spectral/adapters/testing"
import { MemoryStorage, placeLegalHold, RetentionRepo, SampleRepo, TraceRepo } from "@spectral/engine"
import { defaultLifecycleSettings, Lifecycle, type LifecycleSettings } from "../../src/host/Lifecycle.ts"

const dirs: Array<string> = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-lifecycle-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

let counter = 0
const freshWorkspace = () => `lifecycle-${Date.now().toString(36)}-${(counter++).toString(36)}`

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, "0")

/** One OTLP/JSON request: a chat span per trace, the agent named, prompt content included. */
const request = (traceIds: ReadonlyArray<string>) => ({
  resourceSpans: [{
    resource: { attributes: [{ key: "service.name", value: { stringValue: "tax-desk" } }] },
    scopeSpans: [{
      scope: { name: "t" },
      spans: traceIds.map((traceId, i) => ({
        traceId,
        spanId: hex(100 + i, 8),
        name: "chat gpt-4o",
        kind: 3,
        startTimeUnixNano: "1767225600000000000",
        endTimeUnixNano: "1767225600250000000",
        attributes: [
          { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
          { key: "gen_ai.agent.name", value: { stringValue: "advisor" } },
          { key: "gen_ai.request.model", value: { stringValue: "gpt-4o" } },
          { key: "gen_ai.input.messages", value: { stringValue: JSON.stringify([{ role: "user", content: "Customer data: PURGE-ME" }]) } }
        ]
      }))
    }]
  }]
})

const settings = (workspaceId: string, curation: boolean): LifecycleSettings => ({
  ...defaultLifecycleSettings,
  interval: Duration.days(1),
  curation,
  curationPolicy: { minActivePerSegment: 1, targetPerSegment: 10 },
  workspaces: [workspaceId]
})

type Store = Layer.Layer<Storage.Repositories, unknown>

/**
 * Start the lifecycle (a pass at once, then one a day), ingest two traces after its first pass,
 * hold one of them, then let the days pass one at a time, each followed by its scheduled pass.
 */
const scenario = (store: Store, curation: boolean) => {
  const workspaceId = freshWorkspace()
  const alone = hex(0xa11, 16)
  const held = hex(0x4e1d, 16)
  return Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    let passes = (yield* lifecycle.awaitPasses(1)).pass
    const ingested = yield* ingestOtlp(workspaceId, "json", request([alone, held]))
    assert.strictEqual(ingested.accepted, 2)
    yield* placeLegalHold({ id: "hold-1", workspaceId, traceIds: [held], reason: "litigation" }, "legal")
    const traces = yield* TraceRepo
    const stored = Effect.map(traces.list(workspaceId), (spans) => [...new Set(spans.map((s) => s.traceId))].sort())
    const days = (n: number) =>
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) {
          yield* TestClock.adjust("1 day")
          passes = (yield* lifecycle.awaitPasses(passes + 1)).pass
        }
      })
    // Curation runs at day 1's pass (the traces arrived after day 0's), restarting the clock there.
    const windowEnd = curation ? 91 : 90
    yield* days(windowEnd - 1)
    assert.deepStrictEqual(yield* stored, [alone, held].sort(), "nothing is purged the day before the window ends")
    yield* days(1)
    assert.deepStrictEqual(yield* stored, [held], "the trace left alone is purged the day its window ends; the held one is kept")
    const last = (yield* lifecycle.lastPass)!.workspaces.find((w) => w.workspaceId === workspaceId)!
    assert.strictEqual(last.sweep?.purgedTraces, 1)
    assert.deepStrictEqual(last.sweep?.held, [{ traceId: held, holdId: "hold-1" }])
    assert.deepStrictEqual(last.failures, [])
    const retention = yield* RetentionRepo
    const states = new Map((yield* retention.records(workspaceId)).map((r) => [r.traceId, r.state]))
    assert.strictEqual(states.get(alone), "TOMBSTONED")
    assert.strictEqual(states.get(held), "ORPHANED")
    const trail = (yield* retention.events(workspaceId)).filter((e) => e.subject === alone).map((e) => `${e.from}->${e.to} by ${e.actor}`)
    assert.deepStrictEqual(trail, [
      "null->ACTIVE by ingest",
      ...(curation ? ["ACTIVE->REFERENCED by curation"] : []),
      `${curation ? "REFERENCED" : "ACTIVE"}->ORPHANED by lifecycle`,
      "ORPHANED->TOMBSTONED by lifecycle"
    ])
    const samples = yield* SampleRepo
    const pool = yield* samples.samples(workspaceId)
    if (curation) {
      const sample = pool.find((s) => s.traceRef.traceId === alone)!
      assert.strictEqual(sample.state, "historical")
      assert.strictEqual(sample.traceRef._tag, "Tombstone")
      assert.strictEqual(sample.structuralMetadata["rootAgent"], "advisor")
      assert.deepStrictEqual((yield* samples.sampleSets(workspaceId)).map((s) => [s.id, s.version]), [["curated", 1]])
    } else {
      assert.deepStrictEqual(pool, [], "with curation off nothing was ever curated")
    }
  }).pipe(Effect.provide(Lifecycle.layerNoDeps(settings(workspaceId, curation)).pipe(Layer.provideMerge(OtlpIngest.layer().pipe(Layer.provideMerge(store))))))
}

describe("the scheduled lifecycle", () => {
  // One embedded store for both PGlite cases (initialising one takes seconds); each case has its own workspace.
  const pgliteDir = freshDir()
  it.effect("memory: an ingested trace never curated is purged at the end of its window; a held one is not", () => scenario(MemoryStorage.layer, false))
  it.effect("memory: with curation on, the window runs from derivation and the sample keeps a tombstone", () => scenario(MemoryStorage.layer, true))
  it.effect("embedded PGlite: an ingested trace never curated is purged at the end of its window; a held one is not", () =>
    scenario(Storage.layerPglite({ dataDir: pgliteDir }), false), 240_000)
  it.effect("embedded PGlite: with curation on, the window runs from derivation and the sample keeps a tombstone", () =>
    scenario(Storage.layerPglite({ dataDir: pgliteDir }), true), 240_000)
  it.effect("PostgreSQL server: an ingested trace never curated is purged at the end of its window; a held one is not", () =>
    Effect.suspend(() => {
      const info = pgServer()
      return info === undefined ? Effect.void : scenario(Storage.layerPg({ url: info.appUrl }), false)
    }), 240_000)
})

let server: PgServerInfo | undefined
let stop: () => void = () => undefined
let reason = ""
beforeAll(async () => {
  try {
    const external = process.env["SPECTRAL_TEST_DATABASE_URL"]
    const bin = findPostgresBinaries()
    if (external !== undefined && external !== "") server = await useExternalPostgres(external)
    else if (bin === undefined) reason = "no PostgreSQL binaries under /usr/lib/postgresql/*/bin"
    else ({ info: server, stop } = await startThrowawayPostgres(bin))
    if (server !== undefined) await Effect.runPromise(Storage.migratePg(Redacted.make(server.ownerUrl)))
  } catch (error) {
    reason = String(error)
    server = undefined
  }
}, 120_000)
afterAll(() => stop())

/** The server, or (outside CI, where SPECTRAL_REQUIRE_PG_SERVER=1 makes it a failure) undefined: skipped. */
const pgServer = () => {
  if (server === undefined) assert.notStrictEqual(process.env["SPECTRAL_REQUIRE_PG_SERVER"], "1", reason)
  return server
}
