/**
 * The world-evolution store (migration 8) written once and run on memory, embedded PGlite and a
 * PostgreSQL server: evidence idempotent per event and scoped to its workspace, platform-level
 * totals and candidates holding counts only, status changes compare-and-set, cursors monotone.
 * On the SQL backends also: the loop fed from the durable outbox survives a restart (drop the
 * layer, open a new one on the same folder or server, the same candidates are listed and a second
 * catch-up reads nothing), a damaged candidate row is a `Corrupt` error naming it and stays stored,
 * and the app role cannot delete platform rows.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { inject } from "vitest"
import "./PgServer.ts"
import { PgClient } from "@effect/sql-pg"
import { EventBus } from "@spectral/engine"
import { SpectralEvent } from "@spectral/engine/contracts"
import {
  catchUpEvolution,
  type EvolutionCandidate,
  EvolutionCandidateRepo,
  type EvolutionEvidence,
  EvolutionEventLog,
  normalizePatternLabel,
  patternIdOf,
  taxWorld_0_1_0,
  WorldEvolution,
  WorldRegistry
} from "@spectral/worlds"
import { Effect, Layer, Redacted, Schema } from "effect"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Storage } from "../../src/storage/index.ts"
import { sqlState } from "../../src/storage/internal/SqlFailure.ts"
import { freshWorkspaceId } from "./fixtures.ts"
import { AppSession } from "./RlsProbe.ts"

const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-pglite-"))
  cpSync(inject("spectralPgliteTemplate"), dir, { recursive: true })
  return dir
}

const authority = taxWorld_0_1_0.authority
let counter = 0
const evidence = (workspaceId: string, label: string, over: Partial<EvolutionEvidence> = {}): EvolutionEvidence => ({
  workspaceId,
  eventId: `evt-${++counter}`,
  patternId: patternIdOf(authority.worldModelId, "failure_cluster", label),
  worldModelId: authority.worldModelId,
  source: "failure_cluster",
  patternLabel: label,
  scanId: `scan-of-${workspaceId}`,
  clusterId: `cluster-of-${workspaceId}`,
  authorityVersion: authority.worldModelVersion,
  occurredAt: "2026-04-20T00:00:00.000Z",
  usable: true,
  members: 10,
  frequencyPct: 20,
  effectSize: 25,
  actionable: true,
  segments: { supports_parent: 10 },
  scope: { "hoh.dependent-parent-exception": 9 },
  scopeFromFacts: false,
  explanations: [`private words of ${workspaceId}`],
  ...over
})

const candidateFrom = (label: string, id = patternIdOf(authority.worldModelId, "failure_cluster", label)): EvolutionCandidate => ({
  id,
  worldModelId: authority.worldModelId,
  patternId: id,
  kind: "rule_revision",
  targetRuleId: "hoh.dependent-parent-exception",
  source: "failure_cluster",
  patternLabel: label,
  status: "proposed",
  evidence: { events: 2, workspaces: 2, members: 20, frequencyPct: 20, effectSize: 25, actionableShare: 1, segments: { supports_parent: 20 }, authorityVersions: ["0.1.0"] },
  scopeCoverage: 0.9,
  rationale: "probe",
  createdAt: "2026-04-20T00:00:00.000Z",
  updatedAt: "2026-04-20T00:00:00.000Z",
  publishedVersion: null,
  history: [{ status: "proposed", actor: "world-evolution", at: "2026-04-20T00:00:00.000Z" }]
})

const evolutionContract = <E>(backend: string, store: Layer.Layer<EvolutionCandidateRepo, E>) =>
  layer(store, { timeout: "120 seconds", excludeTestServices: true })(`evolution store: ${backend}`, (it) => {
    it.effect("an event recorded twice counts once; workspaces are counted, not named", () =>
      Effect.gen(function*() {
        const repo = yield* EvolutionCandidateRepo
        const a = freshWorkspaceId("evo-a")
        const b = freshWorkspaceId("evo-b")
        const label = `label ${a}`
        const first = evidence(a, label)
        const recorded = yield* repo.record(first)
        expect(recorded._tag).toBe("Recorded")
        expect(yield* repo.record(first)).toEqual({ _tag: "Duplicate" })
        yield* repo.record(evidence(a, label))
        const last = yield* repo.record(evidence(b, label))
        if (last._tag !== "Recorded") throw new Error("expected Recorded")
        expect([last.totals.events, last.totals.workspaces, last.totals.members]).toEqual([3, 2, 30])
        expect(last.totals.scope).toEqual({ "hoh.dependent-parent-exception": 27 })
        expect(JSON.stringify(last.totals)).not.toMatch(/evo-b-|scan-of|cluster-of|private words/)
      }))

    it.effect("a workspace reads back only its own evidence", () =>
      Effect.gen(function*() {
        const repo = yield* EvolutionCandidateRepo
        const a = freshWorkspaceId("evo-a")
        const b = freshWorkspaceId("evo-b")
        const label = `own ${a}`
        yield* repo.record(evidence(a, label))
        yield* repo.record(evidence(b, label))
        const own = yield* repo.evidence(a)
        expect(own.map((e) => e.workspaceId)).toEqual([a])
        expect(own[0].explanations).toEqual([`private words of ${a}`])
        expect((yield* repo.evidence(b, patternIdOf(authority.worldModelId, "failure_cluster", label))).length).toBe(1)
      }))

    it.effect("saving a candidate again keeps its status and history; transitions are compare-and-set", () =>
      Effect.gen(function*() {
        const repo = yield* EvolutionCandidateRepo
        const label = `cand ${freshWorkspaceId()}`
        const saved = yield* repo.saveCandidate(candidateFrom(label))
        const dismissed = yield* repo.transition(saved.id, { status: "dismissed", actor: "li", at: "2026-04-21T00:00:00.000Z", note: "duplicate of another" })
        expect(dismissed.history.map((h) => `${h.status}:${h.actor}`)).toEqual(["proposed:world-evolution", "dismissed:li"])
        const resaved = yield* repo.saveCandidate({ ...candidateFrom(label), evidence: { ...candidateFrom(label).evidence, workspaces: 3 } })
        expect([resaved.status, resaved.evidence.workspaces, resaved.history.length]).toEqual(["dismissed", 3, 2])
        const refused = yield* Effect.flip(repo.transition(saved.id, { status: "published", actor: "li", at: "2026-04-22T00:00:00.000Z" }))
        expect(refused).toMatchObject({ _tag: "CandidateTransitionRefused", from: "dismissed", to: "published" })
        const missing = yield* Effect.flip(repo.candidate(`${saved.id}-nope`))
        expect(missing).toMatchObject({ _tag: "CandidateNotFound", candidateId: `${saved.id}-nope` })
        const listed = yield* repo.candidates({ status: "dismissed", worldModelId: authority.worldModelId })
        expect(listed.map((c) => c.id)).toContain(saved.id)
        expect((yield* repo.candidates({ status: "proposed" })).map((c) => c.id)).not.toContain(saved.id)
        expect(yield* repo.candidate(saved.id)).toEqual(resaved)
      }))

    it.effect("a workspace's cursor only moves forward", () =>
      Effect.gen(function*() {
        const repo = yield* EvolutionCandidateRepo
        const ws = freshWorkspaceId("evo-cursor")
        expect(yield* repo.cursor(ws)).toBe(0)
        yield* repo.advanceCursor(ws, 7, "e7")
        yield* repo.advanceCursor(ws, 3, "e3")
        expect(yield* repo.cursor(ws)).toBe(7)
      }))
  })

const cluster = (workspaceId: string, label: string, index: number): SpectralEvent => ({
  id: `${workspaceId}-cluster-${index}`,
  type: "platform.failure_cluster.detected",
  version: 1,
  workspaceId,
  occurredAt: "2026-04-20T00:00:00.000Z",
  payload: {
    workspaceId,
    scanId: `scan-${index}`,
    clusterId: `c-${index}`,
    label,
    frequencyPct: 20,
    effectSize: 25,
    actionable: true,
    memberCount: 10,
    segments: { supports_parent: 10 },
    representativeExplanations: [`words only ${workspaceId} wrote`],
    authority
  }
})

type SqlEvolution = Storage.SqlStore

/** Publish through the durable bus (the outbox), then catch up, on one store layer. */
const publishAndCatchUp = (events: ReadonlyArray<SpectralEvent>) =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    for (const event of events) yield* bus.publish(event)
    return yield* catchUpEvolution()
  }).pipe(Effect.provide(WorldEvolution.layerNoDeps().pipe(Layer.provideMerge(WorldRegistry.layer))))

