/**
 * The host API as a user reaches it: `spectral scan` on the simulated model into the store, then
 * `spectral serve --port 0 --issue-api-key WORKSPACE:write` as its own process (real HTTP on
 * 127.0.0.1), called through the typed client (`ApiClient`) and, where the wire matters, `fetch`:
 * - embedded PGlite: the scan with its phase progress, the verdict with every gate and the
 *   composite scores, the failure clusters, the cards; approving the change set writes the audit
 *   trail and a second approval is 409 naming the state; a read key cannot approve (403), a
 *   missing, unknown or revoked key is 401 saying which, a bad payload is 400 naming the field,
 *   and the OpenAPI document and the docs are served;
 * - on PGlite and on a PostgreSQL server (the throwaway cluster): a key of workspace B gets 404,
 *   never 403, for everything of workspace A, while A's own key works.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import type { PgServerInfo } from "@spectral/adapters/testing"
import { ApiKeyRepo, WorkspaceRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { extractText, getDocumentProxy } from "unpdf"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ApiClient, issueApiKey } from "../src/index.ts"
import { phaseProgress } from "../src/host/api/ScansHandlers.ts"
import { runScan, scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"
import { usePgServer } from "./PgServer.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

interface ScanSummary {
  readonly scanId: string
  readonly state: string
  readonly verdict: string
  readonly checksTotal: number
  readonly clusters: ReadonlyArray<{ readonly label: string; readonly members: number }>
  readonly changeSet: { readonly id: string; readonly status: string } | null
}

/** Environment selecting the store: PGlite under `dataDir`, or the server's app role. */
type StoreEnv = Record<string, string | undefined>
const pgliteEnv = (dataDir: string): StoreEnv => ({ SPECTRAL_DATA_DIR: dataDir, SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined })
const serverEnv = (info: PgServerInfo): StoreEnv => ({ SPECTRAL_DATABASE_URL: info.appUrl, SPECTRAL_DATABASE_OWNER_URL: undefined })

/** `spectral scan` of a small example workspace on the simulated model; its JSON summary. */
const scanInto = (workspaceId: string, env: StoreEnv) =>
  Effect.gen(function*() {
    const { file } = yield* scratch(smallWorkspace(workspaceId))
    const run = yield* runScan(file, { ...env, SPECTRAL_LLM: "simulated" }, ["--seed", "3"])
    assert.strictEqual(run.code, 0, run.stdout + run.stderr)
    return JSON.parse(run.stdout) as ScanSummary
  })

/** Declare workspace B and issue keys in-process (the store closed afterwards, so `serve` can open it). */
const prepareKeys = <E>(store: Layer.Layer<Storage.Repositories, E>, workspaceA: string, workspaceB: string) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(smallWorkspace(workspaceB))
    const readA = yield* issueApiKey(workspaceA, "read", "test read")
    const writeB = yield* issueApiKey(workspaceB, "write", "test write B")
    const revokedA = yield* issueApiKey(workspaceA, "write", "test revoked")
    const keys = yield* ApiKeyRepo
    const stored = (yield* keys.list(workspaceA)).find((k) => k.label === "test revoked")!
    yield* keys.save({ ...stored, revokedAt: "2026-01-01T00:00:00.000Z" })
    return { readA: readA.key, writeB: writeB.key, revokedA: revokedA.key }
  }).pipe(Effect.provide(Layer.fresh(store)), Effect.scoped)

/** `spectral serve --port 0 --issue-api-key A:write`: the printed key and base URL. */
const serve = (workspaceA: string, env: StoreEnv) =>
  Effect.gen(function*() {
    const process = yield* startNode(bin, ["serve", "--port", "0", "--issue-api-key", `${workspaceA}:write`], env)
    yield* waitUntil(() => process.output().includes("\"listening\""), "spectral serve to listen", 60_000)
    const lines = process.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, string>)
    const issued = lines.find((line) => "key" in line)!
    const listening = lines.find((line) => "listening" in line)!
    assert.strictEqual(issued["workspaceId"], workspaceA)
    assert.strictEqual(issued["scope"], "write")
    assert.match(issued["key"]!, /^spa_/)
    const base = listening["listening"]!.replace(/\/v1\/traces$/, "")
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
    return { base, writeA: issued["key"]!, docs: listening["docs"]!, openapi: listening["openapi"]! }
  })

