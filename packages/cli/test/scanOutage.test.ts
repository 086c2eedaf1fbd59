/**
 * `spectral scan` against a model provider that does not work, as a user runs it: a separate
 * process on embedded storage, `SPECTRAL_LLM=openai` (the official `openai` SDK) pointed at a
 * loopback port. A dead port, a server that answers 500 and a provider that rejects the key (and
 * echoes it) each end the scan `failed` in observe with the provider's error printed, exit code 1,
 * within a few model calls, and with no change set — never "completed" with a "validated" one.
 * A provider that echoes the API key never gets it into what is printed or into any stored row
 * (scan, traces, response cache). (What the response cache keeps: the adapters' ProviderFaults suite.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { ChangeSetRepo, ScanRepo } from "@spectral/engine"
import { Clock, Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { deadPort, everyRow, providerEnv, runScan, scratch, simulatedProvider, simulatedReply, smallWorkspace } from "./ScanProcesses.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const API_KEY = "sk-proj-EchoedBack0123456789abcdefXYZ"
const WORKSPACE = "outage-tax-prep"

interface FailedSummary {
  readonly scanId: string
  readonly state: string
  readonly phase: string
  readonly error: string
}

/** The workspace's scans and change sets on the embedded store under `dataDir`. */
const stored = (dataDir: string) =>
  Effect.gen(function*() {
    return {
      scans: yield* (yield* ScanRepo).list(WORKSPACE),
      changeSets: yield* (yield* ChangeSetRepo).list(WORKSPACE)
    }
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPglite({ dataDir }))), Effect.scoped)

/** One scan against `baseUrl`; its summary, output, timing and what it stored. */
const scanAgainst = (baseUrl: string) =>
  Effect.gen(function*() {
    const { dir, file } = yield* scratch(smallWorkspace(WORKSPACE))
    const dataDir = initialisedDataDir(join(dir, "db"))
    const started = yield* Clock.currentTimeMillis
    const run = yield* runScan(file, { ...providerEnv(baseUrl, API_KEY), SPECTRAL_DATA_DIR: dataDir }, ["--output", join(dir, "out")])
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    return { run, seconds, dir, dataDir, summary: JSON.parse(run.stdout) as FailedSummary }
  })

const assertFailedScan = (result: Effect.Success<ReturnType<typeof scanAgainst>>, providerSays: string) =>
  Effect.gen(function*() {
    const { run, summary, dir, dataDir } = result
    assert.strictEqual(run.code, 1, run.stdout + run.stderr)
    assert.strictEqual(summary.state, "failed")
    assert.strictEqual(summary.phase, "observe")
    assert.include(summary.error, providerSays, "the provider's error is printed")
    assert.include(summary.error, "baseline runs")
    assert.isFalse(existsSync(join(dir, "out", "changeset.json")), "no change set written")
    const { scans, changeSets } = yield* stored(dataDir)
    assert.deepStrictEqual(scans.map((s) => s.state), ["failed"])
    assert.include(scans[0]!.failureReason ?? "", providerSays)
    assert.deepStrictEqual(changeSets, [], "no change set stored, validated or otherwise")
  })

describe("spectral scan against a failing model provider", () => {
  it.live("a dead port: failed in observe with the connection error, exit 1, in seconds", () =>
    Effect.gen(function*() {
      const port = yield* deadPort
      const result = yield* scanAgainst(`http://127.0.0.1:${port}/v1`)
      yield* assertFailedScan(result, "Connection error")
      assert.isBelow(result.seconds, 60, "fails fast")
    }).pipe(Effect.scoped), 120_000)

  it.live("a server answering 500: failed with the provider's error after a few calls, not one per stimulus", () =>
    Effect.gen(function*() {
      const server = yield* simulatedProvider
      server.defaultChat = () => ({ kind: "status", status: 500, body: { error: { message: "upstream model is down", type: "server_error" } } })
      const result = yield* scanAgainst(server.baseUrl)
      yield* assertFailedScan(result, "upstream model is down")
      // 30 stimuli; 5% of them may fail: the second failure ends it. Only the calls in flight then
      // (8, and a few started as the first ones failed) were made, each with its 2 retries: fewer
      // requests than stimuli, where a scan that carried on would make one per stimulus and agent.
      assert.isBelow(server.chatRequests().length, 30, `${server.chatRequests().length} requests`)
    }).pipe(Effect.scoped), 120_000)

  it.live("a provider echoing the API key: its error is printed redacted, and no stored row or output holds the key", () =>
    Effect.gen(function*() {
      const server = yield* simulatedProvider
      // First it rejects the key, quoting it (as OpenAI does); then it answers, quoting it in every answer.
      let rejecting = true
      server.defaultChat = (request) => {
        const key = String(request.headers.authorization ?? "").replace(/^Bearer /, "")
        if (rejecting) {
          return { kind: "status", status: 401, body: { error: { message: `Incorrect API key provided: ${key}.`, type: "invalid_request_error", code: "invalid_api_key" } } }
        }
        const reply = simulatedReply(request)
        if (reply.kind !== "ok" || typeof reply.content !== "string") return reply
        // Keep the JSON usable: the key goes into an extra field of the object the agent decodes.
        return { ...reply, content: reply.content.replace(/^\{/, `{"servedFor": "${key}", `) }
      }
      const { dir, file } = yield* scratch(smallWorkspace(WORKSPACE))
      const dataDir = initialisedDataDir(join(dir, "db"))
      const env = { ...providerEnv(server.baseUrl, API_KEY), SPECTRAL_DATA_DIR: dataDir }
      const rejected = yield* runScan(file, env)
      assert.strictEqual(rejected.code, 1, rejected.stdout + rejected.stderr)
      const failed = JSON.parse(rejected.stdout) as FailedSummary
      assert.strictEqual(failed.state, "failed")
      assert.include(failed.error, "Incorrect API key provided: [redacted]")
      assert.notInclude(rejected.stdout + rejected.stderr, API_KEY)

      rejecting = false
      const answered = yield* runScan(file, env)
      assert.strictEqual(answered.code, 0, answered.stdout + answered.stderr)
      assert.strictEqual((JSON.parse(answered.stdout) as { state: string }).state, "completed")
      assert.notInclude(answered.stdout + answered.stderr, API_KEY)

      const rows = (yield* everyRow(dataDir)).text
      assert.include(rows, "servedFor", "the answers were stored (traces, response cache)")
      assert.include(rows, "[redacted]")
      assert.notInclude(rows, API_KEY, "no stored row holds the key")
      assert.notInclude(rows, "EchoedBack0123456789")
    }).pipe(Effect.scoped), 180_000)
})
