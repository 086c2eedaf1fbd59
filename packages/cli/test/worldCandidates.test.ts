/**
 * `spectral world candidates` as separate processes on one store: two real scans (two workspaces)
 * feed the loop through the outbox; the command catches up, lists candidates, and a second run
 * (a new process: the store survived the first) lists the same ones and counts nothing twice.
 * Decisions (dismiss) are recorded with who; an unknown world or candidate, a stored event that
 * does not decode and a damaged candidate row are reported by name, and nothing stored is lost.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { EventBus } from "@spectral/engine"
import type { SpectralEvent } from "@spectral/engine/contracts"
import { taxWorld_0_1_0 } from "@spectral/worlds"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { usePgServer } from "./PgServer.ts"
import { runScan, scratch, smallWorkspace, startNode } from "./ScanProcesses.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const local = { SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined, SPECTRAL_LLM: undefined }

const spectral = (env: Record<string, string | undefined>, ...args: Array<string>) =>
  Effect.scoped(Effect.flatMap(startNode(bin, args, env), (p) => p.exit))

const json = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!)

const cluster = (workspaceId: string, index: number, label = "treats a supported parent living elsewhere as no qualifying person"): SpectralEvent => ({
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
    representativeExplanations: [`what only ${workspaceId} wrote`],
    authority: taxWorld_0_1_0.authority
  }
})

describe("spectral world candidates", () => {
  it.live("two scans in two workspaces feed the loop; a second process lists the same candidates and counts nothing twice", () =>
    Effect.gen(function*() {
      const dataDir = initialisedDataDir(join(mkdtempSync(join(tmpdir(), "spectral-candidates-")), "db"))
      const env = { ...local, SPECTRAL_DATA_DIR: dataDir }
      for (const id of ["team-north", "team-south"]) {
        const { file } = yield* scratch(smallWorkspace(id))
        const scan = yield* runScan(file, env)
        assert.strictEqual(scan.code, 0, scan.stderr)
      }
      const first = yield* spectral(env, "world", "candidates", "--json")
      assert.strictEqual(first.code, 0, first.stdout + first.stderr)
      const listed = json(first.stdout)
      assert.strictEqual(listed.caughtUp.workspaces, 2)
      assert.isAbove(listed.caughtUp.consumed, 2)
      assert.deepStrictEqual(listed.caughtUp.malformed, [])
      // the same clusters recur in both workspaces: candidates backed by both, holding counts only
      assert.isAbove(listed.candidates.length, 0)
      for (const c of listed.candidates) {
        assert.strictEqual(c.evidence.workspaces, 2)
        assert.notInclude(JSON.stringify(c), "team-north")
        assert.notInclude(JSON.stringify(c), "team-south")
      }
      const second = yield* spectral(env, "world", "candidates", "--json")
      const again = json(second.stdout)
      assert.deepStrictEqual([again.caughtUp.read, again.caughtUp.consumed], [0, 0])
      assert.deepStrictEqual(again.candidates, listed.candidates)
      const text = yield* spectral(env, "world", "candidates")
      assert.include(text.stdout, "caught up: 0 new event(s) from 2 workspace(s)")
      assert.include(text.stdout, `${listed.candidates.length} rule candidate(s)`)
      assert.include(text.stdout, "evidence: 2 workspaces")
      assert.match(text.stdout, /\[proposed\] (revision of rule [a-z0-9.-]+|new rule) — us-federal-individual-tax/)
    }), 480_000)

  it.live("dismiss records who; filters by status and world; unknown world, candidate, malformed event and damaged row are named", () =>
    Effect.gen(function*() {
      const dataDir = initialisedDataDir(join(mkdtempSync(join(tmpdir(), "spectral-candidates-")), "db"))
      const env = { ...local, SPECTRAL_DATA_DIR: dataDir, USER: "maria" }
      yield* Effect.gen(function*() {
        const bus = yield* EventBus
        yield* bus.publish(cluster("ws-a", 1))
        yield* bus.publish(cluster("ws-b", 2))
      }).pipe(Effect.provide(Storage.layerPgliteWithEvents({ dataDir, events: { poll: false } })))
      // an outbox row that is not a SpectralEvent (written behind the bus's back)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc)
          VALUES ('ws-b', 'broken-1', 'platform.failure_cluster.detected', 1, '{"id":"broken-1","payload":{"label":7}}'::jsonb)`
      }).pipe(Effect.provide(Storage.layerPgliteClient({ dataDir })), Effect.scoped)

      const listed = json((yield* spectral(env, "world", "candidates", "--json")).stdout)
      assert.deepStrictEqual(listed.caughtUp.malformed.map((m: { eventId: string }) => m.eventId), ["broken-1"])
      assert.deepStrictEqual(listed.candidates.map((c: { kind: string; targetRuleId: string }) => [c.kind, c.targetRuleId]), [["rule_revision", "hoh.dependent-parent-exception"]])
      const id: string = listed.candidates[0].id

      const unknownWorld = yield* spectral(env, "world", "candidates", "--world", "atlantis-tax")
      assert.strictEqual(unknownWorld.code, 2)
      assert.include(json(unknownWorld.stdout).error, "atlantis-tax")
      assert.include(json(unknownWorld.stdout).error, "us-federal-individual-tax")
      const unknownCandidate = yield* spectral(env, "world", "candidates", "dismiss", `${id}-nope`)
      assert.strictEqual(unknownCandidate.code, 2)
      assert.include(json(unknownCandidate.stdout).error, `${id}-nope`)

      const dismissed = yield* spectral(env, "world", "candidates", "dismiss", id, "--note", "judge drift")
      assert.strictEqual(dismissed.code, 0, dismissed.stdout)
      assert.include(dismissed.stdout, "[dismissed by maria at")
      const byStatus = json((yield* spectral(env, "world", "candidates", "--status", "dismissed", "--world", "us-federal-individual-tax", "--json")).stdout).candidates
      assert.deepStrictEqual(byStatus.map((c: { history: ReadonlyArray<{ status: string; actor: string; note?: string }> }) => c.history.map((h) => [h.status, h.actor, h.note ?? null])), [[["proposed", "world-evolution", null], ["dismissed", "maria", "judge drift"]]])
      const twice = yield* spectral(env, "world", "candidates", "dismiss", id)
      assert.strictEqual(twice.code, 1)
      assert.include(json(twice.stdout).error, "is dismissed")

      // a damaged candidate row: a typed error naming it; the row is still stored afterwards
      const damage = (status: string) =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE spectral.evolution_candidates SET doc = jsonb_set(doc, '{status}', ${JSON.stringify(status)}::jsonb) WHERE id = ${id}`
          return (yield* sql`SELECT id FROM spectral.evolution_candidates WHERE id = ${id}`).length
        }).pipe(Effect.provide(Storage.layerPgliteClient({ dataDir })), Effect.scoped)
      yield* damage("exploded")
      const corrupt = yield* spectral(env, "world", "candidates")
      assert.strictEqual(corrupt.code, 1)
      assert.include(json(corrupt.stdout).error, `evolution candidate ${id} is corrupt`)
      assert.strictEqual(yield* damage("dismissed"), 1)
    }), 480_000)

  const pgServer = usePgServer()
  it.live("on a PostgreSQL server: the candidates outlive the process that raised them", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const a = `pg-a-${Date.now().toString(36)}`
      const b = `pg-b-${Date.now().toString(36)}`
      const label = `supported parent probe ${a.replace(/\d/g, "x")}`
      yield* Effect.gen(function*() {
        const bus = yield* EventBus
        yield* bus.publish(cluster(a, 1, label))
        yield* bus.publish(cluster(b, 2, label))
      }).pipe(Effect.provide(Storage.layerPgWithEvents({ url: Redacted.make(info.appUrl), events: { poll: false } })))
      const env = { ...local, SPECTRAL_DATABASE_URL: info.appUrl }
      const first = json((yield* spectral(env, "world", "candidates", "--json")).stdout)
      const mine = (list: ReadonlyArray<{ patternLabel: string }>) => list.filter((c) => c.patternLabel === label)
      assert.strictEqual(mine(first.candidates).length, 1)
      const second = json((yield* spectral(env, "world", "candidates", "--json")).stdout)
      assert.deepStrictEqual(mine(second.candidates), mine(first.candidates))
      assert.strictEqual(second.caughtUp.consumed, 0)
    }), 480_000)
})