const listCandidates = (label: string) =>
  Effect.gen(function*() {
    const repo = yield* EvolutionCandidateRepo
    return (yield* repo.candidates()).filter((c) => c.patternLabel === label)
  })

const sqlSpecifics = <E>(backend: string, open: () => Layer.Layer<SqlEvolution, E>, session: () => Layer.Layer<AppSession, E>) =>
  describe(`evolution store on SQL: ${backend}`, () => {
    it.live("the loop fed from the outbox survives a restart; a second catch-up counts nothing twice", () =>
      Effect.gen(function*() {
        const a = freshWorkspaceId("evo-ra")
        const b = freshWorkspaceId("evo-rb")
        const raw = `Restart probe ${a}`
        const label = normalizePatternLabel(raw)
        const events = [cluster(a, raw, 1), cluster(a, raw, 2), cluster(b, raw, 3)]
        const first = yield* publishAndCatchUp(events).pipe(Effect.provide(open()))
        expect(first.malformed).toEqual([])
        expect(first.decisions.filter((d) => d.patternLabel === label).map((d) => d.decision)).toEqual(["observation", "observation", "rule_revision"])
        const before = yield* listCandidates(label).pipe(Effect.provide(open()))
        expect(before.map((c) => [c.kind, c.targetRuleId, c.evidence.workspaces, c.evidence.events])).toEqual([["rule_revision", "hoh.dependent-parent-exception", 2, 3]])
        // a new layer on the same database: same candidates, and catching up again changes nothing
        const after = yield* Effect.gen(function*() {
          const again = yield* catchUpEvolution().pipe(Effect.provide(WorldEvolution.layerNoDeps().pipe(Layer.provideMerge(WorldRegistry.layer))))
          expect(again.decisions.filter((d) => d.patternLabel === label)).toEqual([])
          return yield* listCandidates(label)
        }).pipe(Effect.provide(open()))
        expect(after).toEqual(before)
        // the cursor is durable: re-reading from 0 finds every event a duplicate
        const replay = yield* Effect.gen(function*() {
          const repo = yield* EvolutionCandidateRepo
          const log = yield* EvolutionEventLog
          const evolution = yield* WorldEvolution
          const stored = yield* log.after(a, 0, 100)
          expect(yield* repo.cursor(a)).toBe(stored.at(-1)!.position)
          const decisions = []
          for (const s of stored) decisions.push((yield* evolution.consume(yield* Schema.decodeUnknownEffect(SpectralEvent)(s.document))).decision)
          return decisions
        }).pipe(Effect.provide(WorldEvolution.layerNoDeps().pipe(Layer.provideMerge(WorldRegistry.layer))), Effect.provide(open()))
        expect(replay).toEqual(["duplicate", "duplicate"])
      }), 240_000)

    it.live("a damaged candidate row is a Corrupt error naming it, and stays stored; platform rows hold no workspace's ids or text and cannot be deleted", () =>
      Effect.gen(function*() {
        const a = freshWorkspaceId("evo-ca")
        const b = freshWorkspaceId("evo-cb")
        const raw = `corrupt probe ${a}`
        const label = normalizePatternLabel(raw)
        yield* publishAndCatchUp([cluster(a, raw, 1), cluster(b, raw, 2)]).pipe(Effect.provide(open()))
        const id = patternIdOf(authority.worldModelId, "failure_cluster", label)
        yield* Effect.gen(function*() {
          const run = (yield* AppSession).run
          const docs = yield* run(undefined, (sql) =>
            sql<{ doc: unknown }>`SELECT doc FROM spectral.evolution_patterns WHERE id = ${id}
              UNION ALL SELECT doc FROM spectral.evolution_candidates WHERE id = ${id}`)
          expect(docs.length).toBe(2)
          const text = JSON.stringify(docs)
          for (const leak of [a, b, "scan-1", "\"c-1\"", "words only"]) expect(text).not.toContain(leak)
          const deleted = yield* Effect.flip(run(undefined, (sql) => sql`DELETE FROM spectral.evolution_candidates WHERE id = ${id}`))
          expect(sqlState(deleted)).toBe("42501")
          yield* run(undefined, (sql) => sql`UPDATE spectral.evolution_candidates SET doc = jsonb_set(doc, '{status}', '"exploded"') WHERE id = ${id}`)
        }).pipe(Effect.provide(session()))
        const failure = yield* Effect.flip(Effect.gen(function*() { return yield* (yield* EvolutionCandidateRepo).candidate(id) })).pipe(Effect.provide(open()))
        expect(failure).toMatchObject({ _tag: "EvolutionStoreError", reason: { _tag: "Corrupt", entity: "evolution candidate", id } })
        const listing = yield* Effect.flip(Effect.gen(function*() { return yield* (yield* EvolutionCandidateRepo).candidates() })).pipe(Effect.provide(open()))
        expect(listing.reason).toMatchObject({ _tag: "Corrupt", id })
        const still = yield* Effect.gen(function*() {
          return yield* (yield* AppSession).run(undefined, (sql) => sql`SELECT 1 FROM spectral.evolution_candidates WHERE id = ${id}`)
        }).pipe(Effect.provide(session()))
        expect(still.length).toBe(1)
        // repair it so later runs of the shared database can list again
        yield* Effect.gen(function*() {
          yield* (yield* AppSession).run(undefined, (sql) => sql`UPDATE spectral.evolution_candidates SET doc = jsonb_set(doc, '{status}', '"proposed"') WHERE id = ${id}`)
        }).pipe(Effect.provide(session()))
      }), 240_000)
  })

