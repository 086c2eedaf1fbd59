/**
 * `spectral scan` on embedded PGlite runs the scan as the durable workflow on a runner in its own
 * process. Probed from outside with separate processes and an OpenAI-compatible provider on
 * loopback that counts every request: a run killed with SIGKILL in the middle of a phase (its
 * provider stops answering) and started again with the same `--request-id` carries the same scan
 * on through the workflow — its finished phases do not run again, no call the killed run got an
 * answer to is sent again, and the store ends as after one uninterrupted scan (the same traces and
 * events, once each; one change set, created once). Asked once more, the finished submission
 * prints the same scan without a call.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import { phaseOrder } from "@spectral/engine/contracts"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { join } from "node:path"
import type * as FakeOpenAiServer from "../../adapters/test/llm/FakeOpenAiServer.ts"
import { providerEnv, runScan, scratch, simulatedProvider, simulatedReply, smallWorkspace, startScan, waitUntil } from "./ScanProcesses.ts"

interface Summary {
  readonly scanId: string
  readonly state: string
  readonly resumed: boolean
  readonly requestId: string
  readonly verdict: string
  readonly changeSet: { readonly id: string; readonly version: number } | null
}

const KEY = "sk-test-workflow-resume-0001"

/** Past Observe (30 stimuli × two agents and the judge): from here the killed run's calls hang. */
const STALL_AFTER = 110

/** The workspace as stored: its scans, trace ids, change sets with their `created` audit rows, and its events. */
const storedIn = (dataDir: string, workspaceId: string) =>
  Effect.gen(function*() {
    const repos = yield* Effect.gen(function*() {
      const scans = yield* (yield* ScanRepo).list(workspaceId)
      const traceRepo = yield* ScanTraceRepo
      const traces = yield* Effect.forEach(scans, (scan) => traceRepo.traces(workspaceId, scan.id))
      const changeSets = yield* ChangeSetRepo
      const created = yield* Effect.forEach(yield* changeSets.list(workspaceId), (c) =>
        Effect.map(changeSets.audit(workspaceId, c.id), (entries) => ({ id: c.id, created: entries.filter((e) => e.action === "created").length })))
      return { scans, traceIds: traces.flat().map((t) => t.id).sort(), changeSets: created }
    }).pipe(Effect.provide(Layer.fresh(Storage.layerPglite({ dataDir }))), Effect.scoped)
    // The outbox, read as the embedded store's owner (it sees every workspace's rows).
    const events = yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ readonly id: string; readonly type: string }>`
        SELECT id, type FROM spectral.event_outbox WHERE workspace_id = ${workspaceId} ORDER BY id`
      return rows.map((row) => `${row.type} ${row.id}`)
    }).pipe(Effect.provide(Layer.fresh(Storage.layerPgliteClient({ dataDir }))), Effect.scoped)
    return { ...repos, events }
  })

const bodiesOf = (requests: ReadonlyArray<FakeOpenAiServer.ReceivedRequest>) => requests.map((request) => JSON.stringify(request.body))

/** The phases a run's progress says it started. */
const startedPhases = (stderr: string, scanId: string) =>
  phaseOrder.filter((phase) => stderr.includes(`scan ${scanId}: ${phase} started`))

