/**
 * The packages as a host gets them: every package is packed (its `prepack` builds first), the
 * tarballs are installed into a fresh project outside the repository, and that project runs the
 * README's embedding example and the `spectral` bin on plain Node (no TypeScript loader, no source
 * condition) and type-checks a file importing every public entry point with TypeScript 5.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repo = resolve(import.meta.dirname, "../../..")
const example = resolve(import.meta.dirname, "..")
const packages = ["engine", "worlds", "adapters", "plugins", "cli"]
const node = process.execPath

const npm = ["npm"]
const tsc5 = join(repo, "node_modules/typescript5/bin/tsc")

/** The environment of a host's shell: the repository's source condition is not there. */
const hostEnv = (() => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "NODE_OPTIONS" && !k.startsWith("VITEST")) env[k] = v
  env.PATH = `${join(node, "..")}:${env.PATH ?? ""}`
  return env
})()

const run = (command: ReadonlyArray<string>, cwd: string) => {
  const [file, ...args] = command
  const r = spawnSync(file!, args, { cwd, env: hostEnv, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

let root = ""
let host = ""
let tarballs: Array<string> = []

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "spectral-host-"))
  const packs = join(root, "packs")
  host = join(root, "host")
  // A stale or missing build must not be packed: remove one package's build, the pack rebuilds it.
  rmSync(join(repo, "packages/plugins/dist"), { recursive: true, force: true })
  mkdirSync(packs, { recursive: true })
  const pack = run([...npm, "pack", "--silent", ...packages.flatMap((p) => ["--workspace", `packages/${p}`]), "--pack-destination", packs], repo)
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`)
  tarballs = readdirSync(packs).filter((f) => f.endsWith(".tgz")).map((f) => join(packs, f))
  for (const f of ["package.json", "tsconfig.json", "workspace.json", "runs.json", "src"]) cpSync(join(example, f), join(host, f), { recursive: true })
  const install = run([...npm, "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs, "@types/node@24"], host)
  if (install.code !== 0) throw new Error(`npm install of the tarballs failed:\n${install.stderr}`)
})

afterAll(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true })
})

describe("installed from the packed tarballs", () => {
  it("every package packs its build, its README and license, and nothing from src or test", () => {
    expect(tarballs.map((t) => t.split("/").pop()).sort()).toEqual(packages.map((p) => `spectral-${p}-0.1.0.tgz`).sort())
    for (const t of tarballs) {
      const files = execFileSync("tar", ["tzf", t], { encoding: "utf8" }).trim().split("\n").map((f) => f.replace(/^package\//, ""))
      expect(files, t).toContain("package.json")
      expect(files, t).toContain("README.md")
      expect(files, t).toContain("LICENSE")
      expect(files, t).toContain("dist/index.js")
      expect(files, t).toContain("dist/index.d.ts")
      expect(files.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(f)), t).toEqual([])
      expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), t).toEqual([])
    }
  })

  it("the README's embedding example runs a scan on plain node", () => {
    const r = run([node, "src/scan.ts"], host)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!)
    expect(summary.state).toBe("completed")
    expect(["go", "caution", "no_go"]).toContain(summary.verdict)
    expect(summary.checks).toMatch(/^\d+\/\d+$/)
    expect(summary.footer).toBe("Alpha preview — not for regulated use")
    expect(summary.clusters.length).toBeGreaterThan(0)
  })

  it("every public entry point loads and does its job", () => {
    const r = run([node, "src/entrypoints.ts"], host)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim().split("\n")).toEqual([
      "@spectral/engine ok",
      "@spectral/engine/contracts ok",
      "@spectral/engine/stats ok",
      "@spectral/engine/clustering ok",
      "@spectral/engine/random ok",
      "@spectral/engine/testing ok",
      "@spectral/adapters ok",
      "@spectral/adapters/testing ok",
      "@spectral/worlds ok",
      "@spectral/plugins ok",
      "@spectral/cli ok"
    ])
    expect(r.code).toBe(0)
  })

  it("the host file type-checks under TypeScript 5 (nodenext, strict)", () => {
    const version = run([node, tsc5, "-v"], host)
    expect(version.stdout).toMatch(/^Version 5\./)
    const r = run([node, tsc5, "-p", "tsconfig.json"], host)
    expect(r.stdout + r.stderr).toBe("")
    expect(r.code).toBe(0)
  })

  it("npx spectral --help lists the commands", () => {
    const r = run([...npm, "exec", "--offline", "--", "spectral", "--help"], host)
    expect(r.code).toBe(0)
    for (const command of ["scan", "verdict", "bootstrap", "cluster", "world", "serve", "ingest", "db"]) expect(r.stdout).toContain(command)
  })

  it("npx spectral verdict --input gives the verdict and exits 0 on go", () => {
    const out = join(root, "verdict.json")
    const r = run([...npm, "exec", "--offline", "--", "spectral", "verdict", "--input", "runs.json", "--output", out], host)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const verdict = JSON.parse(readFileSync(out, "utf8"))
    expect(verdict.results[0].id).toBe("release-42")
    expect(verdict.results[0].verdict).toBe("go")
  })

  it("an internal path is refused by the export map, not half loaded", () => {
    for (const path of ["@spectral/engine/internal/anything", "@spectral/engine/dist/index.js", "@spectral/engine/src/index.ts"]) {
      writeFileSync(join(host, "probe.mjs"), `import(${JSON.stringify(path)}).then(() => console.log("loaded"), (e) => console.log(e.code))`)
      const r = run([node, "probe.mjs"], host)
      expect(r.stdout.trim(), path).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED")
    }
  })
})
