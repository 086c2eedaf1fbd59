/**
 * Plugins from the shipped entry point: `spectral scan --plugin @spectral/plugins` runs the DSPy- and
 * GEPA-style strategies on the simulated model (DSPy's candidate reaches the tournament), records the
 * plugin and its package in the scan's record, and a replay needs the same plugin (refused naming it
 * without, the same verdict with). A module that exports no definition, or a strategy of the wrong
 * shape, is refused naming the module, before anything runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const example = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "examples", "tax-prep", "workspace.json"), "utf8"))
const small = { ...example, id: "plugin-tax-prep" }

const spectral = (dataDir: string, args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, ["--conditions=@spectral/source", bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, SPECTRAL_DATA_DIR: dataDir, SPECTRAL_LLM: "simulated", SPECTRAL_PROGRESS: "off", SPECTRAL_DATABASE_URL: "" },
    timeout: 180_000
  })

/** The stored Optimize output of every scan in the data folder, as text (the candidates it measured). */
const optimizeOutputs = (dataDir: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly output: string }>`SELECT output::text AS output FROM spectral.scan_phase_outputs WHERE phase = 'optimize'`
    return rows.map((r) => JSON.parse(r.output) as { value: { decisionLog: ReadonlyArray<{ strategy: string; candidateId: string; outcome: string }> } })
  }).pipe(Effect.provide(Storage.layerPgliteClient({ dataDir })), Effect.scoped))

describe("spectral scan --plugin", () => {
  it("@spectral/plugins: the DSPy and GEPA strategies run, DSPy's candidate is measured, the record names them, a replay needs them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spectral-cli-plugins-"))
    try {
      const file = join(dir, "workspace.json")
      writeFileSync(file, JSON.stringify(small))
      const dataDir = initialisedDataDir(join(dir, "db"))
      const run = spectral(dataDir, ["scan", "--workspace", file, "--plugin", "@spectral/plugins", "--output", join(dir, "out")])
      assert.strictEqual(run.status, 0, run.stdout + run.stderr)
      const summary = JSON.parse(run.stdout) as { scanId: string; verdict: string; checksPassed: number }
      const card = JSON.parse(readFileSync(join(dir, "out", "agent-performance-card.json"), "utf8"))
      const record = card.reproduce.record
      assert.deepStrictEqual(record.plugins, [{ name: "plugin", gates: [], strategies: ["plugin/dspy", "plugin/gepa"], scorers: [] }])
      assert.deepInclude(record.packages, { name: "@spectral/plugins", version: "0.1.0" })
      assert.includeMembers(record.strategies.map((s: { name: string }) => s.name), ["plugin/dspy", "plugin/gepa"])
      // The DSPy strategy's candidate was measured in the tournament (it is in the stored Optimize
      // output: logged, or inside the winner's lineage); the GEPA strategy ran and said what it found.
      const optimized = await optimizeOutputs(dataDir)
      assert.match(JSON.stringify(optimized), /dspy-advisor-/, "the DSPy strategy's candidate reached the tournament")
      assert.isTrue(optimized.flatMap((o) => o.value.decisionLog).some((d) => d.strategy === "plugin/gepa"), "the GEPA strategy ran")

      const without = spectral(dataDir, ["scan", "--replay", summary.scanId])
      assert.strictEqual(without.status, 2, without.stdout + without.stderr)
      assert.include(JSON.parse(without.stdout).error, "plugin")

      const replayed = spectral(dataDir, ["scan", "--replay", summary.scanId, "--plugin", "@spectral/plugins"])
      assert.strictEqual(replayed.status, 0, replayed.stdout + replayed.stderr)
      const again = JSON.parse(replayed.stdout) as { verdict: string; checksPassed: number; replayOf: string }
      assert.strictEqual(again.replayOf, summary.scanId)
      assert.strictEqual(again.verdict, summary.verdict)
      assert.strictEqual(again.checksPassed, summary.checksPassed)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("a module with no definition, or a strategy without propose, is refused naming the module; nothing is stored", () => {
    const dir = mkdtempSync(join(tmpdir(), "spectral-cli-plugins-bad-"))
    try {
      const file = join(dir, "workspace.json")
      writeFileSync(file, JSON.stringify(small))
      const empty = join(dir, "empty.mjs")
      writeFileSync(empty, "export const nothing = 1\n")
      const broken = join(dir, "broken.mjs")
      writeFileSync(broken, "export default { name: 'acme', strategies: [{ name: 'rewrite', description: 'no propose' }] }\n")
      const missing = spectral(join(dir, "db"), ["scan", "--workspace", file, "--plugin", join(dir, "absent.mjs")])
      assert.strictEqual(missing.status, 2, missing.stdout + missing.stderr)
      assert.include(JSON.parse(missing.stdout).error, "absent.mjs")
      const none = spectral(join(dir, "db"), ["scan", "--workspace", file, "--plugin", empty])
      assert.strictEqual(none.status, 2, none.stdout + none.stderr)
      assert.include(JSON.parse(none.stdout).error, "exports no plugin definition")
      const bad = spectral(join(dir, "db"), ["scan", "--workspace", file, "--plugin", broken])
      assert.strictEqual(bad.status, 2, bad.stdout + bad.stderr)
      assert.include(JSON.parse(bad.stdout).error, `plugin "acme": strategies must be an array of { name, description, propose(input) }`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
