/**
 * Retention after a conformance scan: a production trace carries a unique secret, a curated sample
 * with ground truth runs as a conformance stimulus in a blended scan (so the scan's traces, results
 * and phase outputs hold copies of the secret), the trace ages past its 90 days and the sweep runs.
 * Then every store is searched for the secret — the memory store's full dump, and on embedded PGlite
 * every table of schema `spectral`, read as the owner (no row-level security) with each row cast to
 * text — and nothing is found, while the sample is historical with its evaluation history and the
 * scan's verdict, scores and audited redaction are still there.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { type Repositories, SimulatedLanguageModel, Storage } from "@spectral/adapters"
import {
  EventBus,
  MemoryStorage,
  repositoriesContext,
  RetentionRepo,
  runRetentionSweep,
  SampleRepo,
  ScanEngine,
  ScanOrchestrator,
  ScanRepo,
  ScanTraceRepo,
  TraceRepo,
  WorkspaceRepo
} from "@spectral/engine"
import { EvalSetProvider, type Sample, type Trace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { smallWorkspace } from "./ScanHarness.ts"

const secret = "CUSTOMER-SECRET-91c4e7-ssn-078-05-1120"
const epoch = "1970-01-01T00:00:00.000Z"

/** A blended scan over curated samples (one of them carrying the secret), then a sweep 91 days later. */
const scanThenSweep = <R>(everything: Effect.Effect<string, unknown, R>) =>
  Effect.gen(function*() {
    const workspace = smallWorkspace()
    const ws = workspace.id
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const world = yield* (yield* EvalSetProvider).evalSet({ workspaceId: ws, worldModelId: workspace.worldModelId, framework: workspace.framework, seed: 99, size: 40 })
    const picked = world.samples.slice(0, 3)
    const traces: Array<Trace> = picked.map((s, i) => ({
      id: `span-${i}`,
      workspaceId: ws,
      traceId: `trace-${i}`,
      spanId: `root-${i}`,
      name: "tax-prep.request",
      startTime: epoch,
      endTime: epoch,
      attributes: i === 0 ? { "customer.reference": secret } : {},
      input: i === 0 ? `${s.input}\nCustomer reference: ${secret}` : s.input,
      output: "{}"
    }))
    yield* (yield* TraceRepo).append(ws, traces)
    const history = { scanId: "earlier-scan", score: 0.8, at: epoch }
    const samples: Array<Sample> = picked.map((s, i) => ({
      id: `sample-trace-${i}`,
      workspaceId: ws,
      state: "active",
      traceRef: { _tag: "Live", traceId: `trace-${i}` },
      structuralMetadata: { rootAgent: "intake" },
      stratification: { segment: "production" },
      groundTruth: { ...s.expected },
      evaluationHistory: [history],
      createdAt: epoch
    }))
    yield* (yield* SampleRepo).upsertSamples(ws, samples)
    // Only the secret's trace is tracked (derivation done at the epoch), so only it expires.
    yield* (yield* RetentionRepo).track(ws, [{ workspaceId: ws, traceId: "trace-0", state: "REFERENCED", ingestedAt: epoch, derivationCompletedAt: epoch }])

    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: ws, seed: 4 })
    assert.strictEqual(outcome.scan.state, "completed")
    assert.strictEqual(outcome.scan.readiness?.mode, "blended")
    const scanTraces = yield* ScanTraceRepo
    const stimulusTraces = (yield* scanTraces.traces(ws, outcome.scan.id)).filter((t) => t.stimulusId === "sample-trace-0")
    assert.isTrue(stimulusTraces.length > 0 && stimulusTraces.every((t) => t.provenance === "conformance_sample"))
    assert.isTrue(stimulusTraces.every((t) => t.input?.includes(secret) === true), "the scan kept the stimulus, secret included, in its traces")
    assert.include(JSON.stringify([...(yield* (yield* ScanRepo).phaseOutputs(ws, outcome.scan.id)).values()]), secret)
    assert.include(yield* everything, secret)
    const resultsBefore = yield* scanTraces.results(ws, outcome.scan.id)
    const verdictBefore = yield* (yield* ScanRepo).verdict(ws, outcome.scan.id)

    yield* TestClock.adjust("91 days")
    const report = yield* runRetentionSweep(ws)
    assert.strictEqual(report.purgedTraces, 1)
    assert.strictEqual(report.tombstonedSamples, 1)

    const stored = yield* everything
    assert.notInclude(stored, secret)
    assert.notInclude(stored, "078-05-1120")
    assert.strictEqual(report.redacted.scanTraces, stimulusTraces.length)
    assert.isTrue(report.redacted.phaseOutputs > 0)
    // The sample is historical and keeps what it had; the other samples' traces are untouched.
    const after = new Map((yield* (yield* SampleRepo).samples(ws)).map((s) => [s.id, s]))
    const purged = after.get("sample-trace-0")!
    assert.strictEqual(purged.state, "historical")
    assert.strictEqual(purged.traceRef._tag, "Tombstone")
    assert.deepStrictEqual(purged.evaluationHistory, [history])
    assert.deepStrictEqual(purged.groundTruth, { ...picked[0]!.expected })
    assert.strictEqual(after.get("sample-trace-1")!.traceRef._tag, "Live")
    assert.include(stored, picked[1]!.input)
    // The scan still reads: its verdict, its scores, its traces (content replaced by the marker).
    const scan = yield* (yield* ScanRepo).get(ws, outcome.scan.id)
    assert.strictEqual(scan.verdict, outcome.scan.verdict)
    assert.strictEqual(scan.blendedScore, outcome.scan.blendedScore)
    assert.deepStrictEqual(yield* (yield* ScanRepo).verdict(ws, outcome.scan.id), verdictBefore)
    const resultsAfter = yield* scanTraces.results(ws, outcome.scan.id)
    assert.deepStrictEqual(resultsAfter.map((r) => [r.id, r.score, r.passed, r.dimensions]), resultsBefore.map((r) => [r.id, r.score, r.passed, r.dimensions]))
    const redacted = (yield* scanTraces.traces(ws, outcome.scan.id)).filter((t) => t.stimulusId === "sample-trace-0")
    assert.deepStrictEqual(redacted.map((t) => [t.id, t.status, t.costUsd]), stimulusTraces.map((t) => [t.id, t.status, t.costUsd]))
    assert.isTrue(redacted.every((t) => t.input === "[redacted: trace trace-0 purged by retention]" && t.runs.every((r) => r.rawOutput === "[redacted: trace trace-0 purged by retention]")))
    // The redaction is an audited event, recorded once; a second sweep changes nothing.
    const events = yield* (yield* RetentionRepo).events(ws)
    assert.deepStrictEqual(
      events.filter((e) => e.subject === "sample-trace-0").map((e) => `${e.from}->${e.to}`),
      ["active->historical", "scan copies->redacted"]
    )
    const idle = yield* runRetentionSweep(ws)
    assert.strictEqual(idle.transitions, 0)
    assert.deepStrictEqual(idle.redacted, { scanTraces: 0, evalResults: 0, phaseOutputs: 0 })
  })

