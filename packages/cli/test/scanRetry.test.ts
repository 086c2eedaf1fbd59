/**
 * `spectral scan --retry SCAN_ID`, as a user runs it after a scan failed on its provider (separate
 * processes on embedded PGlite, the official `openai` SDK against a provider on loopback): once
 * the provider is back, the same scan is carried on as a new submission of the scan workflow —
 * the same scan id completes, counted as resumed once, its failure cleared, its spend carried on
 * (never refilled). A retry of a scan that did not fail, of an unknown scan or of a malformed id is
 * refused with one `{"error"}` line naming it (exit 2), and nothing stored changes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { ScanRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import { initialisedDataDir } from "./PgliteTemplate.ts"
import { providerEnv, runCli, runScan, scratch, simulatedProvider, simulatedReply, smallWorkspace } from "./ScanProcesses.ts"

const WORKSPACE = "retried-tax-prep"

const scansIn = (dataDir: string) =>
  Effect.gen(function*() {
    return yield* (yield* ScanRepo).list(WORKSPACE)
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPglite({ dataDir }))), Effect.scoped)

interface Summary {
  readonly scanId: string
  readonly state: string
  readonly resumed?: boolean
  readonly phase?: string
  readonly spend?: { readonly calls: number }
}

describe("spectral scan --retry", () => {
  it.live("a scan that failed on its provider is carried on once the provider is back: the same scan completes, its spend carried on", () =>
    Effect.gen(function*() {
      const server = yield* simulatedProvider
      // Answers 40 requests (mid-Observe: 30 stimuli × two agents and the judge), then the provider is down.
      let down = true
      server.defaultChat = (request) =>
        down && server.chatRequests().length > 40
          ? { kind: "status", status: 500, body: { error: { message: "upstream model is down", type: "server_error" } } }
          : simulatedReply(request)
      const { dir, file } = yield* scratch(smallWorkspace(WORKSPACE))
      const dataDir = initialisedDataDir(join(dir, "db"))
      const env = { ...providerEnv(server.baseUrl, "sk-test-retry-0001"), SPECTRAL_DATA_DIR: dataDir }

      const first = yield* runScan(file, env)
      assert.strictEqual(first.code, 1, first.stdout + first.stderr)
      const failed = JSON.parse(first.stdout) as Summary
      assert.strictEqual(failed.state, "failed")
      const [stored] = yield* scansIn(dataDir)
      assert.strictEqual(stored?.state, "failed")
      const spentBefore = stored?.spend?.total.calls ?? 0
      assert.isAbove(spentBefore, 0, "the failed run's calls are on its books")

      down = false
      const retried = yield* runCli(["scan", "--retry", failed.scanId], env)
      assert.strictEqual(retried.code, 0, retried.stdout + retried.stderr)
      const summary = JSON.parse(retried.stdout) as Summary
      assert.strictEqual(summary.scanId, failed.scanId, "the same scan")
      assert.strictEqual(summary.state, "completed")
      assert.isTrue(summary.resumed)
      const after = yield* scansIn(dataDir)
      assert.deepStrictEqual(after.map((s) => [s.id, s.state, s.resumes]), [[failed.scanId, "completed", 1]], "no second scan")
      assert.isUndefined(after[0]!.failureReason, "its failure is cleared")
      assert.isAbove(after[0]!.spend?.total.calls ?? 0, spentBefore, "the budget is carried on, never refilled")
      assert.strictEqual(summary.spend?.calls, after[0]!.spend?.total.calls, "the printed spend is the scan's")

      // Refused, naming why; nothing stored changes.
      const again = yield* runCli(["scan", "--retry", failed.scanId], env)
      assert.strictEqual(again.code, 2, again.stdout + again.stderr)
      assert.include(again.stdout + again.stderr, "only a failed scan is carried on again")
      const unknown = yield* runCli(["scan", "--retry", `${WORKSPACE}:scan:9`], env)
      assert.strictEqual(unknown.code, 2, unknown.stdout + unknown.stderr)
      assert.include(unknown.stdout + unknown.stderr, "no such scan")
      const malformed = yield* runCli(["scan", "--retry", "not-a-scan"], env)
      assert.strictEqual(malformed.code, 2, malformed.stdout + malformed.stderr)
      assert.include(malformed.stdout + malformed.stderr, "not-a-scan is not a scan id")
      const both = yield* runCli(["scan", "--retry", failed.scanId, "--workspace", file], env)
      assert.strictEqual(both.code, 2, both.stdout + both.stderr)
      assert.include(both.stdout + both.stderr, "give --retry SCAN_ID alone")
      assert.deepStrictEqual((yield* scansIn(dataDir)).map((s) => [s.id, s.state, s.resumes]), [[failed.scanId, "completed", 1]])
    }).pipe(Effect.scoped), 240_000)
})
