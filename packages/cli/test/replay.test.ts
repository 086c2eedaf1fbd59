/**
 * `spectral scan --replay SCAN_ID` as a user runs it: processes on embedded storage in a temp
 * folder, the simulated model. A stored scan replays from its record to the same verdict (same
 * gate outcomes and decision) under a new scan id, with the record on the card; a record edited in
 * storage changes what the replay runs; an unknown scan id, a scan stored before records existed
 * and a record naming a plugin that is not loaded are refused with one `{"error"}` line naming
 * it, exit code 2.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Storage } from "@spectral/adapters"
import { ScanRepo } from "@spectral/engine"
import type { Scan, ScanRecord } from "@spectral/engine/contracts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const example = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "examples", "tax-prep", "workspace.json"), "utf8"))
const small = { ...example, framework: { ...example.framework, evalSetSize: 40 } }

interface Summary {
  readonly scanId: string
  readonly replayOf?: string
  readonly state: string
  readonly verdict: string
  readonly checksPassed: number
  readonly checksTotal: number
  readonly delta: unknown
}

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-cli-replay-"))
  const file = join(dir, "workspace.json")
  writeFileSync(file, JSON.stringify(small))
  return { dir, file, dataDir: initialisedDataDir(join(dir, "db")), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

const spectral = (dataDir: string, args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, SPECTRAL_DATA_DIR: dataDir, SPECTRAL_LLM: "simulated" },
    timeout: 120_000
  })

/** Change a stored scan's row in the data folder (no process holds it between runs). */
const editStored = (dataDir: string, workspaceId: string, scanId: string, edit: (scan: Scan) => Scan) =>
  Effect.runPromise(Effect.gen(function*() {
    const scans = yield* ScanRepo
    yield* scans.update(edit(yield* scans.get(workspaceId, scanId)))
  }).pipe(Effect.provide(Storage.layerPglite({ dataDir }))))

const verdictOf = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, "agent-performance-card.json"), "utf8")) as { gates: ReadonlyArray<{ gate: string; check: string; status: string }> })
    .gates.map((g) => `${g.gate}:${g.check}:${g.status}`)

describe("spectral scan --replay", () => {
  it("replays a stored scan to the same verdict as a new scan, and a record edited in storage changes the replay", async () => {
    const s = scratch()
    try {
      const first = spectral(s.dataDir, ["scan", "--workspace", s.file, "--seed", "3", "--output", join(s.dir, "first")])
      assert.strictEqual(first.status, 0, first.stdout + first.stderr)
      const original = JSON.parse(first.stdout) as Summary

      const again = spectral(s.dataDir, ["scan", "--replay", original.scanId, "--output", join(s.dir, "replay")])
      assert.strictEqual(again.status, 0, again.stdout + again.stderr)
      const replayed = JSON.parse(again.stdout) as Summary
      assert.notStrictEqual(replayed.scanId, original.scanId)
      assert.strictEqual(replayed.replayOf, original.scanId)
      assert.strictEqual(replayed.state, "completed")
      assert.strictEqual(replayed.verdict, original.verdict)
      assert.strictEqual(replayed.checksPassed, original.checksPassed)
      assert.strictEqual(replayed.checksTotal, original.checksTotal)
      assert.deepStrictEqual(replayed.delta, original.delta)
      assert.deepStrictEqual(verdictOf(join(s.dir, "replay")), verdictOf(join(s.dir, "first")))
      const card = readFileSync(join(s.dir, "replay", "agent-performance-card.md"), "utf8")
      assert.include(card, "## Reproduce")
      assert.include(card, `replay of: \`${original.scanId}\``)
      assert.include(card, "judge: `simulated/simulated-large")
      assert.include(readFileSync(join(s.dir, "first", "agent-performance-card.html"), "utf8"), "<h2>Reproduce</h2>")

      // One gate's settings edited in storage: the replay runs it with them.
      await editStored(s.dataDir, small.id, original.scanId, (scan) => ({
        ...scan,
        record: {
          ...scan.record!,
          gates: scan.record!.gates.map((g) =>
            g.name === "builtin/delta_threshold" ? { ...g, settings: { ...g.settings, thresholds: { ...g.settings.thresholds, minSamples: 20 } } } : g)
        } satisfies ScanRecord
      }))
      const edited = spectral(s.dataDir, ["scan", "--replay", original.scanId, "--output", join(s.dir, "edited")])
      assert.strictEqual(edited.status, 0, edited.stdout + edited.stderr)
      const before = verdictOf(join(s.dir, "first")).filter((c) => c.startsWith("delta_threshold:"))
      const after = verdictOf(join(s.dir, "edited")).filter((c) => c.startsWith("delta_threshold:"))
      // Recorded with minSamples 30 the 14 holdout stimuli are too few to judge; with 20 they are judged (and pass).
      assert.deepStrictEqual(before, ["delta_threshold:blended_delta:caution"])
      assert.deepStrictEqual(after, ["delta_threshold:blended_delta:pass"])
      // Only that gate: the bootstrap interval still reads the workspace's 30.
      assert.deepStrictEqual(verdictOf(join(s.dir, "edited")).filter((c) => !c.startsWith("delta_threshold:")), verdictOf(join(s.dir, "first")).filter((c) => !c.startsWith("delta_threshold:")))

      // A record naming a plugin that is not loaded.
      await editStored(s.dataDir, small.id, original.scanId, (scan) => ({
        ...scan,
        record: { ...scan.record!, plugins: [{ name: "acme-gates", gates: ["acme-gates/strict"], strategies: [], scorers: [] }] }
      }))
      const missing = spectral(s.dataDir, ["scan", "--replay", original.scanId])
      assert.strictEqual(missing.status, 2, missing.stdout + missing.stderr)
      assert.include((JSON.parse(missing.stdout) as { error: string }).error, "plugin acme-gates, which is not loaded")

      // A scan stored before records existed.
      await editStored(s.dataDir, small.id, original.scanId, ({ record: _record, ...scan }) => scan)
      const old = spectral(s.dataDir, ["scan", "--replay", original.scanId])
      assert.strictEqual(old.status, 2, old.stdout + old.stderr)
      assert.include((JSON.parse(old.stdout) as { error: string }).error, `scan ${original.scanId} has no record; it was stored before`)
    } finally {
      s.cleanup()
    }
  }, 240_000)

  it("refuses an unknown scan id with exit code 2, naming it", () => {
    const s = scratch()
    try {
      const unknown = spectral(s.dataDir, ["scan", "--replay", "ledger-tax-prep:scan:41"])
      assert.strictEqual(unknown.status, 2, unknown.stdout + unknown.stderr)
      const lines = unknown.stdout.trim().split("\n")
      assert.strictEqual(lines.length, 1)
      assert.include((JSON.parse(lines[0]!) as { error: string }).error, "unknown scan ledger-tax-prep:scan:41")
      const both = spectral(s.dataDir, ["scan", "--replay", "ledger-tax-prep:scan:1", "--workspace", s.file])
      assert.strictEqual(both.status, 2, both.stdout + both.stderr)
    } finally {
      s.cleanup()
    }
  }, 120_000)
})
