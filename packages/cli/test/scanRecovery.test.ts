/**
 * Scans left behind and scans run at once, probed from outside with separate `spectral scan`
 * processes (the real `openai` SDK against a simulated provider on loopback):
 *
 * - embedded PGlite: a scan killed with SIGKILL mid-scan is resumed by the next `spectral scan` of
 *   the workspace (through its workflow execution on the in-process runner) — the same scan id
 *   completes, no second scan is started, none is left running;
 * - a PostgreSQL server (the throwaway cluster), where each `spectral scan` runs the scan workflow
 *   on a runner of its own with its mailboxes in memory: a scan another live process is running is
 *   neither resumed nor taken over (the second run scans anew); once that process is killed with
 *   SIGKILL, the next run waits out its lease and carries the same scan on from its saved phases; two runs started at once take distinct
 *   change-set versions, and the append-only audit holds exactly one `created` row per change set.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import type { PgServerInfo } from "@spectral/adapters/testing"
import { ChangeSetRepo, ScanRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import type * as FakeOpenAiServer from "../../adapters/test/llm/FakeOpenAiServer.ts"
import { providerEnv, runCli, runScan, scratch, simulatedProvider, simulatedReply, smallWorkspace, startScan, waitUntil } from "./ScanProcesses.ts"
import { usePgServer } from "./PgServer.ts"

interface Summary {
  readonly scanId: string
  readonly state: string
  readonly resumed: boolean
  readonly changeSet: { readonly id: string; readonly version: number } | null
}

const KEY_STALLED = "sk-test-stalled-process-0001"
const KEY_LIVE = "sk-test-healthy-process-0002"

/** Requests the provider got with this key. */
const requestsWith = (server: FakeOpenAiServer.FakeOpenAiServer, key: string) =>
  server.chatRequests().filter((request) => request.headers.authorization === `Bearer ${key}`).length

/**
 * Past Observe (30 stimuli × two agents and the judge), in the middle of the scan: from here the
 * provider stops answering the stalled process, which then hangs until it is killed.
 */
const STALL_AFTER = 110

/** The provider answers everyone, except the stalled key once it made STALL_AFTER requests. */
const stallingProvider = Effect.map(simulatedProvider, (server) => {
  const state = { stalling: true }
  server.defaultChat = (request) =>
    state.stalling && request.headers.authorization === `Bearer ${KEY_STALLED}` && requestsWith(server, KEY_STALLED) > STALL_AFTER
      ? { kind: "hang" }
      : simulatedReply(request)
  return { server, state }
})

/** The workspace's scans and change sets, with each change set's `created` audit rows. */
const storedIn = <E>(store: Layer.Layer<Storage.Repositories, E>, workspaceId: string) =>
  Effect.gen(function*() {
    const scans = yield* (yield* ScanRepo).list(workspaceId)
    const repo = yield* ChangeSetRepo
    const changeSets = yield* repo.list(workspaceId)
    const created = yield* Effect.forEach(changeSets, (c) =>
      Effect.map(repo.audit(workspaceId, c.id), (entries) => ({ id: c.id, version: c.version, scanId: c.scanId, created: entries.filter((e) => e.action === "created").length })))
    return { scans, changeSets: created }
  }).pipe(Effect.provide(Layer.fresh(store)), Effect.scoped)

/** Kill a scan process that is hanging on the provider mid-scan, with SIGKILL. */
const killStalled = (process: Effect.Success<ReturnType<typeof startScan>>, server: FakeOpenAiServer.FakeOpenAiServer) =>
  Effect.gen(function*() {
    yield* waitUntil(() => requestsWith(server, KEY_STALLED) > STALL_AFTER + 2, "the scan to stall mid-way", 90_000)
    // Its heartbeat keeps renewing the lease while it waits on the provider.
    yield* Effect.sleep("1500 millis")
    yield* process.kill("SIGKILL")
    const exited = yield* process.exit
    assert.strictEqual(exited.signal, "SIGKILL", exited.stdout + exited.stderr)
  })

describe("spectral scan killed mid-scan (embedded PGlite)", () => {
  it.live("the next run resumes the same scan, which completes; no second scan, none left running", () =>
    Effect.gen(function*() {
      const workspaceId = "killed-tax-prep"
      const { server, state } = yield* stallingProvider
      const { dir, file } = yield* scratch(smallWorkspace(workspaceId))
      const dataDir = join(dir, "db")
      const store = Storage.layerPglite({ dataDir })

      const first = yield* startScan(file, { ...providerEnv(server.baseUrl, KEY_STALLED), SPECTRAL_DATA_DIR: dataDir })
      yield* killStalled(first, server)
      const left = yield* storedIn(store, workspaceId)
      assert.deepStrictEqual(left.scans.map((s) => s.state), ["running"], "the killed scan is left running")
      assert.include(left.scans[0]!.completedPhases, "observe")
      // Held in the name of its workflow execution (the scan runs as the workflow on this process's runner).
      assert.strictEqual(left.scans[0]!.lease?.owner, `workflow:${left.scans[0]!.submission?.executionId}`)

      state.stalling = false
      const second = yield* runScan(file, { ...providerEnv(server.baseUrl, KEY_STALLED), SPECTRAL_DATA_DIR: dataDir })
      assert.strictEqual(second.code, 0, second.stdout + second.stderr)
      const summary = JSON.parse(second.stdout) as Summary
      assert.strictEqual(summary.scanId, left.scans[0]!.id, "the same scan")
      assert.isTrue(summary.resumed)
      assert.strictEqual(summary.state, "completed")

      const after = yield* storedIn(store, workspaceId)
      assert.deepStrictEqual(after.scans.map((s) => [s.id, s.state, s.resumes]), [[summary.scanId, "completed", 1]], "no second scan")
      assert.deepStrictEqual(after.changeSets.map((c) => [c.version, c.scanId, c.created]), [[1, summary.scanId, 1]])
    }).pipe(Effect.scoped), 240_000)
})

