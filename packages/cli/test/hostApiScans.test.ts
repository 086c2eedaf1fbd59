/**
 * The host API's scan control and everything around a scan's history, as a user reaches them:
 * `spectral serve --port 0 --issue-api-key WORKSPACE:write` as its own process (real HTTP on
 * 127.0.0.1), called through the typed client (`ApiClient`) and, where the wire matters, `fetch`:
 * - PGlite: `POST …/scans` answers 202 with the id at once and the scan runs in the service; its
 *   progress streams as Server-Sent Events (`phase`, `stimuli`, `end`; the key in `?key=` as an
 *   EventSource sends it), and a finished scan's stream sends its phases and `end` at once; the
 *   supervisor and the history over two scans; the change set's diff against its baseline; world
 *   models and versions with their metadata; sample sets and their versions; legal holds; ingest
 *   keys (a revoked one is refused by the OTLP receiver); bad input: 400 naming the field, 404,
 *   409 naming the state, 413 for bodies over the limit (declared or chunked), and a forced defect
 *   answered without a stack trace;
 * - PGlite, a slow provider: a running scan cancelled through the API is interrupted, recorded as
 *   cancelled, its stream ends with `end` {status:"cancelled"}, and a second cancel is 409;
 * - PGlite and the PostgreSQL server: a key of workspace B gets 404 for every one of these
 *   endpoints on workspace A's things.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import type { PgServerInfo } from "@spectral/adapters/testing"
import { ScanRepo, WorkspaceRepo } from "@spectral/engine"
import { Effect, Fiber, Layer, Stream } from "effect"
import { join } from "node:path"
import { ApiClient, issueApiKey } from "../src/index.ts"
import { agentChanges } from "../src/host/api/ChangeSetsHandlers.ts"
import { eventsBetween } from "../src/host/api/ProgressHandlers.ts"
import { providerEnv, scratch, simulatedProvider, simulatedReply, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"
import { usePgServer } from "./PgServer.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

type StoreEnv = Record<string, string | undefined>
const pgliteEnv = (dataDir: string): StoreEnv => ({ SPECTRAL_DATA_DIR: dataDir, SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined })
const serverEnv = (info: PgServerInfo): StoreEnv => ({ SPECTRAL_DATABASE_URL: info.appUrl, SPECTRAL_DATABASE_OWNER_URL: undefined })

interface SseEvent {
  readonly event: string
  readonly data: Record<string, unknown>
}

/** A progress stream read over `fetch` until `end` (or `stopAfter` says stop): its events in order. */
const readProgress = (url: string, headers: Record<string, string> = {}, stopAfter: (events: ReadonlyArray<SseEvent>) => boolean = () => false) =>
  Effect.promise(async (signal) => {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal })
    const events: Array<SseEvent> = []
    if (response.body === null) return { status: response.status, contentType: response.headers.get("content-type"), events }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ""
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += value
      let at: number
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, at)
        buffer = buffer.slice(at + 2)
        const name = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (name !== undefined && data !== undefined) events.push({ event: name, data: JSON.parse(data) as Record<string, unknown> })
      }
      if (events.some((e) => e.event === "end") || stopAfter(events)) {
        await reader.cancel()
        break
      }
    }
    return { status: response.status, contentType: response.headers.get("content-type"), events }
  }).pipe(Effect.timeout("120 seconds"), Effect.orDie)

/** Declare A and B, issue keys, and store a scan of A whose card output is corrupt (to force a defect). */
const prepare = <E>(store: Layer.Layer<Storage.Repositories, E>, workspaceA: string, workspaceB: string) =>
  Effect.gen(function*() {
    const workspaces = yield* WorkspaceRepo
    yield* workspaces.upsert(smallWorkspace(workspaceA))
    yield* workspaces.upsert(smallWorkspace(workspaceB))
    const readA = yield* issueApiKey(workspaceA, "read", "test read")
    const adminA = yield* issueApiKey(workspaceA, "admin", "test admin")
    const writeB = yield* issueApiKey(workspaceB, "write", "test write B")
    const scans = yield* ScanRepo
    const corruptId = `${workspaceA}:corrupt`
    yield* scans.insert({
      id: corruptId,
      workspaceId: workspaceA,
      state: "failed",
      seed: 1,
      completedPhases: ["complete"],
      failureReason: "test: a row written by hand",
      createdAt: "2020-01-01T00:00:00.000Z",
      updatedAt: "2020-01-01T00:00:00.000Z"
    })
    yield* scans.savePhaseOutput(workspaceA, corruptId, "complete", { card: { not: "a card" } })
    return { readA: readA.key, adminA: adminA.key, writeB: writeB.key, corruptId }
  }).pipe(Effect.provide(Layer.fresh(store)), Effect.scoped)