const engineOn = <E>(storage: Layer.Layer<Repositories, E>) =>
  ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(storage, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1 })))
  )

describe("retention after a conformance scan", () => {
  it.effect("memory: no copy of the purged trace's content is left in any store", () =>
    Effect.gen(function*() {
      const s = yield* MemoryStorage.make
      const storage = Layer.succeedContext(repositoriesContext(s))
      yield* scanThenSweep(Effect.sync(() => JSON.stringify(s.contents()))).pipe(Effect.provide(engineOn(storage)))
    }))

  it.effect("embedded PGlite: no row of any table in schema spectral holds the purged trace's content", () =>
    Effect.gen(function*() {
      const dataDir = mkdtempSync(join(tmpdir(), "spectral-retention-"))
      const client = Storage.layerPgliteClient({ dataDir })
      const migrated = Layer.effectDiscard(Storage.migrateNoDeps).pipe(Layer.provideMerge(client))
      // The repositories act as the app role (row-level security); the search below runs as the
      // PGlite session's own role, the owner, which sees every workspace's rows.
      const storage = Storage.layerNoDeps({ assumeRole: Storage.appRole }).pipe(Layer.provideMerge(migrated))
      const everyTable = Effect.gen(function*() {
        const sql = yield* PgClient.PgClient
        const tables = yield* sql<{ readonly name: string }>`
          SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'spectral' ORDER BY table_name`
        assert.isTrue(tables.some((t) => t.name === "scan_traces") && tables.some((t) => t.name === "scan_phase_outputs"))
        const dumps = yield* Effect.forEach(tables, (t) =>
          sql<{ readonly row: string }>`SELECT r::text AS row FROM ${sql(`spectral.${t.name}`)} AS r`.pipe(
            Effect.map((rows) => `${t.name}: ${rows.map((r) => r.row).join("\n")}`)
          ))
        return dumps.join("\n")
      })
      yield* scanThenSweep(everyTable).pipe(Effect.provide(Layer.merge(engineOn(storage), storage)))
    }), 180_000)
})