/** A key of workspace B: 404 for everything of A (under A's path and under its own), A's key still works. */
const crossWorkspaceChecks = (base: string, keys: { readonly writeA: string; readonly writeB: string }, a: ScanSummary, workspaceA: string, workspaceB: string) =>
  Effect.gen(function*() {
    const clientB = yield* ApiClient.makeWithKey(base, keys.writeB)
    const clientA = yield* ApiClient.makeWithKey(base, keys.writeA)
    const changeSetId = a.changeSet!.id
    const scanA = { workspaceId: workspaceA, scanId: a.scanId }
    const scanAUnderB = { workspaceId: workspaceB, scanId: a.scanId }
    const csA = { workspaceId: workspaceA, changeSetId }
    const csAUnderB = { workspaceId: workspaceB, changeSetId }
    const attempts: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string }>]> = [
      ["workspace A", clientB.workspaces.get({ params: { workspaceId: workspaceA } })],
      ["declare over A", clientB.workspaces.declare({ params: { workspaceId: workspaceA }, payload: smallWorkspace(workspaceA) })],
      ["A's scans", clientB.scans.list({ params: { workspaceId: workspaceA } })],
      ["A's scan", clientB.scans.get({ params: scanA })],
      ["A's scan under B", clientB.scans.get({ params: scanAUnderB })],
      ["A's result", clientB.scans.result({ params: scanA })],
      ["A's result under B", clientB.scans.result({ params: scanAUnderB })],
      ["A's clusters under B", clientB.scans.clusters({ params: scanAUnderB })],
      ["A's card under B", clientB.cards.json({ params: scanAUnderB })],
      ["A's card markdown", clientB.cards.markdown({ params: scanA })],
      ["A's change sets", clientB.changeSets.list({ params: { workspaceId: workspaceA } })],
      ["A's change set", clientB.changeSets.get({ params: csA })],
      ["A's change set under B", clientB.changeSets.get({ params: csAUnderB })],
      ["approve A's change set", clientB.changeSets.approve({ params: csA, payload: { actor: "intruder" } })],
      ["approve A's change set under B", clientB.changeSets.approve({ params: csAUnderB, payload: { actor: "intruder" } })],
      ["A's api keys", clientB.apiKeys.list({ params: { workspaceId: workspaceA } })]
    ]
    for (const [what, attempt] of attempts) {
      const error = yield* Effect.flip(attempt)
      assert.strictEqual(error._tag, "ApiNotFound", what)
    }
    // B's key is a working key in B (it sees its own workspace, and none of A's scans).
    assert.strictEqual((yield* clientB.workspaces.get({ params: { workspaceId: workspaceB } })).id, workspaceB)
    assert.deepStrictEqual(yield* clientB.scans.list({ params: { workspaceId: workspaceB } }), [])
    // Nothing of A changed: its change set still awaits a decision; A's key reads it.
    const detail = yield* clientA.changeSets.get({ params: csA })
    assert.strictEqual(detail.changeSet.status, "proposed")
    assert.isFalse(detail.audit.some((entry) => entry.actor === "intruder"))
  })