/** `spectral serve --port 0 --issue-api-key A:write`: the printed key and base URL. */
const serve = (workspaceA: string, env: StoreEnv) =>
  Effect.gen(function*() {
    const process = yield* startNode(bin, ["serve", "--port", "0", "--issue-api-key", `${workspaceA}:write`], env)
    yield* waitUntil(() => process.output().includes("\"listening\""), "spectral serve to listen", 60_000)
    const lines = process.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, string>)
    const issued = lines.find((line) => "key" in line)!
    const base = lines.find((line) => "listening" in line)!["listening"]!.replace(/\/v1\/traces$/, "")
    return { base, writeA: issued["key"]!, output: process.output }
  })

/** Start a scan through the API (202 on the wire) and follow its progress to the end. */
const startAndFinish = (base: string, key: string, workspaceId: string, seed: number) =>
  Effect.gen(function*() {
    const started = yield* Effect.promise(async () => {
      const response = await fetch(`${base}/api/workspaces/${workspaceId}/scans`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ seed })
      })
      return { status: response.status, body: await response.json() as { scanId: string; state: string; progress: string } }
    })
    assert.strictEqual(started.status, 202, JSON.stringify(started.body))
    assert.include(["scheduled", "running"], started.body.state)
    const progress = yield* readProgress(`${base}${started.body.progress}?key=${encodeURIComponent(key)}`)
    return { scanId: started.body.scanId, progress }
  })

const phases = ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize", "safety", "verdict", "complete"]

/** A key of workspace B: 404 for every new endpoint on A's things (under A's path and under its own). */
const crossWorkspaceChecks = (base: string, writeB: string, workspaceA: string, workspaceB: string, scanId: string, changeSetId: string) =>
  Effect.gen(function*() {
    const clientB = yield* ApiClient.makeWithKey(base, writeB)
    const scanA = { workspaceId: workspaceA, scanId }
    const scanUnderB = { workspaceId: workspaceB, scanId }
    const a = { workspaceId: workspaceA }
    const attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string }>]> = [
      ["start a scan in A", clientB.scans.start({ params: a, payload: {} })],
      ["cancel A's scan", clientB.scans.cancel({ params: scanA })],
      ["cancel A's scan under B", clientB.scans.cancel({ params: scanUnderB })],
      ["A's progress under B", Stream.runDrain(Stream.unwrap(clientB.progress.stream({ params: scanUnderB })))],
      ["A's supervisor", clientB.supervisor.supervisor({ params: a, query: {} })],
      ["A's history", clientB.supervisor.history({ params: a })],
      ["A's diff", clientB.changeSets.diff({ params: { workspaceId: workspaceA, changeSetId } })],
      ["A's diff under B", clientB.changeSets.diff({ params: { workspaceId: workspaceB, changeSetId } })],
      ["A's world models", clientB.worldModels.list({ params: a })],
      ["A's world-model versions", clientB.worldModels.versions({ params: { workspaceId: workspaceA, worldModelId: "us-federal-individual-tax" } })],
      ["A's samples", clientB.samples.list({ params: a })],
      ["curate A", clientB.samples.curate({ params: a, payload: {} })],
      ["A's sample sets", clientB.samples.sampleSets({ params: a })],
      ["A's holds", clientB.retention.holds({ params: a })],
      ["hold in A", clientB.retention.placeHold({ params: a, payload: { traceIds: ["*"], reason: "x", actor: "intruder" } })],
      ["A's last sweep", clientB.retention.lastSweep({ params: a })],
      ["A's ingest keys", clientB.ingestKeys.list({ params: a })],
      ["issue an ingest key for A", clientB.ingestKeys.issue({ params: a, payload: { label: "intruder" } })]
    ]
    for (const [what, attempt] of attempts) {
      const error = yield* Effect.flip(attempt)
      assert.strictEqual(error._tag, "ApiNotFound", what)
    }
    // The progress stream under A's path with B's key in the query (as EventSource sends it): 404, no stream.
    const viaQuery = yield* readProgress(`${base}/api/workspaces/${workspaceA}/scans/${encodeURIComponent(scanId)}/progress?key=${writeB}`)
    assert.strictEqual(viaQuery.status, 404)
    assert.deepStrictEqual(viaQuery.events, [])
    // B sees nothing of A in its own workspace either.
    assert.deepStrictEqual((yield* clientB.supervisor.history({ params: { workspaceId: workspaceB } })), [])
    assert.deepStrictEqual((yield* clientB.retention.holds({ params: { workspaceId: workspaceB } })), [])
  })