/** The server, or (outside CI) undefined: the test is skipped. */
const pgServer = usePgServer()

const pgEnv = (info: PgServerInfo, baseUrl: string, key: string) => ({
  ...providerEnv(baseUrl, key),
  SPECTRAL_DATABASE_URL: info.appUrl,
  SPECTRAL_SCAN_LEASE_MS: "3000"
})

// Workspace ids unique to this run, should the server be a shared one.
const unique = (name: string) => `${name}-${process.pid}`

describe("spectral scan processes on a PostgreSQL server", () => {
  it.live("a live scan is not taken over; killed with SIGKILL, the next run waits out its lease and resumes it", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceId = unique("leased-tax-prep")
      const store = Storage.layerPg({ url: info.appUrl })
      const { server, state } = yield* stallingProvider
      const { file } = yield* scratch(smallWorkspace(workspaceId))

      const stalled = yield* startScan(file, pgEnv(info, server.baseUrl, KEY_STALLED))
      yield* waitUntil(() => requestsWith(server, KEY_STALLED) > STALL_AFTER + 2, "the scan to stall mid-way", 90_000)
      // Another run while the first one is alive (stuck on its provider, renewing its lease).
      const meanwhile = yield* runScan(file, pgEnv(info, server.baseUrl, KEY_LIVE))
      assert.strictEqual(meanwhile.code, 0, meanwhile.stdout + meanwhile.stderr)
      const fresh = JSON.parse(meanwhile.stdout) as Summary
      assert.isFalse(fresh.resumed, "a live scan is not resumed")
      const during = yield* storedIn(store, workspaceId)
      const live = during.scans.find((s) => s.id !== fresh.scanId)!
      assert.strictEqual(live.state, "running")
      // Held in the name of its workflow execution, under the take of the live process.
      assert.strictEqual(live.lease?.owner, `workflow:${live.submission?.executionId}`)
      assert.include(live.lease?.take ?? "", `:${stalled.pid}#`, "nor taken over: still the live process's take")
      // `spectral scans status` names the process carrying it.
      const status = yield* runCli(["scans", "status", live.id], pgEnv(info, server.baseUrl, KEY_LIVE))
      assert.strictEqual(status.code, 0, status.stdout + status.stderr)
      const carried = (JSON.parse(status.stdout) as { carriedBy: { process: string; leaseExpiresAt: string } | null }).carriedBy
      assert.isTrue(carried?.process.endsWith(`:${stalled.pid}`), status.stdout)

      yield* killStalled(stalled, server)
      state.stalling = false
      const next = yield* runScan(file, pgEnv(info, server.baseUrl, KEY_LIVE))
      assert.strictEqual(next.code, 0, next.stdout + next.stderr)
      const resumed = JSON.parse(next.stdout) as Summary
      assert.strictEqual(resumed.scanId, live.id, "the killed scan")
      assert.isTrue(resumed.resumed)
      assert.strictEqual(resumed.state, "completed")

      const after = yield* storedIn(store, workspaceId)
      assert.deepStrictEqual(after.scans.map((s) => s.state).sort(), ["completed", "completed"], "none left running, no third scan")
      assert.strictEqual(after.scans.find((s) => s.id === live.id)?.resumes, 1)
      assert.deepStrictEqual(after.changeSets.map((c) => c.version).sort(), [1, 2])
      assert.deepStrictEqual(after.changeSets.map((c) => c.created), [1, 1], "one created row per change set")
    }).pipe(Effect.scoped), 240_000)

  it.live("two runs at once take distinct change-set versions, with one created audit row each", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceId = unique("concurrent-tax-prep")
      const { server } = yield* stallingProvider
      // Answers take a little while, so the two scans surely overlap from start to end.
      server.defaultChat = (request) => ({ ...simulatedReply(request), delayMs: 20 }) as FakeOpenAiServer.Reply
      const { file } = yield* scratch(smallWorkspace(workspaceId))
      const [a, b] = yield* Effect.all([
        runScan(file, pgEnv(info, server.baseUrl, KEY_LIVE)),
        runScan(file, pgEnv(info, server.baseUrl, KEY_LIVE))
      ], { concurrency: 2 })
      assert.strictEqual(a.code, 0, a.stdout + a.stderr)
      assert.strictEqual(b.code, 0, b.stdout + b.stderr)
      const [first, second] = [JSON.parse(a.stdout) as Summary, JSON.parse(b.stdout) as Summary]
      assert.notStrictEqual(first.scanId, second.scanId)
      assert.notStrictEqual(first.changeSet?.id, second.changeSet?.id, "neither takes over the other's change set")
      assert.deepStrictEqual([first.changeSet?.version, second.changeSet?.version].sort(), [1, 2])

      const after = yield* storedIn(Storage.layerPg({ url: info.appUrl }), workspaceId)
      assert.deepStrictEqual(after.scans.map((s) => s.state), ["completed", "completed"])
      assert.deepStrictEqual(after.changeSets.map((c) => c.version).sort(), [1, 2])
      assert.deepStrictEqual(after.changeSets.map((c) => c.scanId).sort(), [first.scanId, second.scanId].sort())
      assert.deepStrictEqual(after.changeSets.map((c) => c.created), [1, 1], "one created row per change set")
    }).pipe(Effect.scoped), 240_000)
})