describe("spectral serve: the host API on embedded PGlite", () => {
  it.live("serves a scan, its verdict, clusters and cards; approving writes the audit trail; keys and payloads are checked", () =>
    Effect.gen(function*() {
      const workspaceA = "api-tax-prep"
      const workspaceB = "api-other-team"
      const { dir } = yield* scratch({})
      const env = pgliteEnv(initialisedDataDir(join(dir, "db")))
      const summary = yield* scanInto(workspaceA, env)
      assert.strictEqual(summary.state, "completed")
      assert.strictEqual(summary.changeSet?.status, "proposed")
      const keys = yield* prepareKeys(Storage.layerPglite({ dataDir: join(dir, "db") }), workspaceA, workspaceB)
      const { base, docs, openapi, writeA } = yield* serve(workspaceA, env)
      const client = yield* ApiClient.makeWithKey(base, writeA)

      // The scan: listed, with every phase done.
      const scans = yield* client.scans.list({ params: { workspaceId: workspaceA } })
      assert.deepStrictEqual(scans.map((s) => s.id), [summary.scanId])
      const detail = yield* client.scans.get({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.strictEqual(detail.scan.state, "completed")
      assert.strictEqual(detail.phasesDone, detail.phasesTotal)
      assert.deepStrictEqual(detail.phases.map((p) => p.phase), ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize", "safety", "verdict", "complete"])

      // The verdict with every gate check, and the composite scores.
      const result = yield* client.scans.result({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.strictEqual(result.verdict.outcome, summary.verdict)
      assert.strictEqual(result.verdict.checksTotal, summary.checksTotal)
      assert.strictEqual(result.verdict.checks.filter((c) => c.status !== "neutral").length, summary.checksTotal, "every counted gate check is there")
      assert.includeMembers([...new Set(result.verdict.checks.map((c) => c.gate))], ["delta_threshold", "bootstrap_ci"])
      assert.strictEqual(result.composite.blendedScore._tag, "Present")

      // The failure clusters, with representative explanations and variants.
      const clusters = yield* client.scans.clusters({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.deepStrictEqual(clusters.map((c) => c.label), summary.clusters.map((c) => c.label))
      assert.deepStrictEqual(clusters.map((c) => c.memberTraceIds.length), summary.clusters.map((c) => c.members))
      assert.isTrue(clusters.every((c) => c.representativeExplanations.length > 0 && Array.isArray(c.variants)))

      // The cards.
      const card = yield* client.cards.json({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.strictEqual(card.footer, "Alpha preview — not for regulated use")
      const markdown = yield* client.cards.markdown({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.isTrue(markdown.trimEnd().endsWith("Alpha preview — not for regulated use"))
      assert.include(markdown, "spectral scan --replay")
      const html = yield* client.cards.html({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
      assert.include(html, "<table")
      // The PDF card (Chromium is on the CI machine; elsewhere the route answers 503 naming it).
      if (existsSync(process.env.SPECTRAL_CHROMIUM ?? "/usr/bin/chromium")) {
        const pdf = yield* client.cards.pdf({ params: { workspaceId: workspaceA, scanId: summary.scanId } })
        const pages = yield* Effect.promise(() => getDocumentProxy(new Uint8Array(pdf)).then((d) => extractText(d, { mergePages: false })))
        assert.isAbove(pages.text.length, 0)
        for (const text of pages.text) assert.include(text, "Alpha preview — not for regulated use")
        assert.include(pages.text.join("\n"), summary.verdict)
      }

      // A read key cannot decide (403 in its own workspace) but reads.
      const reader = yield* ApiClient.makeWithKey(base, keys.readA)
      const changeSetParams = { workspaceId: workspaceA, changeSetId: summary.changeSet!.id }
      assert.strictEqual((yield* reader.changeSets.get({ params: changeSetParams })).changeSet.status, "proposed")
      const forbidden = yield* Effect.flip(reader.changeSets.approve({ params: changeSetParams, payload: { actor: "reader" } }))
      assert.strictEqual(forbidden._tag, "ApiForbidden")

      // Approving writes the audit trail; a second approval is 409 naming the state.
      const approved = yield* client.changeSets.approve({ params: changeSetParams, payload: { actor: "reviewer@example.com" } })
      assert.strictEqual(approved.changeSet.status, "accepted")
      assert.isFalse(approved.approval.awaitingDecision)
      const last = approved.audit.at(-1)!
      assert.deepInclude(last, { action: "status:accepted", actor: "reviewer@example.com", from: "proposed", to: "accepted" })
      assert.strictEqual(approved.audit[0]!.action, "created")
      const again = yield* Effect.flip(client.changeSets.approve({ params: changeSetParams, payload: { actor: "reviewer@example.com" } }))
      assert.strictEqual(again._tag, "ApiConflict")
      assert.include(again.message, "accepted")
      assert.strictEqual((yield* client.changeSets.get({ params: changeSetParams })).audit.length, approved.audit.length, "nothing more written")

      // The wire: missing, unknown, revoked keys are 401 saying which; a bad payload is 400 naming the field.
      const url = `${base}/api/workspaces/${workspaceA}/change-sets/${encodeURIComponent(summary.changeSet!.id)}/reject`
      const post = (headers: Record<string, string>, body: string) =>
        Effect.promise(async () => {
          const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })
          return { status: response.status, body: await response.json() as Record<string, unknown> }
        })
      const good = JSON.stringify({ actor: "x", reason: "y" })
      for (const [headers, word] of [[{}, "missing"], [{ authorization: "Bearer spa_never-issued" }, "unknown"], [{ authorization: `Bearer ${keys.revokedA}` }, "revoked"]] as const) {
        const refused = yield* post(headers, good)
        assert.strictEqual(refused.status, 401, word)
        assert.strictEqual(refused.body["_tag"], "ApiUnauthorized")
        assert.include(String(refused.body["message"]), word)
      }
      const bad = yield* post({ authorization: `Bearer ${writeA}` }, JSON.stringify({ actor: "x" }))
      assert.strictEqual(bad.status, 400)
      assert.deepInclude(bad.body["errors"] as ReadonlyArray<unknown>, { path: ["payload", "reason"], message: "Missing key" })
      const wrongType = yield* post({ authorization: `Bearer ${writeA}` }, JSON.stringify({ actor: 7, reason: "y" }))
      assert.strictEqual(wrongType.status, 400)
      assert.deepStrictEqual((wrongType.body["errors"] as ReadonlyArray<{ path: unknown }>).map((e) => e.path), [["payload", "actor"]])

      // The OTLP receiver is served beside the API, on the same port (it wants an ingest key, not an API key).
      const traces = yield* Effect.promise(() =>
        fetch(`${base}/v1/traces`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${writeA}` }, body: "{}" })
          .then((r) => r.status)
      )
      assert.strictEqual(traces, 401)

      // The OpenAPI document and the docs page.
      const document = yield* Effect.promise(() => fetch(openapi).then((r) => r.json() as Promise<{ paths: Record<string, unknown> }>))
      assert.includeMembers(Object.keys(document.paths), [
        "/api/workspaces/{workspaceId}",
        "/api/workspaces/{workspaceId}/scans/{scanId}/result",
        "/api/workspaces/{workspaceId}/change-sets/{changeSetId}/approve"
      ])
      const page = yield* Effect.promise(() => fetch(docs).then(async (r) => ({ status: r.status, text: await r.text() })))
      assert.strictEqual(page.status, 200)
      assert.include(page.text, "Spectral host API")

      // Another workspace's key: 404 for this one's scan and change set (the full sweep is the next test).
      const clientB = yield* ApiClient.makeWithKey(base, keys.writeB)
      const notFoundForB: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }>> = [
        clientB.scans.get({ params: { workspaceId: workspaceB, scanId: summary.scanId } }),
        clientB.changeSets.get({ params: { workspaceId: workspaceB, changeSetId: summary.changeSet!.id } }),
        clientB.workspaces.get({ params: { workspaceId: workspaceA } })
      ]
      for (const attempt of notFoundForB) assert.strictEqual((yield* Effect.flip(attempt))._tag, "ApiNotFound")
    }).pipe(Effect.scoped), 240_000)

  it.live("a key of another workspace gets 404 for everything of this one", () =>
    Effect.gen(function*() {
      const workspaceA = "api-isolated-a"
      const workspaceB = "api-isolated-b"
      const { dir } = yield* scratch({})
      const env = pgliteEnv(initialisedDataDir(join(dir, "db")))
      const summary = yield* scanInto(workspaceA, env)
      const keys = yield* prepareKeys(Storage.layerPglite({ dataDir: join(dir, "db") }), workspaceA, workspaceB)
      const { base, writeA } = yield* serve(workspaceA, env)
      yield* crossWorkspaceChecks(base, { writeA, writeB: keys.writeB }, summary, workspaceA, workspaceB)
    }).pipe(Effect.scoped), 240_000)
})

describe("scan detail: phase progress", () => {
  const scan = (state: "running" | "failed" | "completed", completedPhases: ReadonlyArray<"preflight" | "observe">) => ({
    id: "ws:scan:1",
    workspaceId: "ws",
    state,
    seed: 1,
    completedPhases,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z"
  })
  it("marks the phases done, the next one running (or failed), the rest pending", () => {
    const running = phaseProgress(scan("running", ["preflight", "observe"]))
    assert.deepStrictEqual(running.phases.slice(0, 4).map((p) => p.status), ["done", "done", "running", "pending"])
    assert.deepStrictEqual([running.phasesDone, running.phasesTotal], [2, 9])
    assert.strictEqual(phaseProgress(scan("failed", ["preflight", "observe"])).phases[2]!.status, "failed")
    assert.isTrue(phaseProgress(scan("running", [])).phases.slice(1).every((p) => p.status === "pending"))
  })
})

describe("spectral serve --issue-api-key", () => {
  it("refuses a request naming no workspace or an unknown scope, before serving or storing anything", () => {
    const dir = mkdtempSync(join(tmpdir(), "spectral-api-key-"))
    const { SPECTRAL_DATABASE_URL: _url, SPECTRAL_DATABASE_OWNER_URL: _owner, ...withoutServer } = process.env
    try {
      for (const [request, says] of [[":admin", "names no workspace"], ["team:superuser", "unknown scope \"superuser\""]] as const) {
        const run = spawnSync(process.execPath, ["--conditions=@spectral/source", bin, "serve", "--port", "0", "--issue-api-key", request], {
          encoding: "utf8",
          env: { ...withoutServer, SPECTRAL_DATA_DIR: join(dir, "db") },
          timeout: 60_000
        })
        assert.strictEqual(run.status, 2, run.stdout + run.stderr)
        const error = (JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { error: string }).error
        assert.include(error, "--issue-api-key")
        assert.include(error, says)
      }
      assert.isFalse(existsSync(join(dir, "db")), "nothing stored")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The server, or (outside CI) undefined: the test is skipped. */
const pgServer = usePgServer()

describe("spectral serve: the host API on a PostgreSQL server", () => {
  it.live("a key of another workspace gets 404 for everything of this one (row-level security underneath)", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      // Workspace ids unique to this run, should the server be a shared one.
      const workspaceA = `api-server-a-${process.pid}`
      const workspaceB = `api-server-b-${process.pid}`
      const env = serverEnv(info)
      const summary = yield* scanInto(workspaceA, env)
      const keys = yield* prepareKeys(Storage.layerPg({ url: info.appUrl }), workspaceA, workspaceB)
      const { base, writeA } = yield* serve(workspaceA, env)
      yield* crossWorkspaceChecks(base, { writeA, writeB: keys.writeB }, summary, workspaceA, workspaceB)
      // A's own key decides on A's change set through the same store.
      const clientA = yield* ApiClient.makeWithKey(base, writeA)
      const approved = yield* clientA.changeSets.approve({
        params: { workspaceId: workspaceA, changeSetId: summary.changeSet!.id },
        payload: { actor: "reviewer@example.com" }
      })
      assert.strictEqual(approved.changeSet.status, "accepted")
    }).pipe(Effect.scoped), 240_000)
})