evolutionContract("memory", EvolutionCandidateRepo.layerMemory)

const pgliteDir = freshDir()
evolutionContract("embedded PGlite", Storage.layerPgliteWithEvents({ dataDir: pgliteDir, events: { poll: false } }))

{
  const dir = freshDir()
  const appSession = () =>
    Layer.effect(AppSession, Effect.gen(function*() {
      return AppSession.connected(yield* PgClient.PgClient)
    })).pipe(Layer.provide(Storage.layerPgliteAppClient({ dataDir: dir })))
  sqlSpecifics("embedded PGlite", () => Storage.layerPgliteWithEvents({ dataDir: dir, events: { poll: false } }), appSession)
}

const server = inject("spectralPgServer")
if (server !== null) {
  const info = server
  const open = () => Storage.layerPgWithEvents({ url: info.appUrl, ownerUrl: info.ownerUrl, events: { poll: false } })
  evolutionContract(`PostgreSQL server (${info.source})`, open())
  const appSession = () =>
    Layer.effect(AppSession, Effect.gen(function*() {
      return AppSession.connected(yield* PgClient.PgClient)
    })).pipe(Layer.provide(PgClient.layer({ url: Redacted.make(info.appUrl), maxConnections: 2 })), Layer.provide(Layer.effectDiscard(Storage.migratePg(info.ownerUrl))))
  sqlSpecifics(`PostgreSQL server (${info.source})`, open, appSession)
}
