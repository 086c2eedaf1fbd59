/**
 * The repository contract, written once and run against every backend (the engine's MemoryStorage,
 * embedded PGlite, a PostgreSQL server) so they cannot drift: idempotent inserts by id, Conflict on a
 * duplicate scan or change set (id or version), compare-and-set on change-set status, newest-first
 * ordering, rows invisible across workspaces, a row of another workspace Refused, a repeated audit
 * entry id ignored. Each test uses workspaces no other test touches.
 */
import { expect, layer } from "@effect/vitest"
import {
  ApiKeyRepo,
  ChangeSetRepo,
  FailureClusterRepo,
  IngestKeyRepo,
  RetentionRepo,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo,
  type StorageError,
  TemplateProposalRepo,
  TraceRepo,
  unresolvedPhaseOutputParts,
  WorkspaceRepo
} from "@spectral/engine"
import { Effect, type Layer, Option } from "effect"
import type { EvalResult, Scan, ScanTrace } from "@spectral/engine/contracts"
import type { Repositories } from "../../src/storage/index.ts"
import * as F from "./fixtures.ts"

const reasonOf = <A, R>(effect: Effect.Effect<A, StorageError, R>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason)

export const repositoryContract = <E>(
  backend: string,
  storage: Layer.Layer<Repositories, E>
) =>
  layer(storage, { timeout: "120 seconds", excludeTestServices: true })(`repository contract: ${backend}`, (it) => {
    it.effect("workspace: upsert replaces, get returns the stored value, a missing one is NotFound", () =>
      Effect.gen(function*() {
        const repo = yield* WorkspaceRepo
        const id = F.freshWorkspaceId()
        yield* repo.upsert(F.workspace(id, "first"))
        yield* repo.upsert(F.workspace(id, "second"))
        expect(yield* repo.get(id)).toEqual(F.workspace(id, "second"))
        const missing = yield* reasonOf(repo.get(F.freshWorkspaceId("missing")))
        expect(missing._tag).toBe("NotFound")
      }))

    it.effect("scan: insert then get round-trips; a duplicate id is a Conflict and changes nothing", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const original = F.scan(ws, "scan-a", 1)
        yield* repo.insert(original)
        expect(yield* repo.get(ws, "scan-a")).toEqual(original)
        const duplicate = yield* reasonOf(repo.insert({ ...original, seed: 7 }))
        expect(duplicate).toMatchObject({ _tag: "Conflict", entity: "scan", id: "scan-a" })
        expect(yield* repo.get(ws, "scan-a")).toEqual(original)
      }))

    it.effect("scan: the same id in two workspaces is two scans, each invisible to the other", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const a = F.freshWorkspaceId("a")
        const b = F.freshWorkspaceId("b")
        yield* repo.insert(F.scan(a, "shared-id", 1))
        yield* repo.insert(F.scan(b, "shared-id", 2, "running"))
        expect((yield* repo.get(a, "shared-id")).state).toBe("scheduled")
        expect((yield* repo.get(b, "shared-id")).state).toBe("running")
        const c = F.freshWorkspaceId("c")
        expect(yield* repo.list(c)).toEqual([])
        expect((yield* reasonOf(repo.get(c, "shared-id")))._tag).toBe("NotFound")
      }))

    it.effect("scan: update replaces an existing scan; updating a missing one is NotFound", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        yield* repo.insert(F.scan(ws, "scan-u", 1))
        const running = { ...F.scan(ws, "scan-u", 1, "running"), blendedScore: 0.75, verdict: "go" as const }
        yield* repo.update(running)
        expect(yield* repo.get(ws, "scan-u")).toEqual(running)
        const missing = yield* reasonOf(repo.update(F.scan(ws, "scan-none", 1)))
        expect(missing).toMatchObject({ _tag: "NotFound", id: "scan-none" })
        // An update naming another workspace cannot reach this one's row.
        const other = F.freshWorkspaceId("other")
        const foreign = yield* reasonOf(repo.update({ ...running, workspaceId: other, state: "failed" }))
        expect(foreign._tag).toBe("NotFound")
        expect((yield* repo.get(ws, "scan-u")).state).toBe("running")
      }))

    it.effect("scan: updateHeld writes only while the stored lease is the holder's (owner and take); another's lease writes nothing", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const lease = (owner: string, take?: string) => ({ owner, expiresAt: "2026-01-01T00:10:00.000Z", ...(take === undefined ? {} : { take }) })
        const held = { ...F.scan(ws, "scan-h", 1, "running"), lease: lease("workflow:exec-1", "runner-a.1") }
        yield* repo.insert(held)
        const progressed: Scan = { ...held, completedPhases: ["preflight", "observe"] }
        expect(yield* repo.updateHeld(progressed, { owner: "workflow:exec-1", take: "runner-a.1" })).toBe(true)
        expect((yield* repo.get(ws, "scan-h")).completedPhases).toEqual(["preflight", "observe"])
        // Another take of the same execution now holds it: the stalled take's write is refused.
        const taken: Scan = { ...held, completedPhases: ["preflight", "observe"], lease: lease("workflow:exec-1", "runner-b.1") }
        yield* repo.update(taken)
        const stale: Scan = { ...held, completedPhases: ["preflight"] }
        expect(yield* repo.updateHeld(stale, { owner: "workflow:exec-1", take: "runner-a.1" })).toBe(false)
        expect(yield* repo.updateHeld(stale, { owner: "workflow:exec-1" })).toBe(false)
        expect(yield* repo.updateHeld(stale, { owner: "someone-else", take: "runner-b.1" })).toBe(false)
        expect(yield* repo.get(ws, "scan-h")).toEqual(taken)
        // A lease without a take is held by the owner alone.
        const plain = { ...F.scan(ws, "scan-p", 2, "running"), lease: lease("process-1") }
        yield* repo.insert(plain)
        expect(yield* repo.updateHeld({ ...plain, state: "completed" }, { owner: "process-1" })).toBe(true)
        expect(yield* repo.updateHeld({ ...plain, state: "failed" }, { owner: "process-1", take: "x" })).toBe(false)
        expect((yield* repo.get(ws, "scan-p")).state).toBe("completed")
        // No lease at all: nobody holds it.
        const free = F.scan(ws, "scan-f", 3)
        yield* repo.insert(free)
        expect(yield* repo.updateHeld({ ...free, state: "running" }, { owner: "process-1" })).toBe(false)
        const missing = yield* reasonOf(Effect.asVoid(repo.updateHeld(F.scan(ws, "scan-none", 1), { owner: "process-1" })))
        expect(missing).toMatchObject({ _tag: "NotFound", id: "scan-none" })
      }))

    it.effect("scan: updateHeld takes over a lease left behind only as observed (its expiry too, or no lease): of two takers, one wins", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const observed = { owner: "workflow:exec-2", expiresAt: "2026-01-01T00:10:00.000Z", take: "runner-a.1" }
        const left: Scan = { ...F.scan(ws, "scan-l", 1, "running"), lease: observed }
        yield* repo.insert(left)
        const takeOver = (take: string): Scan => ({ ...left, resumes: 1, lease: { ...observed, expiresAt: "2026-01-01T00:11:00.000Z", take } })
        const holder = { owner: observed.owner, take: observed.take, expiresAt: observed.expiresAt }
        expect(yield* repo.updateHeld(takeOver("plan-a"), holder)).toBe(true)
        // The second taker read the same row: the lease changed under it, nothing is written.
        expect(yield* repo.updateHeld(takeOver("plan-b"), holder)).toBe(false)
        expect((yield* repo.get(ws, "scan-l")).lease?.take).toBe("plan-a")
        // Renewed (same owner and take, a later expiry): a taker that saw the older expiry loses.
        const renewed: Scan = { ...takeOver("plan-a"), lease: { ...observed, take: "plan-a", expiresAt: "2026-01-01T00:12:00.000Z" } }
        yield* repo.update(renewed)
        expect(yield* repo.updateHeld({ ...renewed, state: "abandoned" }, { owner: observed.owner, take: "plan-a", expiresAt: "2026-01-01T00:11:00.000Z" })).toBe(false)
        expect((yield* repo.get(ws, "scan-l")).state).toBe("running")
        // A row without a lease is taken by the holder "nobody", once.
        const free = F.scan(ws, "scan-n", 2, "running")
        yield* repo.insert(free)
        expect(yield* repo.updateHeld({ ...free, lease: { owner: "workflow:exec-3", expiresAt: observed.expiresAt } }, { owner: null })).toBe(true)
        expect(yield* repo.updateHeld({ ...free, lease: { owner: "workflow:exec-4", expiresAt: observed.expiresAt } }, { owner: null })).toBe(false)
        expect((yield* repo.get(ws, "scan-n")).lease?.owner).toBe("workflow:exec-3")
      }))

    it.effect("scan: list is newest first, ties broken by id descending", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        yield* repo.insert(F.scan(ws, "scan-b", 5))
        yield* repo.insert(F.scan(ws, "scan-old", 1))
        yield* repo.insert(F.scan(ws, "scan-a", 5))
        yield* repo.insert(F.scan(ws, "scan-new", 9))
        expect((yield* repo.list(ws)).map((s) => s.id)).toEqual(["scan-new", "scan-b", "scan-a", "scan-old"])
      }))

    it.effect("scan: listCompleted is the completed scans only, newest first, each as its header; a scan completed later is in it", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const attributed: Scan = { ...F.scan(ws, "scan-b", 5, "completed"), attribution: F.attribution, verdict: "caution", blendedScore: 0.625 }
        yield* repo.insert(attributed)
        yield* repo.insert(F.scan(ws, "scan-a", 5, "completed"))
        yield* repo.insert(F.scan(ws, "scan-running", 7, "running"))
        yield* repo.insert(F.scan(ws, "scan-failed", 8, "failed"))
        yield* repo.insert(F.scan(F.freshWorkspaceId("other"), "scan-elsewhere", 9, "completed"))
        const header = ({ attribution, blendedScore, createdAt, id, state, updatedAt, verdict, workspaceId }: Scan) => ({
          id,
          workspaceId,
          state,
          ...(attribution === undefined ? {} : { attribution }),
          ...(verdict === undefined ? {} : { verdict }),
          ...(blendedScore === undefined ? {} : { blendedScore }),
          createdAt,
          updatedAt
        })
        expect(yield* repo.listCompleted(ws)).toEqual([header(attributed), header(F.scan(ws, "scan-a", 5, "completed"))])
        const finished: Scan = { ...F.scan(ws, "scan-running", 7, "completed"), verdict: "go", updatedAt: "2025-01-01T01:00:00.000Z" }
        yield* repo.update(finished)
        expect(yield* repo.listCompleted(ws)).toEqual([header(finished), header(attributed), header(F.scan(ws, "scan-a", 5, "completed"))])
      }))

    it.effect("scan: summaries are kept per workspace and settings, read back in one map; saving a scan's again keeps the first", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const settings = "level=0.95;resamples=1999"
        const first = [F.scanSummary(ws, "scan-1", 0.5), F.scanSummary(ws, "scan-2", 0.75)]
        yield* repo.saveSummaries(ws, settings, first)
        yield* repo.saveSummaries(ws, settings, [F.scanSummary(ws, "scan-2", 0.25), F.scanSummary(ws, "scan-3", 0.125)])
        yield* repo.saveSummaries(ws, settings, [])
        const kept = yield* repo.summaries(ws, settings)
        expect(Object.fromEntries(kept)).toEqual({
          "scan-1": first[0],
          "scan-2": first[1],
          "scan-3": F.scanSummary(ws, "scan-3", 0.125)
        })
        expect((yield* repo.summaries(ws, "level=0.9;resamples=1999")).size).toBe(0)
        expect((yield* repo.summaries(F.freshWorkspaceId("other"), settings)).size).toBe(0)
        const stray = yield* reasonOf(repo.saveSummaries(ws, settings, [F.scanSummary(F.freshWorkspaceId("other"), "scan-9", 0.5)]))
        expect(stray).toMatchObject({ _tag: "Refused", entity: "scan summary", id: "scan-9" })
        expect((yield* repo.summaries(ws, settings)).has("scan-9")).toBe(false)
      }))

    it.effect("scan: phase outputs are written once per phase (last write wins) and scoped to their scan", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        yield* repo.savePhaseOutput(ws, "scan-p", "preflight", { mode: "blended", counts: [1, 2.5] })
        yield* repo.savePhaseOutput(ws, "scan-p", "observe", { traces: 40 })
        yield* repo.savePhaseOutput(ws, "scan-p", "preflight", { mode: "synthetic_only", counts: [] })
        yield* repo.savePhaseOutput(ws, "scan-q", "calibrate", "other scan")
        const outputs = yield* repo.phaseOutputs(ws, "scan-p")
        expect([...outputs.entries()]).toEqual([
          ["preflight", { mode: "synthetic_only", counts: [] }],
          ["observe", { traces: 40 }]
        ])
        expect((yield* repo.phaseOutputs(F.freshWorkspaceId(), "scan-p")).size).toBe(0)
        // One phase alone, without reading the others.
        expect(yield* repo.phaseOutput(ws, "scan-p", "observe")).toEqual(Option.some({ traces: 40 }))
        expect(yield* repo.phaseOutput(ws, "scan-p", "verdict")).toEqual(Option.none())
        expect(yield* repo.phaseOutput(F.freshWorkspaceId(), "scan-p", "observe")).toEqual(Option.none())
        // One phase of every scan, in one read.
        expect([...(yield* repo.phaseOutputsOf(ws, "preflight")).entries()]).toEqual([["scan-p", { mode: "synthetic_only", counts: [] }]])
        expect([...(yield* repo.phaseOutputsOf(ws, "calibrate")).entries()]).toEqual([["scan-q", "other scan"]])
        expect((yield* repo.phaseOutputsOf(ws, "verdict")).size).toBe(0)
      }))

    it.effect("scan: a phase output's parts are stored apart in chunks and read back whole; a rewrite replaces every chunk", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const run = (i: number, arm: string) => ({ stimulusId: `stim-${i}`, epoch: 0, traceId: `${arm}-t-${i}`, blended: (i % 7) / 7, passed: i % 3 === 0, output: `said ${i}` })
        const observeOf = (samples: number, runs: number) => ({
          evalSet: { id: "set", samples: Array.from({ length: samples }, (_, i) => ({ id: `stim-${i}`, input: `stimulus ${i}`, provenance: "rule_grounded" })) },
          baseline: { arm: "baseline", runs: Array.from({ length: runs }, (_, i) => run(i, "baseline")) }
        })
        const optimizeOf = (runs: number) => ({
          winner: { candidate: { id: "cand-1" }, measurement: { arm: "cand-1", runs: Array.from({ length: runs }, (_, i) => run(i, "cand")) }, workingDelta: 0.1 },
          decisionLog: [],
          budgetExhausted: false
        })
        // Several chunks, the last one short.
        const observe = observeOf(1_001, 2_345)
        const optimize = optimizeOf(1_500)
        yield* repo.savePhaseOutput(ws, "scan-1", "observe", observe)
        yield* repo.savePhaseOutput(ws, "scan-1", "optimize", optimize)
        yield* repo.savePhaseOutput(ws, "scan-2", "optimize", { ...optimize, winner: null })
        expect(yield* repo.phaseOutput(ws, "scan-1", "observe")).toEqual(Option.some(observe))
        expect(yield* repo.phaseOutput(ws, "scan-1", "optimize")).toEqual(Option.some(optimize))
        expect(yield* repo.phaseOutput(ws, "scan-2", "optimize")).toEqual(Option.some({ ...optimize, winner: null }))
        expect([...(yield* repo.phaseOutputs(ws, "scan-1")).entries()]).toEqual([["observe", observe], ["optimize", optimize]])
        expect([...(yield* repo.phaseOutputsOf(ws, "optimize")).entries()]).toEqual([["scan-1", optimize], ["scan-2", { ...optimize, winner: null }]])
        expect(unresolvedPhaseOutputParts("observe", Option.getOrThrow(yield* repo.phaseOutput(ws, "scan-1", "observe")))).toEqual([])
        // The same output again (a phase re-run after a kill) reads back the same; a shorter one leaves no stale chunk behind.
        yield* repo.savePhaseOutput(ws, "scan-1", "observe", observe)
        expect(yield* repo.phaseOutput(ws, "scan-1", "observe")).toEqual(Option.some(observe))
        const shorter = observeOf(3, 1_000)
        yield* repo.savePhaseOutput(ws, "scan-1", "observe", shorter)
        expect(yield* repo.phaseOutput(ws, "scan-1", "observe")).toEqual(Option.some(shorter))
        // Another workspace sees none of it.
        expect(yield* repo.phaseOutput(F.freshWorkspaceId(), "scan-1", "observe")).toEqual(Option.none())
        // Redaction reaches a stimulus's content in whichever chunk it is stored, and only there.
        const marker = "[redacted]"
        expect(yield* repo.redactPhaseOutputs(ws, "stim-1200", marker)).toBe(1)
        const redacted = Option.getOrThrow(yield* repo.phaseOutput(ws, "scan-1", "optimize"))
        expect(redacted).toEqual({
          ...optimize,
          winner: { ...optimize.winner, measurement: { ...optimize.winner.measurement, runs: optimize.winner.measurement.runs.map((r) => (r.stimulusId === "stim-1200" ? { ...r, output: marker } : r)) } }
        })
        expect(yield* repo.redactPhaseOutputs(ws, "stim-1200", marker)).toBe(0)
      }))

    it.effect("scan: phaseOutputFieldOf reads one field of a phase's outputs, by scan, as phaseOutputsOf has it (parts under it joined back)", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const composite = (blended: number) => ({ blendedScore: { _tag: "Present", value: blended }, agents: { reader: blended } })
        yield* repo.savePhaseOutput(ws, "scan-1", "verdict", { verdict: { outcome: "go", checks: ["a", "b"] }, composite: composite(0.5) })
        yield* repo.savePhaseOutput(ws, "scan-2", "verdict", { verdict: { outcome: "no_go" }, composite: null })
        yield* repo.savePhaseOutput(ws, "scan-3", "verdict", { verdict: { outcome: "caution" } })
        yield* repo.savePhaseOutput(ws, "scan-4", "verdict", [1, 2])
        yield* repo.savePhaseOutput(ws, "scan-1", "calibrate", { composite: composite(0.9) })
        yield* repo.savePhaseOutput(F.freshWorkspaceId("other"), "scan-5", "verdict", { composite: composite(0.1) })
        expect([...(yield* repo.phaseOutputFieldOf(ws, "verdict", "composite")).entries()]).toEqual([
          ["scan-1", composite(0.5)],
          ["scan-2", null],
          ["scan-3", undefined],
          ["scan-4", undefined]
        ])
        expect([...(yield* repo.phaseOutputFieldOf(ws, "verdict", "missing")).values()]).toEqual([undefined, undefined, undefined, undefined])
        expect((yield* repo.phaseOutputFieldOf(ws, "safety", "composite")).size).toBe(0)
        const runs = Array.from({ length: 1_234 }, (_, i) => ({ stimulusId: `stim-${i}`, traceId: `t-${i}`, blended: (i % 5) / 5 }))
        const observe = { evalSet: { id: "set", samples: [] }, baseline: { arm: "baseline", runs } }
        yield* repo.savePhaseOutput(ws, "scan-1", "observe", observe)
        expect([...(yield* repo.phaseOutputFieldOf(ws, "observe", "baseline")).entries()]).toEqual([["scan-1", observe.baseline]])
      }))

    it.effect("scan: verdict and divergence are one per scan, replaced on save, NotFound before", () =>
      Effect.gen(function*() {
        const repo = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        expect((yield* reasonOf(repo.verdict(ws, "scan-v")))._tag).toBe("NotFound")
        expect((yield* reasonOf(repo.divergence(ws, "scan-v")))._tag).toBe("NotFound")
        yield* repo.saveVerdict(F.verdict(ws, "scan-v", "caution"))
        yield* repo.saveVerdict(F.verdict(ws, "scan-v", "go"))
        yield* repo.saveDivergence(F.divergence(ws, "scan-v"))
        expect(yield* repo.verdict(ws, "scan-v")).toEqual(F.verdict(ws, "scan-v", "go"))
        expect(yield* repo.divergence(ws, "scan-v")).toEqual(F.divergence(ws, "scan-v"))
        const other = F.freshWorkspaceId()
        expect((yield* reasonOf(repo.verdict(other, "scan-v")))._tag).toBe("NotFound")
        expect((yield* reasonOf(repo.divergence(other, "scan-v")))._tag).toBe("NotFound")
      }))

    it.effect("scan traces: re-inserting (a resumed phase) stores each trace once, first write kept, in order", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        const [a, b, c] = ["t-a", "t-b", "t-c"].map((id) => F.scanTrace(ws, "scan-1", id))
        yield* repo.insertTraces(ws, [a!, b!])
        yield* repo.insertTraces(ws, [{ ...b!, segment: "rewritten" }, c!])
        yield* repo.insertTraces(ws, [])
        yield* repo.insertTraces(ws, [F.scanTrace(ws, "scan-2", "t-z")])
        expect(yield* repo.traces(ws, "scan-1")).toEqual([a, b, c])
        expect((yield* repo.traces(ws, "scan-2")).map((t) => t.id)).toEqual(["t-z"])
        expect(yield* repo.traces(F.freshWorkspaceId(), "scan-1")).toEqual([])
      }))

    it.effect("scan traces: a large batch is stored whole and in order", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        const traces = Array.from({ length: 1234 }, (_, i) => F.scanTrace(ws, "scan-big", `t-${i}`))
        yield* repo.insertTraces(ws, traces)
        const stored = yield* repo.traces(ws, "scan-big")
        expect(stored.length).toBe(1234)
        expect(stored.map((t) => t.id)).toEqual(traces.map((t) => t.id))
      }))

    it.effect("eval results: idempotent on id, listed per scan", () =>
      Effect.gen(function*() {
        const repo = yield* ScanTraceRepo
        const ws = F.freshWorkspaceId()
        const r1 = F.evalResult(ws, "scan-1", "r-1")
        const r2 = F.evalResult(ws, "scan-1", "r-2")
        yield* repo.insertResults(ws, [r1, r2])
        yield* repo.insertResults(ws, [{ ...r1, score: 0.1 }])
        yield* repo.insertResults(ws, [F.evalResult(ws, "scan-2", "r-3")])
        expect(yield* repo.results(ws, "scan-1")).toEqual([r1, r2])
        expect(yield* repo.results(F.freshWorkspaceId(), "scan-1")).toEqual([])
      }))

    it.effect("failure clusters: idempotent on id, listed per scan and workspace", () =>
      Effect.gen(function*() {
        const repo = yield* FailureClusterRepo
        const ws = F.freshWorkspaceId()
        const k1 = F.failureCluster(ws, "scan-1", "k-1")
        const k2 = F.failureCluster(ws, "scan-1", "k-2")
        yield* repo.insert(ws, [k1, k2, { ...k1, label: "duplicate in the same batch" }])
        yield* repo.insert(ws, [{ ...k2, label: "changed" }])
        yield* repo.insert(ws, [F.failureCluster(ws, "scan-2", "k-3")])
        expect(yield* repo.list(ws, "scan-1")).toEqual([k1, k2])
        expect(yield* repo.list(F.freshWorkspaceId(), "scan-1")).toEqual([])
      }))

    it.effect("change sets: insert/get/list (highest version first); duplicate id or version is a Conflict", () =>
      Effect.gen(function*() {
        const repo = yield* ChangeSetRepo
        const ws = F.freshWorkspaceId()
        const v1 = F.changeSet(ws, "cs-1", 1, "accepted")
        const v2 = F.changeSet(ws, "cs-2", 2)
        yield* repo.insert(v1)
        yield* repo.insert(v2)
        expect(yield* repo.get(ws, "cs-2")).toEqual(v2)
        expect((yield* repo.list(ws)).map((c) => c.id)).toEqual(["cs-2", "cs-1"])
        const sameId = yield* reasonOf(repo.insert({ ...v1, version: 3 }))
        expect(sameId).toMatchObject({ _tag: "Conflict", entity: "change set", id: "cs-1" })
        const sameVersion = yield* reasonOf(repo.insert(F.changeSet(ws, "cs-other", 2)))
        expect(sameVersion._tag).toBe("Conflict")
        expect(sameVersion._tag === "Conflict" ? sameVersion.message : "").toContain("version 2")
        expect((yield* repo.list(ws)).length).toBe(2)
        // Ids and versions are per workspace.
        const other = F.freshWorkspaceId()
        yield* repo.insert(F.changeSet(other, "cs-1", 1))
        expect((yield* repo.list(other)).map((c) => c.status)).toEqual(["proposed"])
        expect((yield* reasonOf(repo.get(other, "cs-2")))._tag).toBe("NotFound")
      }))

    it.effect("change sets: update is a compare-and-set on status", () =>
      Effect.gen(function*() {
        const repo = yield* ChangeSetRepo
        const ws = F.freshWorkspaceId()
        const proposed = F.changeSet(ws, "cs-cas", 1, "proposed")
        yield* repo.insert(proposed)
        const accepted = { ...proposed, status: "accepted" as const, autonomyIntent: "bounded_auto" }
        yield* repo.update(accepted, "proposed")
        expect(yield* repo.get(ws, "cs-cas")).toEqual(accepted)
        const lost = yield* reasonOf(repo.update({ ...proposed, status: "rejected" }, "proposed"))
        expect(lost).toMatchObject({ _tag: "Conflict", id: "cs-cas" })
        expect(lost._tag === "Conflict" ? lost.message : "").toContain("accepted")
        expect((yield* repo.get(ws, "cs-cas")).status).toBe("accepted")
        const missing = yield* reasonOf(repo.update(F.changeSet(ws, "cs-none", 9), "proposed"))
        expect(missing._tag).toBe("NotFound")
      }))

    it.effect("change sets: of two racing transitions from the same status exactly one wins", () =>
      Effect.gen(function*() {
        const repo = yield* ChangeSetRepo
        const ws = F.freshWorkspaceId()
        const proposed = F.changeSet(ws, "cs-race", 1, "proposed")
        yield* repo.insert(proposed)
        const outcomes = yield* Effect.all(
          (["accepted", "rejected", "validated", "accepted"] as const).map((status) =>
            Effect.result(repo.update({ ...proposed, status }, "proposed"))
          ),
          { concurrency: "unbounded" }
        )
        const winners = outcomes.filter((outcome) => outcome._tag === "Success")
        expect(winners.length).toBe(1)
        for (const outcome of outcomes) {
          if (outcome._tag === "Failure") expect(outcome.failure.reason._tag).toBe("Conflict")
        }
        expect((yield* repo.get(ws, "cs-race")).status).not.toBe("proposed")
      }))

    it.effect("change sets: the audit is append-only, per change set, in order", () =>
      Effect.gen(function*() {
        const repo = yield* ChangeSetRepo
        const ws = F.freshWorkspaceId()
        const entries = ["proposed", "accepted", "superseded"].map((action, i) => F.auditEntry(ws, "cs-1", `a-${i}`, action))
        for (const entry of entries) yield* repo.appendAudit(entry)
        yield* repo.appendAudit(F.auditEntry(ws, "cs-2", "a-x"))
        expect(yield* repo.audit(ws, "cs-1")).toEqual(entries)
        expect(yield* repo.audit(F.freshWorkspaceId(), "cs-1")).toEqual([])
      }))

    it.effect("samples: upsert replaces by id and keeps first-insertion order; sample sets newest version first", () =>
      Effect.gen(function*() {
        const repo = yield* SampleRepo
        const ws = F.freshWorkspaceId()
        yield* repo.upsertSamples(ws, [F.sample(ws, "s-1"), F.sample(ws, "s-2")])
        const tombstoned = {
          ...F.sample(ws, "s-1", "historical"),
          traceRef: { _tag: "Tombstone" as const, traceId: "trace-s-1", removedAt: "2025-04-01T00:00:00.000Z", reason: "retention" }
        }
        yield* repo.upsertSamples(ws, [tombstoned, F.sample(ws, "s-3")])
        expect(yield* repo.samples(ws)).toEqual([tombstoned, F.sample(ws, "s-2"), F.sample(ws, "s-3")])
        yield* repo.insertSampleSet(F.sampleSet(ws, "set-1", 1))
        yield* repo.insertSampleSet(F.sampleSet(ws, "set-3", 3))
        yield* repo.insertSampleSet(F.sampleSet(ws, "set-2", 2))
        expect((yield* repo.sampleSets(ws)).map((s) => s.version)).toEqual([3, 2, 1])
        const other = F.freshWorkspaceId()
        expect(yield* repo.samples(other)).toEqual([])
        expect(yield* repo.sampleSets(other)).toEqual([])
      }))

    it.effect("traces: append-only, idempotent on (traceId, spanId), returns how many were new", () =>
      Effect.gen(function*() {
        const repo = yield* TraceRepo
        const ws = F.freshWorkspaceId()
        const s1 = F.trace(ws, "trace-1", "span-1")
        const s2 = F.trace(ws, "trace-1", "span-2")
        const s3 = F.trace(ws, "trace-2", "span-1")
        expect(yield* repo.append(ws, [s1, s2])).toBe(2)
        expect(yield* repo.append(ws, [{ ...s2, name: "changed" }, s3, s3])).toBe(1)
        expect(yield* repo.append(ws, [])).toBe(0)
        expect(yield* repo.list(ws)).toEqual([s1, s2, s3])
        expect(yield* repo.list(F.freshWorkspaceId())).toEqual([])
      }))

    it.effect("retention records: track keeps a known trace as it is, saveRecords replaces; in first-seen order", () =>
      Effect.gen(function*() {
        const repo = yield* RetentionRepo
        const ws = F.freshWorkspaceId()
        yield* repo.track(ws, [F.retentionRecord(ws, "trace-1"), F.retentionRecord(ws, "trace-2")])
        yield* repo.track(ws, [F.retentionRecord(ws, "trace-1", "ORPHANED"), F.retentionRecord(ws, "trace-3")])
        expect((yield* repo.records(ws)).map((r) => [r.traceId, r.state])).toEqual([
          ["trace-1", "ACTIVE"],
          ["trace-2", "ACTIVE"],
          ["trace-3", "ACTIVE"]
        ])
        yield* repo.saveRecords(ws, [F.retentionRecord(ws, "trace-2", "TOMBSTONED"), F.retentionRecord(ws, "trace-4", "REFERENCED")])
        expect(yield* repo.records(ws)).toEqual([
          F.retentionRecord(ws, "trace-1"),
          F.retentionRecord(ws, "trace-2", "TOMBSTONED"),
          F.retentionRecord(ws, "trace-3"),
          F.retentionRecord(ws, "trace-4", "REFERENCED")
        ])
        expect(yield* repo.records(F.freshWorkspaceId())).toEqual([])
      }))

    it.effect("retention events: idempotent on id, oldest first; policies and holds replace by key", () =>
      Effect.gen(function*() {
        const repo = yield* RetentionRepo
        const ws = F.freshWorkspaceId()
        const e1 = F.retentionEvent(ws, "e-1", "trace-1")
        const e2 = F.retentionEvent(ws, "e-2", "trace-2")
        yield* repo.appendEvents(ws, [e1, e2])
        yield* repo.appendEvents(ws, [{ ...e2, reason: "again" }, F.retentionEvent(ws, "e-3", "trace-3")])
        expect((yield* repo.events(ws)).map((e) => e.id)).toEqual(["e-1", "e-2", "e-3"])
        expect((yield* repo.events(ws))[1]).toEqual(e2)
        yield* repo.setPolicy({ workspaceId: ws, entity: "trace", days: 90 })
        yield* repo.setPolicy({ workspaceId: ws, entity: "sample", days: 365 })
        yield* repo.setPolicy({ workspaceId: ws, entity: "trace", days: 30 })
        expect(yield* repo.policies(ws)).toEqual([
          { workspaceId: ws, entity: "trace", days: 30 },
          { workspaceId: ws, entity: "sample", days: 365 }
        ])
        yield* repo.saveHold(F.legalHold(ws, "hold-1"))
        yield* repo.saveHold(F.legalHold(ws, "hold-2"))
        yield* repo.saveHold(F.legalHold(ws, "hold-1", true))
        expect(yield* repo.holds(ws)).toEqual([F.legalHold(ws, "hold-1", true), F.legalHold(ws, "hold-2")])
        const other = F.freshWorkspaceId()
        expect(yield* repo.events(other)).toEqual([])
        expect(yield* repo.policies(other)).toEqual([])
        expect(yield* repo.holds(other)).toEqual([])
      }))

    it.effect("retention: purging removes every span of the named traces in that workspace only", () =>
      Effect.gen(function*() {
        const repo = yield* RetentionRepo
        const traces = yield* TraceRepo
        const ws = F.freshWorkspaceId()
        const other = F.freshWorkspaceId()
        yield* traces.append(ws, [F.trace(ws, "t-1", "s-1"), F.trace(ws, "t-1", "s-2"), F.trace(ws, "t-2", "s-1")])
        yield* traces.append(other, [F.trace(other, "t-1", "s-1")])
        expect(yield* repo.purgeTraces(ws, ["t-1", "t-unknown"])).toBe(2)
        expect(yield* repo.purgeTraces(ws, [])).toBe(0)
        expect((yield* traces.list(ws)).map((t) => t.id)).toEqual(["t-2/s-1"])
        expect((yield* traces.list(other)).map((t) => t.id)).toEqual(["t-1/s-1"])
      }))

    it.effect("redaction: one stimulus's content leaves its scan traces, their explanations and every phase output; ids, scores and other stimuli stay", () =>
      Effect.gen(function*() {
        const traces = yield* ScanTraceRepo
        const scans = yield* ScanRepo
        const ws = F.freshWorkspaceId()
        const other = F.freshWorkspaceId()
        const secret = "SECRET-4417 of the customer"
        const marker = "[redacted]"
        const withContent = (workspaceId: string, scanId: string, id: string, stimulusId: string): ScanTrace => {
          const base = F.scanTrace(workspaceId, scanId, id)
          return {
            ...base,
            stimulusId,
            provenance: "conformance_sample",
            runs: [{ ...base.runs[0]!, prompt: `File for ${secret}`, rawOutput: secret, output: { status: secret, n: 3 }, error: `could not parse ${secret}` }],
            finalOutput: { status: secret }
          }
        }
        const tA = withContent(ws, "scan-1", "t-a", "stim-1")
        const tB = withContent(ws, "scan-2", "t-b", "stim-1")
        const tC = withContent(ws, "scan-1", "t-c", "stim-2")
        yield* traces.insertTraces(ws, [tA, tC])
        yield* traces.insertTraces(ws, [tB])
        const result = (id: string, traceId: string, scanId: string): EvalResult => ({ ...F.evalResult(ws, scanId, id), traceId, explanation: `quotes ${secret}` })
        const [rA, rB, rC] = [result("r-a", "t-a", "scan-1"), result("r-b", "t-b", "scan-2"), result("r-c", "t-c", "scan-1")]
        yield* traces.insertResults(ws, [rA!, rB!, rC!])
        const observe = {
          evalSet: {
            id: "set",
            samples: [
              { id: "stim-1", input: secret, expected: { status: "single" }, provenance: "conformance_sample" },
              { id: "stim-2", input: "a synthetic stimulus", expected: { status: "single" }, provenance: "rule_grounded" }
            ]
          },
          baseline: {
            arm: "baseline",
            runs: [
              { stimulusId: "stim-1", traceId: "t-a", blended: 0.5, explanation: secret, output: secret, agentOutputs: { intake: { status: secret } } },
              { stimulusId: "stim-2", traceId: "t-c", blended: 0.9, explanation: "fine", output: "{}", agentOutputs: { intake: { status: "single" } } }
            ]
          }
        }
        yield* scans.savePhaseOutput(ws, "scan-1", "observe", observe)
        yield* scans.savePhaseOutput(ws, "scan-1", "calibrate", { reasons: ["nothing of stim-1 here"] })
        yield* scans.savePhaseOutput(ws, "scan-2", "optimize", { passing: [{ stimulusId: "stim-1", input: secret, segment: "single" }] })
        yield* traces.insertTraces(other, [withContent(other, "scan-1", "t-a", "stim-1")])
        yield* scans.savePhaseOutput(other, "scan-1", "observe", observe)

        expect(yield* traces.redactStimulus(ws, "stim-1", marker)).toEqual({ scanTraces: 2, evalResults: 2 })
        expect(yield* scans.redactPhaseOutputs(ws, "stim-1", marker)).toBe(2)
        const redactedTrace = (trace: ScanTrace): ScanTrace => ({
          ...trace,
          runs: [{ ...trace.runs[0]!, prompt: marker, rawOutput: marker, output: { status: marker, n: marker }, error: marker }],
          finalOutput: { status: marker }
        })
        expect(yield* traces.traces(ws, "scan-1")).toEqual([redactedTrace(tA), tC])
        expect(yield* traces.traces(ws, "scan-2")).toEqual([redactedTrace(tB)])
        expect(yield* traces.results(ws, "scan-1")).toEqual([{ ...rA!, explanation: marker }, rC])
        expect(yield* traces.results(ws, "scan-2")).toEqual([{ ...rB!, explanation: marker }])
        const phases = yield* scans.phaseOutputs(ws, "scan-1")
        expect(phases.get("observe")).toEqual({
          evalSet: { ...observe.evalSet, samples: [{ ...observe.evalSet.samples[0]!, input: marker }, observe.evalSet.samples[1]] },
          baseline: {
            ...observe.baseline,
            runs: [{ ...observe.baseline.runs[0]!, explanation: marker, output: marker, agentOutputs: { intake: { status: marker } } }, observe.baseline.runs[1]]
          }
        })
        expect(phases.get("calibrate")).toEqual({ reasons: ["nothing of stim-1 here"] })
        expect((yield* scans.phaseOutputs(ws, "scan-2")).get("optimize")).toEqual({ passing: [{ stimulusId: "stim-1", input: marker, segment: "single" }] })
        // Idempotent, and another workspace's rows are out of reach.
        expect(yield* traces.redactStimulus(ws, "stim-1", marker)).toEqual({ scanTraces: 0, evalResults: 0 })
        expect(yield* scans.redactPhaseOutputs(ws, "stim-1", marker)).toBe(0)
        expect(yield* traces.redactStimulus(ws, "stim-unknown", marker)).toEqual({ scanTraces: 0, evalResults: 0 })
        expect(JSON.stringify(yield* traces.traces(other, "scan-1"))).toContain(secret)
        expect((yield* scans.phaseOutputs(other, "scan-1")).get("observe")).toEqual(observe)
      }))

    it.effect("ingest keys: found by hash alone (which tells the workspace); an unknown hash is NotFound", () =>
      Effect.gen(function*() {
        const repo = yield* IngestKeyRepo
        const ws = F.freshWorkspaceId()
        const hash = `sha256-${ws}`
        yield* repo.save(F.ingestKey(ws, hash))
        yield* repo.save({ ...F.ingestKey(ws, hash), revokedAt: "2025-02-01T00:00:00.000Z" })
        expect(yield* repo.findByHash(hash)).toEqual({ ...F.ingestKey(ws, hash), revokedAt: "2025-02-01T00:00:00.000Z" })
        expect((yield* reasonOf(repo.findByHash(`${hash}-unknown`)))._tag).toBe("NotFound")
      }))

    it.effect("api keys: found by hash alone with their scope; listed per workspace, oldest first; a revocation is kept", () =>
      Effect.gen(function*() {
        const repo = yield* ApiKeyRepo
        const ws = F.freshWorkspaceId("api")
        const other = F.freshWorkspaceId("api-other")
        const key = (hash: string, workspaceId: string, scope: "read" | "write" | "admin") =>
          ({ workspaceId, keyHash: hash, scope, label: `key ${hash}`, createdAt: "2025-01-01T00:00:00.000Z" })
        yield* repo.save(key(`sha256-r-${ws}`, ws, "read"))
        yield* repo.save(key(`sha256-a-${ws}`, ws, "admin"))
        yield* repo.save(key(`sha256-w-${other}`, other, "write"))
        yield* repo.save({ ...key(`sha256-r-${ws}`, ws, "read"), revokedAt: "2025-02-01T00:00:00.000Z" })
        expect(yield* repo.findByHash(`sha256-a-${ws}`)).toEqual(key(`sha256-a-${ws}`, ws, "admin"))
        expect(yield* repo.findByHash(`sha256-w-${other}`)).toEqual(key(`sha256-w-${other}`, other, "write"))
        expect((yield* repo.list(ws)).map((k) => [k.keyHash, k.scope, k.revokedAt])).toEqual([
          [`sha256-r-${ws}`, "read", "2025-02-01T00:00:00.000Z"],
          [`sha256-a-${ws}`, "admin", undefined]
        ])
        expect((yield* reasonOf(repo.findByHash(`sha256-unknown-${ws}`)))._tag).toBe("NotFound")
      }))

    it.effect("a row naming another workspace is Refused, and nothing of the batch is stored", () =>
      Effect.gen(function*() {
        const a = F.freshWorkspaceId("a")
        const b = F.freshWorkspaceId("b")
        const traces = yield* ScanTraceRepo
        const refused = yield* reasonOf(traces.insertTraces(a, [F.scanTrace(a, "scan-1", "t-1"), F.scanTrace(b, "scan-1", "t-2")]))
        expect(refused).toMatchObject({ _tag: "Refused", entity: "scan trace", id: "t-2" })
        expect(yield* traces.traces(a, "scan-1")).toEqual([])
        expect(yield* traces.traces(b, "scan-1")).toEqual([])
        expect((yield* reasonOf(traces.insertResults(a, [F.evalResult(b, "scan-1", "r-1")])))._tag).toBe("Refused")
        expect(yield* traces.results(a, "scan-1")).toEqual([])
        const raw = yield* TraceRepo
        expect((yield* reasonOf(raw.append(a, [F.trace(a, "x", "z"), F.trace(b, "x", "y")])))._tag).toBe("Refused")
        expect(yield* raw.list(a)).toEqual([])
        const samples = yield* SampleRepo
        expect((yield* reasonOf(samples.upsertSamples(a, [F.sample(b, "s-1")])))._tag).toBe("Refused")
        expect(yield* samples.samples(a)).toEqual([])
        const clusters = yield* FailureClusterRepo
        expect((yield* reasonOf(clusters.insert(a, [F.failureCluster(b, "scan-1", "k")])))._tag).toBe("Refused")
        const retention = yield* RetentionRepo
        expect((yield* reasonOf(retention.track(a, [F.retentionRecord(b, "trace-1")])))._tag).toBe("Refused")
        expect((yield* reasonOf(retention.saveRecords(a, [F.retentionRecord(b, "trace-1")])))._tag).toBe("Refused")
        expect((yield* reasonOf(retention.appendEvents(a, [F.retentionEvent(b, "e-1", "trace-1")])))._tag).toBe("Refused")
        expect(yield* retention.records(a)).toEqual([])
        expect(yield* retention.events(a)).toEqual([])
      }))

    it.effect("change sets: a repeated audit entry id is ignored (the first entry stays)", () =>
      Effect.gen(function*() {
        const repo = yield* ChangeSetRepo
        const ws = F.freshWorkspaceId()
        const first = F.auditEntry(ws, "cs-1", "a-1", "proposed")
        yield* repo.appendAudit(first)
        yield* repo.appendAudit({ ...first, action: "accepted" })
        yield* repo.appendAudit({ ...first, changeSetId: "cs-2", action: "moved" })
        expect(yield* repo.audit(ws, "cs-1")).toEqual([first])
        expect(yield* repo.audit(ws, "cs-2")).toEqual([])
      }))

    it.effect("sample sets: every version of one set is kept, newest first; storing a version again replaces that version only", () =>
      Effect.gen(function*() {
        const repo = yield* SampleRepo
        const ws = F.freshWorkspaceId()
        yield* repo.insertSampleSet(F.sampleSet(ws, "curated", 1))
        yield* repo.insertSampleSet({ ...F.sampleSet(ws, "curated", 2), working: ["s-9"] })
        yield* repo.insertSampleSet({ ...F.sampleSet(ws, "curated", 1), holdout: ["s-8"] })
        const stored = yield* repo.sampleSets(ws)
        expect(stored.map((s) => [s.id, s.version])).toEqual([["curated", 2], ["curated", 1]])
        expect(stored[0]!.working).toEqual(["s-9"])
        expect(stored[1]).toEqual({ ...F.sampleSet(ws, "curated", 1), holdout: ["s-8"] })
      }))

    it.effect("retention: workspacesToSweep names the workspaces with a trace not yet tombstoned or a sample not yet archived", () =>
      Effect.gen(function*() {
        const repo = yield* RetentionRepo
        const samples = yield* SampleRepo
        const [live, done, sampled, archived] = ["live", "done", "sampled", "archived"].map((label) => F.freshWorkspaceId(label))
        yield* repo.track(live!, [F.retentionRecord(live!, "t-1"), F.retentionRecord(live!, "t-2", "TOMBSTONED")])
        yield* repo.track(done!, [F.retentionRecord(done!, "t-1", "TOMBSTONED")])
        yield* samples.upsertSamples(sampled!, [F.sample(sampled!, "s-1", "historical")])
        yield* samples.upsertSamples(archived!, [F.sample(archived!, "s-1", "archived")])
        const named = yield* repo.workspacesToSweep()
        expect(named).toContain(live)
        expect(named).toContain(sampled)
        expect(named).not.toContain(done)
        expect(named).not.toContain(archived)
        expect(named).not.toContain("")
      }))

    it.effect("template proposals: insert/get/list oldest first; a repeated id is a Conflict; update is a compare-and-set on status", () =>
      Effect.gen(function*() {
        const repo = yield* TemplateProposalRepo
        const ws = F.freshWorkspaceId()
        const first = F.templateProposal(ws, "template:advisor:1")
        const second = F.templateProposal(ws, "template:advisor:2")
        yield* repo.insert(first)
        yield* repo.insert(second)
        expect(yield* repo.get(ws, first.id)).toEqual(first)
        expect((yield* repo.list(ws)).map((p) => p.id)).toEqual([first.id, second.id])
        expect(yield* reasonOf(repo.insert({ ...first, version: 9 }))).toMatchObject({ _tag: "Conflict", id: first.id })
        const decided = { ...first, status: "accepted" as const, decision: { actor: "priya", at: "2026-01-02T00:00:00.000Z", reason: "ok" } }
        yield* repo.update(decided, "proposed")
        expect(yield* repo.get(ws, first.id)).toEqual(decided)
        expect(yield* reasonOf(repo.update({ ...first, status: "rejected" }, "proposed"))).toMatchObject({ _tag: "Conflict" })
        expect((yield* reasonOf(repo.get(ws, "template:missing:1")))._tag).toBe("NotFound")
        expect(yield* repo.list(F.freshWorkspaceId())).toEqual([])
        expect((yield* reasonOf(repo.get(F.freshWorkspaceId(), first.id)))._tag).toBe("NotFound")
      }))
  })
