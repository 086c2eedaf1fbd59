/**
 * `spectral ingest` writes to the configured store (here embedded PGlite under SPECTRAL_DATA_DIR, as
 * `spectral scan` uses), not to a memory store that vanishes with the process: a second run sees
 * what the first stored, and the traces are tracked by retention from the moment they arrived.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Storage } from "@spectral/adapters"
import { RetentionRepo, TraceRepo } from "@spectral/engine"

const bin = join(import.meta.dirname, "..", "..", "src", "bin.ts")
const fixtures = join(import.meta.dirname, "..", "..", "..", "adapters", "test", "otlp", "fixtures")
const dir = mkdtempSync(join(tmpdir(), "spectral-ingest-store-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const spectral = (args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--conditions=@spectral/source", bin, ...args], {
        cwd: dir,
        env: { ...process.env, SPECTRAL_DATA_DIR: join(dir, "db"), SPECTRAL_DATABASE_URL: "" }
      })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, stdout, stderr }))
    })
  )

describe("spectral ingest", () => {
  it.live("stores into the configured store: a second run sees the first one's traces, retention tracks them", () =>
    Effect.gen(function*() {
      const before = Date.now()
      const first = yield* spectral(["ingest", "--workspace", "desk", join(fixtures, "otlp-proto__examples-trace.json")])
      assert.strictEqual(first.code, 0, first.stdout + first.stderr)
      const one = JSON.parse(first.stdout) as { workspaceId: string; store: string; spans: number; agents: ReadonlyArray<{ name: string }> }
      assert.deepStrictEqual([one.workspaceId, one.store, one.spans, one.agents.length], ["desk", `pglite:${join(dir, "db")}`, 1, 0])
      const second = yield* spectral(["ingest", "--workspace", "desk", join(fixtures, "langfuse__koog-2025-08-26.trace.json")])
      assert.strictEqual(second.code, 0, second.stdout + second.stderr)
      const two = JSON.parse(second.stdout) as { spans: number; agents: ReadonlyArray<{ name: string }> }
      assert.strictEqual(two.spans, 11)
      assert.strictEqual(two.agents.length, 1)
      const stored = yield* Effect.gen(function*() {
        const spans = yield* (yield* TraceRepo).list("desk")
        const records = yield* (yield* RetentionRepo).records("desk")
        return { spans: spans.length, traces: new Set(spans.map((s) => s.traceId)).size, records }
      }).pipe(Effect.provide(Storage.layerPglite({ dataDir: join(dir, "db") })))
      assert.strictEqual(stored.spans, 12)
      assert.strictEqual(stored.records.length, stored.traces)
      for (const record of stored.records) {
        assert.strictEqual(record.state, "ACTIVE")
        assert.isAtLeast(Date.parse(record.ingestedAt), before - 1000, "the window starts at ingest")
      }
    }), 240_000)
})