describe("spectral scan killed mid-phase and run again with the same request id (embedded PGlite)", () => {
  it.live("the workflow carries the scan on: finished phases not run again, no answered call repeated, the store as after one scan", () =>
    Effect.gen(function*() {
      const workspaceId = "workflow-resume"
      const server = yield* simulatedProvider
      // Requests since `state.from`: the killed run's, once it stalls.
      const state = { stalling: false, from: 0 }
      const since = () => server.chatRequests().slice(state.from)
      server.defaultChat = (request) =>
        state.stalling && since().length > STALL_AFTER ? { kind: "hang" } : simulatedReply(request)
      const { dir, file } = yield* scratch(smallWorkspace(workspaceId))
      const env = (dataDir: string) => ({ ...providerEnv(server.baseUrl, KEY), SPECTRAL_DATA_DIR: dataDir, SPECTRAL_PROGRESS: "lines" })

      // The reference: the same scan, uninterrupted, in a store of its own.
      const referenceDir = join(dir, "reference")
      const reference = yield* runScan(file, env(referenceDir), ["--request-id", "reference"])
      assert.strictEqual(reference.code, 0, reference.stdout + reference.stderr)
      const expected = yield* storedIn(referenceDir, workspaceId)
      assert.isAbove(expected.traceIds.length, 0)

      // Killed in the middle of a phase: its provider stopped answering, it waits on a call.
      state.from = server.chatRequests().length
      state.stalling = true
      const dataDir = join(dir, "db")
      const killed = yield* startScan(file, env(dataDir), ["--request-id", "resume-me"])
      yield* waitUntil(() => since().length > STALL_AFTER + 2, "the scan to stall mid-phase", 90_000)
      yield* Effect.sleep("1500 millis")
      yield* killed.kill("SIGKILL")
      const exited = yield* killed.exit
      assert.strictEqual(exited.signal, "SIGKILL", exited.stdout + exited.stderr)
      const answered = bodiesOf(since().slice(0, STALL_AFTER))
      const left = yield* storedIn(dataDir, workspaceId)
      assert.deepStrictEqual(left.scans.map((s) => s.state), ["running"], "the killed scan is left running")
      const finished = left.scans[0]!.completedPhases
      assert.include(finished, "observe")
      assert.isBelow(finished.length, phaseOrder.length - 1, "killed in the middle of the scan")
      assert.strictEqual(left.scans[0]!.submission?.requestId, "resume-me")

      // Run again with the same request id: the same scan goes on through its workflow execution.
      state.stalling = false
      state.from = server.chatRequests().length
      const again = yield* runScan(file, env(dataDir), ["--request-id", "resume-me"])
      assert.strictEqual(again.code, 0, again.stdout + again.stderr)
      const summary = JSON.parse(again.stdout) as Summary
      assert.strictEqual(summary.scanId, left.scans[0]!.id, "the same scan")
      assert.strictEqual(summary.requestId, "resume-me")
      assert.isTrue(summary.resumed)
      assert.strictEqual(summary.state, "completed")
      assert.strictEqual(summary.verdict, (JSON.parse(reference.stdout) as Summary).verdict, "the verdict of the uninterrupted scan")
      assert.deepStrictEqual(startedPhases(again.stderr, summary.scanId).filter((phase) => finished.includes(phase)), [], "finished phases are not run again")
      const resumedCalls = bodiesOf(since())
      assert.isAbove(resumedCalls.length, 0, "the rest of the scan made its calls")
      assert.deepStrictEqual(resumedCalls.filter((body) => answered.includes(body)), [], "no call answered before the kill is sent again")

      const after = yield* storedIn(dataDir, workspaceId)
      assert.deepStrictEqual(after.scans.map((s) => [s.id, s.state, s.resumes]), [[summary.scanId, "completed", 1]], "no second scan")
      assert.deepStrictEqual(after.traceIds, expected.traceIds, "the traces of one scan, each once")
      assert.deepStrictEqual(after.events, expected.events, "the events of one scan, each once")
      assert.deepStrictEqual(after.changeSets.map((c) => c.created), [1], "one change set, created once")

      // Asked once more, the finished submission is the same scan, and costs no call.
      const callsBefore = server.chatRequests().length
      const once = yield* runScan(file, env(dataDir), ["--request-id", "resume-me"])
      assert.strictEqual(once.code, 0, once.stdout + once.stderr)
      const joined = JSON.parse(once.stdout) as Summary
      assert.deepStrictEqual([joined.scanId, joined.state, joined.resumed, joined.changeSet?.id], [summary.scanId, "completed", false, summary.changeSet?.id])
      assert.strictEqual(server.chatRequests().length, callsBefore, "no model call")
      assert.deepStrictEqual((yield* storedIn(dataDir, workspaceId)).scans.map((s) => s.id), [summary.scanId])
    }).pipe(Effect.scoped), 300_000)
})
