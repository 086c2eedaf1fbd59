/**
 * A workspace's own provider key, as a user sets it: `spectral secrets set` reads it from stdin and
 * seals it under the key-encryption key; `rotate` re-seals it under a new key; a scan through the
 * `openai` SDK (separate process, embedded storage) sends it for that workspace's calls instead of
 * `OPENAI_API_KEY`; and the canary value is nowhere else — not in any row of any table, not in the
 * cards or change set written, not in anything printed. Without a key-encryption key, or with one
 * that did not seal the secret, the command or the scan fails naming what is missing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { everyRow, providerEnv, runScan, scratch, simulatedProvider, smallWorkspace } from "./ScanProcesses.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const WORKSPACE = "byo-key-tax-prep"
const CANARY = `sk-canary-${randomBytes(12).toString("hex")}`
const CONFIGURED = "sk-configured-not-the-workspace-key-0000"
const kek = () => randomBytes(32).toString("base64")

const secrets = (args: ReadonlyArray<string>, env: Record<string, string | undefined>, input?: string) => {
  const merged: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, SPECTRAL_LLM: "simulated", ...env })) if (v !== undefined) merged[k] = v
  const run = spawnSync(process.execPath, ["--conditions=@spectral/source", bin, "secrets", ...args], { env: merged, input: input ?? "", encoding: "utf8" })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, json: () => JSON.parse(run.stdout.trim().split("\n").at(-1)!) }
}


const filesUnder = (dir: string): string =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.parentPath.includes(`${join(dir, "db")}`))
    .map((e) => readFileSync(join(e.parentPath, e.name), "latin1"))
    .join("\n")

describe("spectral secrets: a workspace's own provider key", () => {
  it("without a key-encryption key, set fails naming the variables, and stores nothing", () => {
    const run = secrets(["set", "--workspace", WORKSPACE, "llm-api-key"], { SPECTRAL_DATA_DIR: join(mkdtempSync(join(tmpdir(), "spectral-nokek-")), "db"), SPECTRAL_SECRETS_KEK: undefined, SPECTRAL_SECRETS_KEK_FILE: undefined }, CANARY)
    assert.strictEqual(run.code, 2, run.stdout + run.stderr)
    assert.include(run.json().error, "SPECTRAL_SECRETS_KEK")
    assert.notInclude(run.stdout + run.stderr, CANARY)
  })

  it.live("set, rotate, then a scan sends the workspace's key; the canary is in no table, file or output; the old key alone cannot open it", () =>
    Effect.gen(function*() {
      const { dir, file } = yield* scratch(smallWorkspace(WORKSPACE))
      const dataDir = initialisedDataDir(join(dir, "db"))
      const first = kek()
      const second = kek()
      const base = { SPECTRAL_DATA_DIR: dataDir, SPECTRAL_DATABASE_URL: undefined }

      const set = secrets(["set", "--workspace", WORKSPACE, "llm-api-key"], { ...base, SPECTRAL_SECRETS_KEK: first }, `${CANARY}\n`)
      assert.strictEqual(set.code, 0, set.stdout + set.stderr)
      const sealedUnder = set.json().kekFingerprint as string
      assert.match(sealedUnder, /^[0-9a-f]{16}$/)

      const badName = secrets(["set", "--workspace", WORKSPACE, "Not A Name"], { ...base, SPECTRAL_SECRETS_KEK: first }, "x")
      assert.strictEqual(badName.code, 2, badName.stdout + badName.stderr)
      assert.include(badName.json().error, "Not A Name")

      const rotate = secrets(["rotate", "--workspace", WORKSPACE], { ...base, SPECTRAL_SECRETS_KEK: second, SPECTRAL_SECRETS_KEK_PREVIOUS: first })
      assert.strictEqual(rotate.code, 0, rotate.stdout + rotate.stderr)
      assert.deepStrictEqual(rotate.json().rotated, ["llm-api-key"])
      const rotatedTo = rotate.json().kekFingerprint as string
      assert.notStrictEqual(rotatedTo, sealedUnder)

      const list = secrets(["list", "--workspace", WORKSPACE], { ...base, SPECTRAL_SECRETS_KEK: second })
      assert.strictEqual(list.code, 0, list.stdout + list.stderr)
      assert.deepStrictEqual(list.json().secrets.map((s: { name: string; kekFingerprint: string }) => [s.name, s.kekFingerprint]), [["llm-api-key", rotatedTo]])

      // The scan: only the new key configured. Every model call carries the workspace's key.
      const server = yield* simulatedProvider
      const scan = yield* runScan(file, { ...providerEnv(server.baseUrl, CONFIGURED), ...base, SPECTRAL_SECRETS_KEK: second }, ["--output", join(dir, "out")])
      assert.strictEqual(scan.code, 0, scan.stdout + scan.stderr)
      assert.strictEqual(JSON.parse(scan.stdout).state, "completed")
      const chats = server.chatRequests()
      assert.isAbove(chats.length, 10)
      assert.isTrue(chats.every((r) => r.headers.authorization === `Bearer ${CANARY}`), "every call sends the workspace's key")

      // With only the first key (rotated away from), the secret does not open: the scan fails saying so
      // (another seed, so its calls are not answered from the response cache).
      const stale = yield* runScan(file, { ...providerEnv(server.baseUrl, CONFIGURED), ...base, SPECTRAL_SECRETS_KEK: first }, ["--seed", "99"])
      assert.strictEqual(stale.code, 1, stale.stdout + stale.stderr)
      const failed = JSON.parse(stale.stdout)
      assert.strictEqual(failed.state, "failed")
      assert.include(failed.error, rotatedTo, "names the key-encryption key it needs")

      const everything = [set, rotate, list, badName].map((r) => r.stdout + r.stderr).join("\n") + scan.stdout + scan.stderr + stale.stdout + stale.stderr
      assert.notInclude(everything, CANARY, "never printed")
      const rows = yield* everyRow(dataDir)
      assert.include(rows.tables, "workspace_secrets")
      assert.include(rows.text, rotatedTo, "the sealed secret is stored")
      assert.notInclude(rows.text, CANARY, "no row of any table holds the key")
      assert.notInclude(rows.text, Buffer.from(CANARY).toString("base64"), "nor its base64")
      assert.notInclude(filesUnder(dir), CANARY, "no file written holds the key")
    }).pipe(Effect.scoped), 240_000)
})
