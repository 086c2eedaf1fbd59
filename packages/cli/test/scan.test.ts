/**
 * `spectral scan` as a user runs it: a process on a workspace file, embedded storage in a temp
 * folder, the simulated model. A good workspace prints the scan's JSON summary and writes the
 * change set and cards; a cyclic team is refused before anything is stored; a scan that fails
 * prints `{"state":"failed",…}` naming the phase and the reason, with exit code 1.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const example = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "examples", "tax-prep", "workspace.json"), "utf8"))

const scan = (workspace: unknown, extra: ReadonlyArray<string> = []) => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-cli-scan-"))
  const file = join(dir, "workspace.json")
  writeFileSync(file, JSON.stringify(workspace))
  const result = spawnSync(process.execPath, [bin, "scan", "--workspace", file, ...extra.map((a) => a.replace("$DIR", dir))], {
    encoding: "utf8",
    env: { ...process.env, SPECTRAL_DATA_DIR: join(dir, "db"), SPECTRAL_LLM: "simulated" },
    timeout: 120_000
  })
  return { ...result, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

describe("spectral scan", () => {
  it("scans a declared workspace and writes the change set and the cards", () => {
    const small = { ...example, framework: { ...example.framework, evalSetSize: 40 } }
    const run = scan(small, ["--seed", "3", "--output", "$DIR/out"])
    try {
      assert.strictEqual(run.status, 0, run.stderr)
      const summary = JSON.parse(run.stdout) as { state: string; verdict: string; checksTotal: number; changeSet: { version: number } | null }
      assert.strictEqual(summary.state, "completed")
      assert.include(["go", "caution", "no_go"], summary.verdict)
      assert.isAbove(summary.checksTotal, 0)
      assert.strictEqual(summary.changeSet?.version, 1)
      for (const name of ["changeset.json", "agent-performance-card.md", "agent-performance-card.html", "agent-performance-card.json"]) {
        assert.isTrue(existsSync(join(run.dir, "out", name)), name)
      }
      assert.isTrue(readFileSync(join(run.dir, "out", "agent-performance-card.md"), "utf8").trimEnd().endsWith("Alpha preview — not for regulated use"))
      // Progress on stderr (no TTY here: plain lines), every phase started and done, the baseline's stimuli counted.
      for (const phase of ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize", "safety", "verdict", "complete"]) {
        assert.match(run.stderr, new RegExp(`: ${phase} started\\n[^]*: ${phase} done in \\d+\\.\\ds`), phase)
      }
      const total = Number(/observe (\d+)\/(\d+) stimuli\n[^]*: observe done/.exec(run.stderr)?.[2])
      assert.isAtLeast(total, 40, run.stderr)
      assert.include(run.stderr, `observe ${total}/${total} stimuli`)
    } finally {
      run.cleanup()
    }
  })

  it("refuses a cyclic team before storing anything, naming the agents", () => {
    const cyclic = { ...example, agents: example.agents.map((a: { id: string }) => (a.id === "intake" ? { ...a, dependsOn: ["advisor"] } : a)) }
    const run = scan(cyclic)
    try {
      assert.notStrictEqual(run.status, 0)
      const output = run.stdout + run.stderr
      assert.include(output, "dependency cycle")
      assert.include(output, "intake")
      assert.isFalse(existsSync(join(run.dir, "db")), "nothing stored")
    } finally {
      run.cleanup()
    }
  })

  it("reports a failed scan as JSON with its phase and reason, exit code 1", () => {
    const run = scan({ ...example, worldModelId: "no-such-world" })
    try {
      assert.strictEqual(run.status, 1)
      const summary = JSON.parse(run.stdout) as { state: string; phase: string; error: string }
      assert.strictEqual(summary.state, "failed")
      assert.strictEqual(summary.phase, "observe")
      assert.include(summary.error, "no-such-world")
    } finally {
      run.cleanup()
    }
  })
})