const post = (url: string, headers: Record<string, string>, body: string | ReadableStream<Uint8Array>, extra: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, ...extra })
    const text = await response.text()
    return { status: response.status, text }
  })

describe("spectral serve: scans started through the host API (PGlite)", () => {
  it.live("start, live progress, supervisor, history, diff, world models, samples, holds, ingest keys, bad input", () =>
    Effect.gen(function*() {
      const workspaceA = "api-run-a"
      const workspaceB = "api-run-b"
      const { dir } = yield* scratch({})
      const env = { ...pgliteEnv(initialisedDataDir(join(dir, "db"))), SPECTRAL_LLM: "simulated", SPECTRAL_API_MAX_BODY_BYTES: "65536" }
      const keys = yield* prepare(Storage.layerPglite({ dataDir: join(dir, "db") }), workspaceA, workspaceB)
      const { base, writeA } = yield* serve(workspaceA, env)
      const client = yield* ApiClient.makeWithKey(base, writeA)
      const auth = { authorization: `Bearer ${writeA}` }
      const a = { workspaceId: workspaceA }

      // A scan started through the API: 202 with its id, then its progress live, to `end`.
      const first = yield* startAndFinish(base, writeA, workspaceA, 3)
      assert.strictEqual(first.progress.status, 200)
      assert.match(first.progress.contentType ?? "", /^text\/event-stream/)
      const events = first.progress.events
      assert.deepStrictEqual(events.at(-1), { event: "end", data: { status: "completed" } })
      assert.isTrue(events.every((e) => ["phase", "stimuli", "end"].includes(e.event)))
      for (const phase of phases) assert.isTrue(events.some((e) => e.event === "phase" && e.data["phase"] === phase && e.data["status"] === "done"), phase)
      // Phases finish in pipeline order.
      const doneOrder = events.filter((e) => e.event === "phase" && e.data["status"] === "done").map((e) => e.data["phase"])
      assert.deepStrictEqual([...new Set(doneOrder)], phases)
      for (const e of events.filter((e) => e.event === "stimuli")) {
        assert.isAtMost(Number(e.data["done"]), Number(e.data["total"]))
        assert.isString(e.data["phase"])
      }
      const detail = yield* client.scans.get({ params: { workspaceId: workspaceA, scanId: first.scanId } })
      assert.strictEqual(detail.scan.state, "completed")
      assert.strictEqual(detail.phasesDone, 9)

      // A finished scan's stream: every phase done, the baseline's stimuli all measured, and `end`, at
      // once (a page opened after the end shows the full bar); through the typed client (bearer) too.
      const again = yield* readProgress(`${base}/api/workspaces/${workspaceA}/scans/${encodeURIComponent(first.scanId)}/progress`, auth)
      const measured = detail.scan.record?.evalSet.size
      assert.isDefined(measured)
      assert.deepStrictEqual(again.events, [
        ...phases.map((phase) => ({ event: "phase", data: { phase, status: "done" } })),
        { event: "stimuli", data: { phase: "observe", arm: "baseline", done: measured, total: measured } },
        { event: "end", data: { status: "completed" } }
      ])
      const typed = yield* Stream.runCollect(Stream.unwrap(client.progress.stream({ params: { workspaceId: workspaceA, scanId: first.scanId } })))
      assert.deepStrictEqual(Array.from(typed).at(-1), { event: "end", data: { status: "completed" } })

      // Cancelling a scan that finished: 409 naming its state, nothing changed.
      const late = yield* Effect.flip(client.scans.cancel({ params: { workspaceId: workspaceA, scanId: first.scanId } }))
      assert.strictEqual(late._tag, "ApiConflict")
      assert.include(late.message, "completed")
      assert.strictEqual((yield* client.scans.get({ params: { workspaceId: workspaceA, scanId: first.scanId } })).scan.state, "completed")

      // A second scan; the supervisor and the history over both.
      const second = yield* startAndFinish(base, writeA, workspaceA, 4)
      assert.deepStrictEqual(second.progress.events.at(-1), { event: "end", data: { status: "completed" } })
      const report = yield* client.supervisor.supervisor({ params: a, query: {} })
      assert.strictEqual(report.scans, 2)
      assert.deepStrictEqual(report.agents.map((s) => s.agentId), smallWorkspace(workspaceA).agents.map((agent: { id: string }) => agent.id).sort())
      for (const status of report.agents) {
        assert.include(["ACTIVE", "PLATEAU", "FRONTIER"], status.status, status.reason)
        assert.strictEqual(status.scans, 2)
        assert.deepStrictEqual(status.worldModelVersions, ["us-federal-individual-tax@0.1.0"])
        assert.isTrue(status.reason.startsWith(status.status))
      }
      const badQuery = yield* Effect.flip(client.supervisor.supervisor({ params: a, query: { window: 1 } }))
      assert.strictEqual(badQuery._tag, "ApiInvalid")
      assert.include(badQuery.message, "window")
      const history = yield* client.supervisor.history({ params: a })
      assert.deepStrictEqual(history.map((h) => h.scanId), [first.scanId, second.scanId], "completed scans only, oldest first")
      for (const entry of history) {
        assert.strictEqual(entry.worldModel?.worldModelVersion, "0.1.0")
        assert.match(entry.worldModel?.ruleSetHash ?? "", /^sha256:/)
        assert.isNumber(entry.composite.worldModel)
        assert.isNumber(entry.composite.rubric)
        assert.isNumber(entry.composite.blended)
        assert.isAbove(entry.agents.length, 0)
        for (const agent of entry.agents) assert.isTrue(agent.low <= agent.estimate && agent.estimate <= agent.high, agent.agentId)
      }
      const blended = (yield* client.scans.list({ params: a })).find((s) => s.id === first.scanId)?.blendedScore
      assert.strictEqual(history[0]!.composite.blended, blended)

      // The change set's diff against the baseline its scan measured.
      const changeSets = yield* client.changeSets.list({ params: a })
      const changeSet = changeSets.find((c) => c.scanId === first.scanId)!
      const diff = yield* client.changeSets.diff({ params: { workspaceId: workspaceA, changeSetId: changeSet.id } })
      assert.deepStrictEqual(diff.baseline, { kind: "scan baseline", id: first.scanId })
      const baselineAgents = (yield* client.scans.get({ params: { workspaceId: workspaceA, scanId: first.scanId } })).scan.record!.agents
      for (const change of diff.changes) {
        const [, agentId, ...field] = change.path.split(".")
        const read = (agents: ReadonlyArray<unknown>) =>
          field.reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], agents.find((x) => (x as { agentId: string }).agentId === agentId))
        assert.deepStrictEqual(change.baseline, read(baselineAgents) ?? null, change.path)
        assert.deepStrictEqual(change.proposed, read(changeSet.agents) ?? null, change.path)
        assert.notDeepEqual(change.baseline, change.proposed)
      }
      const changedAgents = changeSet.agents.filter((v) => JSON.stringify(v) !== JSON.stringify(baselineAgents.find((b) => b.agentId === v.agentId)))
      assert.strictEqual(new Set(diff.changes.map((c) => c.path.split(".")[1])).size, changedAgents.length)
      assert.strictEqual((yield* Effect.flip(client.changeSets.diff({ params: { workspaceId: workspaceA, changeSetId: "no-such" } })))._tag, "ApiNotFound")

      // World models and versions with their metadata.
      const worlds = yield* client.worldModels.list({ params: a })
      const tax = worlds.find((w) => w.worldModelId === "us-federal-individual-tax")!
      assert.includeMembers([...tax.versions], ["0.1.0", "0.2.0"])
      assert.strictEqual(tax.scans, 2)
      const version = yield* client.worldModels.version({ params: { workspaceId: workspaceA, worldModelId: tax.worldModelId, version: "0.1.0" } })
      assert.deepStrictEqual(version.authority, history[0]!.worldModel)
      assert.strictEqual(version.current, tax.current === "0.1.0")
      assert.deepStrictEqual(version.scans, { count: 2, firstScanId: first.scanId, firstAt: history[0]!.startedAt, lastAt: history[1]!.startedAt })
      assert.isAbove(version.rules, 0)
      const versions = yield* client.worldModels.versions({ params: { workspaceId: workspaceA, worldModelId: tax.worldModelId } })
      assert.deepStrictEqual(versions.map((v) => v.worldModelVersion), [...tax.versions])
      assert.notStrictEqual(versions[0]!.authority.ruleSetHash, versions[1]!.authority.ruleSetHash)
      const noVersion = yield* Effect.flip(client.worldModels.version({ params: { workspaceId: workspaceA, worldModelId: tax.worldModelId, version: "9.9.9" } }))
      assert.strictEqual(noVersion._tag, "ApiNotFound")
      assert.include(noVersion.message, "9.9.9")

      // Sample sets (each scan records the eval set's), their versions; curation answers what it did.
      const sets = yield* client.samples.sampleSets({ params: a })
      assert.isAbove(sets.length, 0)
      const one = yield* client.samples.sampleSetVersions({ params: { workspaceId: workspaceA, sampleSetId: sets[0]!.id } })
      assert.deepStrictEqual(one.map((s) => s.version), [...one.map((s) => s.version)].sort((x, y) => x - y))
      assert.isTrue(one.every((s) => s.id === sets[0]!.id))
      assert.strictEqual((yield* Effect.flip(client.samples.sampleSetVersions({ params: { workspaceId: workspaceA, sampleSetId: "none" } })))._tag, "ApiNotFound")
      const curated = yield* client.samples.curate({ params: a, payload: {} })
      assert.strictEqual(curated.derived, 0, "no traces were ingested")

      // Legal holds: placed, listed, released once (again is 409 naming the state).
      const hold = yield* client.retention.placeHold({ params: a, payload: { id: "litigation-1", traceIds: ["trace-1"], reason: "litigation", actor: "legal@example.com" } })
      assert.deepStrictEqual(hold.traceIds, ["trace-1"])
      assert.deepStrictEqual((yield* client.retention.holds({ params: a })).map((h) => h.id), ["litigation-1"])
      const duplicate = yield* Effect.flip(client.retention.placeHold({ params: a, payload: { id: "litigation-1", traceIds: ["*"], reason: "again", actor: "legal@example.com" } }))
      assert.strictEqual(duplicate._tag, "ApiConflict")
      const released = yield* client.retention.releaseHold({ params: { workspaceId: workspaceA, holdId: "litigation-1" }, payload: { actor: "legal@example.com" } })
      assert.isString(released.releasedAt)
      const twice = yield* Effect.flip(client.retention.releaseHold({ params: { workspaceId: workspaceA, holdId: "litigation-1" }, payload: { actor: "legal@example.com" } }))
      assert.strictEqual(twice._tag, "ApiConflict")
      assert.include(twice.message, "released")
      assert.strictEqual((yield* Effect.flip(client.retention.releaseHold({ params: { workspaceId: workspaceA, holdId: "nope" }, payload: { actor: "x" } })))._tag, "ApiNotFound")

      // Ingest keys (admin): a write key may not; issued, listed by id, revoked — the receiver refuses it then.
      assert.strictEqual((yield* Effect.flip(client.ingestKeys.list({ params: a })))._tag, "ApiForbidden")
      const admin = yield* ApiClient.makeWithKey(base, keys.adminA)
      const issued = yield* admin.ingestKeys.issue({ params: a, payload: { label: "collector" } })
      assert.match(issued.key, /^spk_/)
      assert.deepStrictEqual((yield* admin.ingestKeys.list({ params: a })).map((k) => [k.keyId, k.label]), [[issued.keyId, "collector"]])
      const traces = (key: string) => post(`${base}/v1/traces`, { authorization: `Bearer ${key}` }, "{}").pipe(Effect.map((r) => r.status))
      assert.notStrictEqual(yield* traces(issued.key), 401)
      const revoked = yield* admin.ingestKeys.revoke({ params: { workspaceId: workspaceA, keyId: issued.keyId } })
      assert.isString(revoked.revokedAt)
      assert.strictEqual(yield* traces(issued.key), 401)
      assert.strictEqual((yield* Effect.flip(admin.ingestKeys.revoke({ params: { workspaceId: workspaceA, keyId: "0000000000000000" } })))._tag, "ApiNotFound")

      // Bad input on the wire.
      const startUrl = `${base}/api/workspaces/${workspaceA}/scans`
      const wrongSeed = yield* post(startUrl, auth, JSON.stringify({ seed: "three" }))
      assert.strictEqual(wrongSeed.status, 400)
      assert.deepStrictEqual((JSON.parse(wrongSeed.text) as { errors: ReadonlyArray<{ path: unknown }> }).errors.map((e) => e.path), [["payload", "seed"]])
      const emptyHold = yield* post(`${base}/api/workspaces/${workspaceA}/retention/holds`, auth, JSON.stringify({ traceIds: [], reason: "r", actor: "a" }))
      assert.strictEqual(emptyHold.status, 400)
      assert.include(emptyHold.text, "traceIds")
      assert.strictEqual((yield* post(`${base}/api/workspaces/${workspaceA}/scans/no-such-scan/cancel`, auth, "")).status, 404)
      // Over the limit (64 KiB here): declared, refused before the body is read; and chunked, stopped at the limit.
      const big = JSON.stringify({ seed: 1, padding: "x".repeat(200_000) })
      const declared = yield* post(startUrl, auth, big)
      assert.strictEqual(declared.status, 413)
      assert.include(declared.text, "65536")
      const chunks = new TextEncoder().encode(big)
      const chunked = yield* post(startUrl, auth, new ReadableStream({
        start(controller) {
          for (let i = 0; i < chunks.length; i += 16_384) controller.enqueue(chunks.slice(i, i + 16_384))
          controller.close()
        }
      }), { duplex: "half" } as RequestInit)
      assert.strictEqual(chunked.status, 413)
      assert.include(chunked.text, "limit")
      assert.strictEqual((yield* client.scans.list({ params: a })).length, 3, "nothing was started by a refused request (2 scans and the hand-written row)")
      // A forced defect (a stored card that does not decode): a bare 500, no stack trace, nothing of the code.
      const defect = yield* Effect.promise(() =>
        fetch(`${base}/api/workspaces/${workspaceA}/scans/${encodeURIComponent(keys.corruptId)}/card.json`, { headers: auth })
          .then(async (r) => ({ status: r.status, text: await r.text() }))
      )
      assert.strictEqual(defect.status, 500)
      assert.notMatch(defect.text, /\bat\s+\S+\s*\(|\.ts:\d+|node_modules|Error:/)

      // The OpenAPI document lists the new routes.
      const document = yield* Effect.promise(() => fetch(`${base}/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>))
      assert.includeMembers(Object.keys(document.paths), [
        "/api/workspaces/{workspaceId}/scans/{scanId}/progress",
        "/api/workspaces/{workspaceId}/scans/{scanId}/cancel",
        "/api/workspaces/{workspaceId}/supervisor",
        "/api/workspaces/{workspaceId}/history",
        "/api/workspaces/{workspaceId}/change-sets/{changeSetId}/diff",
        "/api/workspaces/{workspaceId}/world-models/{worldModelId}/versions/{version}",
        "/api/workspaces/{workspaceId}/retention/holds",
        "/api/workspaces/{workspaceId}/ingest-keys"
      ])

      // Another workspace's key: 404 for all of it.
      yield* crossWorkspaceChecks(base, keys.writeB, workspaceA, workspaceB, first.scanId, changeSet.id)
    }).pipe(Effect.scoped), 300_000)

  it.live("cancelling a running scan interrupts it, records it cancelled, and ends its stream", () =>
    Effect.gen(function*() {
      const workspaceA = "api-cancel-a"
      const { dir } = yield* scratch({})
      const provider = yield* simulatedProvider
      // Every model call takes a while: the scan is still measuring when it is cancelled.
      provider.defaultChat = (request) => ({ ...simulatedReply(request) as { kind: "ok" }, delayMs: 400 })
      const env = { ...providerEnv(provider.baseUrl, "sk-test-cancel"), ...pgliteEnv(initialisedDataDir(join(dir, "db"))) }
      yield* prepare(Storage.layerPglite({ dataDir: join(dir, "db") }), workspaceA, "api-cancel-b")
      const { base, writeA } = yield* serve(workspaceA, env)
      const client = yield* ApiClient.makeWithKey(base, writeA)
      const started = yield* client.scans.start({ params: { workspaceId: workspaceA }, payload: { seed: 2 } })
      const url = `${base}${started.progress}?key=${encodeURIComponent(writeA)}`
      // Live: stimuli counted while it measures.
      const live = yield* readProgress(url, {}, (events) => events.some((e) => e.event === "stimuli"))
      const counted = live.events.find((e) => e.event === "stimuli")!
      assert.include(["observe", "optimize"], counted.data["phase"])
      assert.isAtMost(Number(counted.data["done"]), Number(counted.data["total"]))
      assert.isFalse(live.events.some((e) => e.event === "end"))
      // A stream open while it is cancelled ends with `end` {status:"cancelled"}.
      const watching = yield* Effect.forkChild(readProgress(url))
      yield* Effect.sleep("300 millis")
      const callsBefore = provider.chatRequests().length
      const cancelled = yield* client.scans.cancel({ params: { workspaceId: workspaceA, scanId: started.scanId } })
      assert.strictEqual(cancelled.scan.state, "abandoned")
      assert.match(cancelled.scan.failureReason ?? "", /^cancelled: by API key "spectral serve"/)
      assert.isUndefined(cancelled.scan.lease)
      const watched = yield* Fiber.join(watching)
      assert.deepStrictEqual(watched.events.at(-1), { event: "end", data: { status: "cancelled" } })
      // Interrupted: no more model calls after the cancel settles.
      yield* Effect.sleep("1500 millis")
      const settled = provider.chatRequests().length
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(provider.chatRequests().length, settled, `calls went on after the cancel (${callsBefore} before it)`)
      // Cancelled again: 409 naming the state; the stream of a cancelled scan ends at once with `end` cancelled.
      const again = yield* Effect.flip(client.scans.cancel({ params: { workspaceId: workspaceA, scanId: started.scanId } }))
      assert.strictEqual(again._tag, "ApiConflict")
      assert.include(again.message, "abandoned")
      assert.include(again.message, "cancelled")
      const after = yield* readProgress(url)
      assert.deepStrictEqual(after.events.at(-1), { event: "end", data: { status: "cancelled" } })
      assert.strictEqual((yield* client.scans.get({ params: { workspaceId: workspaceA, scanId: started.scanId } })).scan.state, "abandoned")
    }).pipe(Effect.scoped), 300_000)
})

describe("progress events and change-set diffs", () => {
  const pending = phases.map((phase) => ({ phase, status: "pending" })) as ReadonlyArray<{ phase: "preflight"; status: "pending" }>
  it("sends every phase first, then only what changed, and end", () => {
    const start = { phases: pending, stimuli: undefined, end: undefined }
    assert.deepStrictEqual(eventsBetween(undefined, start).map((e) => e.event), phases.map(() => "phase"))
    assert.deepStrictEqual(eventsBetween(start, start), [])
    const observing = {
      phases: pending.map((p, i) => (i === 0 ? { ...p, status: "done" as const } : i === 1 ? { ...p, status: "running" as const } : p)),
      stimuli: { phase: "observe", arm: "baseline", done: 3, total: 30 },
      end: undefined
    }
    assert.deepStrictEqual(eventsBetween(start, observing), [
      { event: "phase", data: { phase: "preflight", status: "done" } },
      { event: "phase", data: { phase: "observe", status: "running" } },
      { event: "stimuli", data: { phase: "observe", arm: "baseline", done: 3, total: 30 } }
    ])
    const more = { ...observing, stimuli: { ...observing.stimuli, done: 4 } }
    assert.deepStrictEqual(eventsBetween(observing, more), [{ event: "stimuli", data: { phase: "observe", arm: "baseline", done: 4, total: 30 } }])
    assert.deepStrictEqual(eventsBetween(more, { ...more, end: "cancelled" }), [{ event: "end", data: { status: "cancelled" } }])
  })
  it("diffs agents field by field against the baseline", () => {
    const template = { system: "You decide.", user: "{{input}}", chainOfThought: "none" as const, examples: [] }
    const agent = (version: number, temperature: number, system = template.system) =>
      ({ agentId: "advisor", version, template: { ...template, system }, hyperparameters: { temperature, maxTokens: 400 } }) as never
    assert.deepStrictEqual(agentChanges([agent(1, 0.8)], [agent(1, 0.8)]), [])
    assert.deepStrictEqual(agentChanges([agent(1, 0.8)], [agent(2, 0.2, "You decide carefully.")]), [
      { path: "agents.advisor.hyperparameters.temperature", baseline: 0.8, proposed: 0.2 },
      { path: "agents.advisor.template.system", baseline: "You decide.", proposed: "You decide carefully." },
      { path: "agents.advisor.version", baseline: 1, proposed: 2 }
    ])
    const added = agentChanges([], [agent(1, 0.5)])
    assert.isTrue(added.every((c) => c.baseline === null && c.path.startsWith("agents.advisor.")))
    assert.deepStrictEqual(added.find((c) => c.path === "agents.advisor.hyperparameters.temperature"), { path: "agents.advisor.hyperparameters.temperature", baseline: null, proposed: 0.5 })
  })
})

/** The server, or (outside CI) undefined: the test is skipped. */
const pgServer = usePgServer()

describe("spectral serve: scans started through the host API on a PostgreSQL server", () => {
  it.live("a key of another workspace gets 404 for every one of them (row-level security underneath)", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceA = `api-run-server-a-${process.pid}`
      const workspaceB = `api-run-server-b-${process.pid}`
      const env = { ...serverEnv(info), SPECTRAL_LLM: "simulated" }
      const keys = yield* prepare(Storage.layerPg({ url: info.appUrl }), workspaceA, workspaceB)
      const { base, writeA } = yield* serve(workspaceA, env)
      const run = yield* startAndFinish(base, writeA, workspaceA, 3)
      assert.deepStrictEqual(run.progress.events.at(-1), { event: "end", data: { status: "completed" } })
      const clientA = yield* ApiClient.makeWithKey(base, writeA)
      const changeSet = (yield* clientA.changeSets.list({ params: { workspaceId: workspaceA } })).find((c) => c.scanId === run.scanId)!
      yield* crossWorkspaceChecks(base, keys.writeB, workspaceA, workspaceB, run.scanId, changeSet.id)
      // A's own key reads all of it through the same store.
      assert.strictEqual((yield* clientA.supervisor.history({ params: { workspaceId: workspaceA } })).length, 1)
      assert.isAbove((yield* clientA.changeSets.diff({ params: { workspaceId: workspaceA, changeSetId: changeSet.id } })).changes.length, 0)
    }).pipe(Effect.scoped), 300_000)
})
