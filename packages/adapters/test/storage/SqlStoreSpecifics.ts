/**
 * What only a SQL backend can be asked: a row damaged behind the repositories' back (a corrupt
 * JSONB document, an unknown phase name) is a typed `Corrupt` StorageError naming the row, never a
 * crash or a silently wrong value; the empty workspace id is refused before any SQL. Run on each SQL backend with the repositories and an app session
 * on the same database.
 */
import { expect, layer } from "@effect/vitest"
import { ChangeSetRepo, IngestKeyRepo, ScanRepo, type StorageError, TraceRepo, unresolvedPhaseOutputParts } from "@spectral/engine"
import { PhaseOutputSchemas } from "@spectral/engine/contracts"
import { Effect, Exit, type Layer, Option, Schema } from "effect"
import type { Repositories } from "../../src/storage/index.ts"
import * as F from "./fixtures.ts"
import { AppSession } from "./RlsProbe.ts"

const reasonOf = <A, R>(effect: Effect.Effect<A, StorageError, R>) => Effect.map(Effect.flip(effect), (error) => error.reason)

export const sqlStoreSpecifics = <E>(backend: string, store: Layer.Layer<Repositories | AppSession, E>) =>
  layer(store, { timeout: "120 seconds", excludeTestServices: true })(`SQL store: ${backend}`, (it) => {
    it.effect("a corrupt scan document is a Corrupt StorageError on get and on list", () =>
      Effect.gen(function*() {
        const scans = yield* ScanRepo
        const session = yield* AppSession
        const ws = F.freshWorkspaceId()
        yield* scans.insert(F.scan(ws, "scan-ok", 1))
        yield* scans.insert(F.scan(ws, "scan-bad", 2))
        yield* session.run(ws, (sql) =>
          sql`UPDATE spectral.scans SET doc = jsonb_set(doc, '{state}', '"exploded"') WHERE id = 'scan-bad'`)
        expect(yield* reasonOf(scans.get(ws, "scan-bad"))).toMatchObject({ _tag: "Corrupt", entity: "scan", id: "scan-bad" })
        expect(yield* reasonOf(scans.list(ws))).toMatchObject({ _tag: "Corrupt", id: "scan-bad" })
        expect((yield* scans.get(ws, "scan-ok")).id).toBe("scan-ok")
      }))

    it.effect("a document that is not even an object, and an unknown phase name, are Corrupt too", () =>
      Effect.gen(function*() {
        const changeSets = yield* ChangeSetRepo
        const scans = yield* ScanRepo
        const traces = yield* TraceRepo
        const session = yield* AppSession
        const ws = F.freshWorkspaceId()
        yield* changeSets.insert(F.changeSet(ws, "cs-1", 1))
        yield* traces.append(ws, [F.trace(ws, "trace-1", "span-1")])
        yield* scans.savePhaseOutput(ws, "scan-1", "observe", { ok: true })
        yield* session.run(ws, (sql) =>
          Effect.all([
            sql`UPDATE spectral.change_sets SET doc = '"just a string"'::jsonb WHERE id = 'cs-1'`,
            sql`UPDATE spectral.traces SET doc = doc - 'spanId' WHERE trace_id = 'trace-1'`,
            sql`UPDATE spectral.scan_phase_outputs SET phase = 'teleport' WHERE scan_id = 'scan-1'`
          ]))
        expect(yield* reasonOf(changeSets.get(ws, "cs-1"))).toMatchObject({ _tag: "Corrupt", entity: "change set", id: "cs-1" })
        expect(yield* reasonOf(changeSets.list(ws))).toMatchObject({ _tag: "Corrupt" })
        expect(yield* reasonOf(traces.list(ws))).toMatchObject({ _tag: "Corrupt", entity: "trace" })
        expect(yield* reasonOf(scans.phaseOutputs(ws, "scan-1"))).toMatchObject({ _tag: "Corrupt", entity: "phase output" })
      }))

    it.effect("a phase output's row holds references only; a part with a chunk missing or short reads back as its reference, unresolved, never as fewer items", () =>
      Effect.gen(function*() {
        const scans = yield* ScanRepo
        const session = yield* AppSession
        const ws = F.freshWorkspaceId()
        const runs = Array.from({ length: 2_500 }, (_, i) => ({ stimulusId: `stim-${i}`, traceId: `t-${i}`, output: "x".repeat(200) }))
        const observe = { evalSet: { id: "set", samples: [{ id: "stim-0", provenance: "rule_grounded" }] }, baseline: { arm: "baseline", runs } }
        yield* scans.savePhaseOutput(ws, "scan-1", "observe", observe)
        const [row] = yield* session.run(ws, (sql) =>
          sql<{ readonly output: unknown; readonly bytes: number }>`SELECT output, pg_column_size(output) AS bytes FROM spectral.scan_phase_outputs WHERE scan_id = 'scan-1'`)
        expect(row?.output).toEqual({
          value: {
            evalSet: { id: "set", samples: { _tag: "PhaseOutputPart", part: "evalSet.samples", items: 1, chunks: 1 } },
            baseline: { arm: "baseline", runs: { _tag: "PhaseOutputPart", part: "baseline.runs", items: 2_500, chunks: 3 } }
          }
        })
        expect(row!.bytes).toBeLessThan(1_000)
        const chunks = yield* session.run(ws, (sql) =>
          sql<{ readonly part: string; readonly chunk: number; readonly n: number }>`SELECT part, chunk, jsonb_array_length(items) AS n FROM spectral.scan_phase_parts
            WHERE scan_id = 'scan-1' ORDER BY part, chunk`)
        expect(chunks.map((c) => [c.part, c.chunk, Number(c.n)])).toEqual([["baseline.runs", 0, 1_000], ["baseline.runs", 1, 1_000], ["baseline.runs", 2, 500], ["evalSet.samples", 0, 1]])

        // A chunk cut short: the part stays a reference saying so; the samples (intact) read back.
        yield* session.run(ws, (sql) => sql`UPDATE spectral.scan_phase_parts SET items = items - 0 WHERE scan_id = 'scan-1' AND part = 'baseline.runs' AND chunk = 2`)
        const short = Option.getOrThrow(yield* scans.phaseOutput(ws, "scan-1", "observe"))
        expect(unresolvedPhaseOutputParts("observe", short)).toEqual([{ part: "baseline.runs", issue: "holds 2499 items, the reference has 2500" }])
        expect(short).toMatchObject({ evalSet: { samples: [{ id: "stim-0" }] }, baseline: { runs: { _tag: "PhaseOutputPart", part: "baseline.runs" } } })
        // A chunk gone: the same, on every read.
        yield* session.run(ws, (sql) => sql`DELETE FROM spectral.scan_phase_parts WHERE scan_id = 'scan-1' AND part = 'baseline.runs' AND chunk = 1`)
        const missing = (yield* scans.phaseOutputs(ws, "scan-1")).get("observe")
        expect(unresolvedPhaseOutputParts("observe", missing)).toEqual([{ part: "baseline.runs", issue: "chunk 1 of 3 is missing" }])
        expect(unresolvedPhaseOutputParts("observe", (yield* scans.phaseOutputsOf(ws, "observe")).get("scan-1"))).toHaveLength(1)
        // The phase's Schema refuses what comes back, naming the field.
        const decoded = Schema.decodeUnknownExit(PhaseOutputSchemas.observe)(missing)
        expect(Exit.isFailure(decoded)).toBe(true)
        // Saved again (the phase re-run), it is whole again.
        yield* scans.savePhaseOutput(ws, "scan-1", "observe", observe)
        expect(yield* scans.phaseOutput(ws, "scan-1", "observe")).toEqual(Option.some(observe))
      }))

    it.effect("the empty workspace id is refused before any SQL: no key, scan or trace is stored under it", () =>
      Effect.gen(function*() {
        const keys = yield* IngestKeyRepo
        const scans = yield* ScanRepo
        const traces = yield* TraceRepo
        const session = yield* AppSession
        const key = { workspaceId: "", keyHash: `hash-empty-${F.freshWorkspaceId()}`, label: "empty", createdAt: "2025-01-01T00:00:00.000Z" }
        expect((yield* Effect.flip(keys.save(key))).reason._tag).toMatch(/Refused|Corrupt/)
        expect(yield* reasonOf(scans.insert(F.scan("", "scan-empty", 1)))).toMatchObject({ _tag: expect.stringMatching(/Refused|Corrupt/) })
        expect(yield* reasonOf(traces.list(""))).toMatchObject({ _tag: "Refused" })
        expect(yield* reasonOf(keys.findByHash(key.keyHash))).toMatchObject({ _tag: "NotFound" })
        // With no workspace set (a reused connection reads the setting back as ''), nothing is visible.
        yield* session.run(F.freshWorkspaceId(), (sql) => sql`SELECT 1`)
        expect(yield* session.run(undefined, (sql) => sql`SELECT workspace_id FROM spectral.ingest_keys WHERE workspace_id = ''`)).toEqual([])
      }))

    it.effect("a value the database cannot store (a NUL character) is Corrupt, not Unavailable: nobody retries it, nothing is stored", () =>
      Effect.gen(function*() {
        const traces = yield* TraceRepo
        const ws = F.freshWorkspaceId()
        const withNul = { ...F.trace(ws, "trace-nul", "span-1"), attributes: { note: "a\u0000b" } }
        expect(yield* reasonOf(traces.append(ws, [F.trace(ws, "trace-ok", "span-1"), withNul]))).toMatchObject({
          _tag: "Corrupt",
          message: expect.stringContaining("cannot store this value")
        })
        expect(yield* traces.list(ws)).toEqual([])
      }))

    it.effect("an invalid value is refused on write, so what is stored always reads back", () =>
      Effect.gen(function*() {
        const scans = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const invalid = { ...F.scan(ws, "scan-nan", 1), blendedScore: Number.NaN }
        expect(yield* reasonOf(scans.insert(invalid))).toMatchObject({ _tag: "Corrupt", id: "scan-nan" })
        expect(yield* scans.list(ws)).toEqual([])
      }))
  })
