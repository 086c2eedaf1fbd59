/**
 * `npm run sbom`, run as a release would run it (offline): each of the five packages gets a
 * CycloneDX SBOM that lists every runtime dependency its package.json declares, describing the
 * package that was packed, and the integrity hashes written beside them are the tarballs' own.
 * The check the script makes is shown to catch an SBOM that leaves a dependency out.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { closureLockfile, type CycloneDxBom, type Lockfile, type Manifest, PACKAGES, type ReleaseRecord, runtimeDependencies, unlistedDependencies } from "../scripts/sbom.ts"
import { repo } from "./SourceGraph.ts"

/** One line of integrity.json. */
type Written = Omit<ReleaseRecord, "components">

let out = ""
let run: { readonly code: number | null; readonly stdout: string; readonly stderr: string } = { code: null, stdout: "", stderr: "" }
const manifests = new Map(PACKAGES.map((p) => [p, JSON.parse(readFileSync(join(repo, "packages", p, "package.json"), "utf8")) as Manifest]))

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "spectral-release-"))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("VITEST")) env[k] = v
  // Offline: a release must not need the registry (the SBOM comes from the lockfile).
  const r = spawnSync("npm", ["run", "sbom", "--silent", "--", "--out", out], { cwd: repo, env: { ...env, npm_config_offline: "true" }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
  run = { code: r.status, stdout: r.stdout, stderr: r.stderr }
}, 600_000)

afterAll(() => {
  if (out !== "") rmSync(out, { recursive: true, force: true })
})

const read = (file: string) => readFileSync(join(out, file))
const records = () => JSON.parse(read("integrity.json").toString("utf8")) as ReadonlyArray<Written>
const bomOf = (record: Written) => JSON.parse(read(record.sbom).toString("utf8")) as CycloneDxBom & { metadata: { component: { purl: string } } }

describe("npm run sbom", () => {
  it("succeeds offline with one tarball and one SBOM per published package", () => {
    expect(run.code, run.stderr).toBe(0)
    expect(records().map((r) => r.package)).toEqual(PACKAGES.map((p) => manifests.get(p)!.name))
    const summary = JSON.parse(run.stdout) as { packages: ReadonlyArray<{ sbom: string }> }
    expect(summary.packages.map((p) => p.sbom)).toEqual(records().map((r) => r.sbom))
  })

  it("each SBOM is CycloneDX about the package and lists every runtime dependency its package.json declares", () => {
    for (const record of records()) {
      const manifest = [...manifests.values()].find((m) => m.name === record.package)!
      const bom = bomOf(record)
      expect(bom.bomFormat).toBe("CycloneDX")
      expect(bom.specVersion).toBe("1.5")
      expect(bom.metadata.component.purl).toBe(`pkg:npm/${manifest.name.replace("@", "%40")}@${manifest.version}`)
      const subject = bom.dependencies.find((d) => d.ref === bom.metadata.component["bom-ref"])!
      for (const name of runtimeDependencies(manifest)) {
        const component = bom.components.find((c) => c.name === name)
        expect(component, `${record.package} → ${name}`).toBeDefined()
        expect(subject.dependsOn, `${record.package} → ${name}`).toContain(component!["bom-ref"])
      }
      // Dependencies of dependencies are there too, and nothing only the repository's development needs.
      expect(bom.components.map((c) => c.name)).not.toContain("vitest")
      expect(bom.components.map((c) => c.name)).not.toContain("ml-kmeans")
    }
    const cli = bomOf(records().find((r) => r.package === "@spectral/cli")!)
    expect(cli.components.map((c) => c.name)).toContain("@effect/platform-node-shared")
  })

  it("the SBOM describes the tarball that was packed: the same dependencies as the packed package.json", () => {
    for (const record of records()) {
      const packed = JSON.parse(spawnSync("tar", ["-xOzf", join(out, record.tarball), "package/package.json"], { encoding: "utf8" }).stdout) as Manifest
      expect(packed.version).toBe(bomOf(record).metadata.component.version)
      expect(runtimeDependencies(packed)).toEqual(runtimeDependencies([...manifests.values()].find((m) => m.name === record.package)!))
    }
  })

  it("the hashes written beside the SBOMs are the tarballs' own, and sibling packages carry them in the SBOMs", () => {
    const byName = new Map(records().map((r) => [r.package, r]))
    for (const record of records()) {
      const bytes = read(record.tarball)
      expect(bytes.length).toBe(record.size)
      expect(record.integrity).toBe(`sha512-${createHash("sha512").update(bytes).digest("base64")}`)
      expect(record.shasum).toBe(createHash("sha1").update(bytes).digest("hex"))
      expect(record.sha256).toBe(createHash("sha256").update(bytes).digest("hex"))
      for (const component of bomOf(record).components.filter((c) => c.name.startsWith("@spectral/"))) {
        const sibling = byName.get(component.name)!
        expect(component.hashes?.[0]?.content, `${record.package} → ${component.name}`).toBe(Buffer.from(sibling.integrity.slice("sha512-".length), "base64").toString("hex"))
      }
    }
    const sums = read("SHA256SUMS").toString("utf8").trim().split("\n").map((line) => line.split(/\s+/))
    expect(sums.map(([, file]) => file).sort()).toEqual(records().flatMap((r) => [r.tarball, r.sbom]).sort())
    for (const [sum, file] of sums) expect(sum, file).toBe(createHash("sha256").update(read(file!)).digest("hex"))
  })

  it("the check names a runtime dependency an SBOM leaves out, and the closure names one the lockfile cannot resolve", () => {
    const record = records().find((r) => r.package === "@spectral/cli")!
    const bom = bomOf(record)
    const manifest = manifests.get("cli")!
    expect(unlistedDependencies(bom, manifest)).toEqual([])
    const withoutPlaywright = { ...bom, components: bom.components.filter((c) => c.name !== "playwright-core") }
    expect(unlistedDependencies(withoutPlaywright, manifest)).toEqual(["playwright-core"])
    const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as Lockfile
    const { "node_modules/playwright-core": _, ...packages } = lock.packages
    expect(closureLockfile({ ...lock, packages }, manifest, {}).problems).toEqual(["@spectral/cli depends on playwright-core, which package-lock.json does not resolve"])
  })
})
