/**
 * The main job (`npm start`: src/main.ts) as a user runs it, in separate processes on embedded
 * storage with the OpenAI-compatible provider pointed at loopback: against a dead endpoint it says
 * on stderr that the scan failed in observe with the connection error and exits 1, in seconds; killed
 * with SIGKILL mid-scan, the next `npm start` resumes that scan (same id) and finishes it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deadPort, providerEnv, simulatedProvider, simulatedReply, startNode, waitUntil } from "../../../packages/cli/test/ScanProcesses.ts"

const main = join(import.meta.dirname, "..", "src", "main.ts")

const folder = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "spectral-main-job-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const jobEnv = (dir: string, baseUrl: string) => ({
  ...providerEnv(baseUrl, "sk-test-main-job-0000"),
  SPECTRAL_DATA_DIR: join(dir, "db"),
  SPECTRAL_OUTPUT_DIR: join(dir, "out")
})

describe("npm start", () => {
  it.live("a dead model endpoint: the scan is reported failed in observe with the connection error, exit 1", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const port = yield* deadPort
      const started = yield* Clock.currentTimeMillis
      const job = yield* startNode(main, [], jobEnv(dir, `http://127.0.0.1:${port}/v1`))
      const exited = yield* job.exit
      assert.strictEqual(exited.code, 1, exited.stdout + exited.stderr)
      assert.match(exited.stderr, /Scan \S+:scan:1 failed in observe: .*Connection error/)
      assert.notInclude(exited.stdout, "finished (completed)")
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 90_000, "in seconds, not minutes")
    }).pipe(Effect.scoped), 120_000)

  it.live("killed with SIGKILL mid-scan: the next run resumes the same scan and finishes it", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const server = yield* simulatedProvider
      let stalling = true
      // 160 stimuli × two agents and the judge in Observe; past that, the first run gets no answers.
      server.defaultChat = (request) => (stalling && server.chatRequests().length > 500 ? { kind: "hang" } : simulatedReply(request))
      const first = yield* startNode(main, [], jobEnv(dir, server.baseUrl))
      yield* waitUntil(() => server.chatRequests().length > 502, "the scan to stall mid-way", 100_000)
      yield* first.kill("SIGKILL")
      yield* first.exit
      stalling = false
      const second = yield* startNode(main, [], jobEnv(dir, server.baseUrl))
      const exited = yield* second.exit
      assert.strictEqual(exited.code, 0, exited.stdout + exited.stderr)
      assert.match(exited.stdout, /Scan (\S+):scan:1 was left behind by a stopped process, resumed and finished \(completed\)/)
      assert.match(exited.stdout, /Scan history: \S+:scan:1 \[completed/)
      assert.notInclude(exited.stdout, ":scan:2", "no second scan")
    }).pipe(Effect.scoped), 240_000)
})
