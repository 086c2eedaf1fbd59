/**
 * `npm run sbom [-- --out DIR]`: the release's bill of materials. For each published package
 * (engine, worlds, adapters, plugins, cli) it packs the tarball (`npm pack`, whose `prepack`
 * builds first), writes a CycloneDX 1.5 SBOM made by npm itself (`npm sbom --sbom-format cyclonedx`)
 * and the tarballs' integrity hashes beside them, in DIR (default `dist-release/`):
 *
 *   spectral-<pkg>-<version>.tgz        the tarball as `npm publish` would upload it
 *   spectral-<pkg>-<version>.cdx.json   its SBOM: the package and its runtime dependency tree
 *   integrity.json                      per tarball: size, npm's integrity (sha512) and shasum (sha1), sha256
 *   SHA256SUMS                          `sha256sum -c SHA256SUMS` checks every tarball and SBOM
 *
 * The SBOM describes a package as a consumer installs it, at the versions this repository's
 * lockfile resolves: `npm sbom` runs (`--package-lock-only --omit dev --offline`, no network) in a
 * scratch folder holding the package's manifest and the lockfile entries of its runtime dependency
 * closure taken from `package-lock.json` (run in the repository itself, npm would describe the
 * private workspace root instead). Sibling `@spectral/*` packages appear with the sha512 of their
 * tarball. The script then checks that each SBOM lists every runtime dependency the package.json
 * declares (as a component the package depends on) and that npm's integrity of each tarball is the
 * hash of the file written; any problem is printed and the exit code is 1.
 */
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

export const PACKAGES = ["engine", "worlds", "adapters", "plugins", "cli"] as const

export interface Manifest {
  readonly name: string
  readonly version: string
  readonly license?: string
  readonly engines?: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
  readonly devDependencies?: Record<string, string>
}

interface LockEntry extends Omit<Manifest, "name"> {
  readonly name?: string
  readonly resolved?: string
  readonly integrity?: string
  readonly link?: boolean
  readonly dev?: boolean
  readonly optional?: boolean
  readonly devOptional?: boolean
  readonly peer?: boolean
}

export interface Lockfile {
  readonly lockfileVersion: number
  readonly packages: Readonly<Record<string, LockEntry>>
}

/** The runtime dependencies a manifest declares, by name (what a consumer's install brings). */
export const runtimeDependencies = (manifest: Manifest): ReadonlyArray<string> =>
  [...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])].sort()

/** Where node would find `name` from the package installed at `from` (a lockfile path, "" for the root). */
const resolveFrom = (lock: Lockfile, from: string, name: string): string | undefined => {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
    const path = `${base === "" ? "" : `${base}/`}node_modules/${name}`
    if (lock.packages[path] !== undefined) return path
    if (base === "") return undefined
  }
}

/**
 * A lockfile whose root is `manifest` and whose entries are the root lockfile's for the manifest's
 * runtime dependency closure (links to workspaces become entries of the package they link to,
 * with `integrities[name]` when given). A dependency the lockfile cannot resolve is a problem.
 */
export const closureLockfile = (
  lock: Lockfile,
  manifest: Manifest,
  integrities: Readonly<Record<string, string>>
): { readonly lockfile: Lockfile; readonly problems: ReadonlyArray<string> } => {
  const entries: Record<string, LockEntry> = {}
  const problems: Array<string> = []
  const queue: Array<readonly [string, Omit<Manifest, "name" | "version">, string]> = [["", manifest, manifest.name]]
  while (queue.length > 0) {
    const [at, dependent, dependentName] = queue.shift()!
    for (const name of runtimeDependencies({ name: dependentName, version: "", ...dependent })) {
      const path = resolveFrom(lock, at, name)
      const optional = dependent.optionalDependencies?.[name] !== undefined || dependent.peerDependenciesMeta?.[name]?.optional === true
      if (path === undefined) {
        if (!optional) problems.push(`${dependentName} depends on ${name}, which package-lock.json does not resolve`)
        continue
      }
      if (entries[path] !== undefined) continue
      const locked = lock.packages[path]!
      const target = locked.link === true && locked.resolved !== undefined ? lock.packages[locked.resolved] : locked
      if (target === undefined) {
        problems.push(`package-lock.json links ${name} to ${locked.resolved}, which it does not list`)
        continue
      }
      // Flags (dev, optional, peer) were the repository root's view; a consumer's tree is computed afresh.
      const { dev: _dev, optional: _optional, devOptional: _devOptional, peer: _peer, link: _link, devDependencies: _devDependencies, name: _name, ...entry } = target
      const integrity = integrities[name]
      entries[path] = integrity === undefined ? entry : { ...entry, integrity }
      queue.push([path, entry, name])
    }
  }
  const { devDependencies: _devDependencies, ...root } = manifest
  // The fields npm itself records for a lockfile's root package.
  const rootEntry = Object.fromEntries(
    (["name", "version", "license", "engines", "dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta"] as const)
      .filter((key) => root[key] !== undefined)
      .map((key) => [key, root[key]])
  ) as unknown as LockEntry
  return { lockfile: { lockfileVersion: lock.lockfileVersion, packages: { "": rootEntry, ...entries } }, problems }
}

export interface CycloneDxComponent {
  readonly "bom-ref": string
  readonly name: string
  readonly version: string
  readonly purl?: string
  readonly hashes?: ReadonlyArray<{ readonly alg: string; readonly content: string }>
}

export interface CycloneDxBom {
  readonly bomFormat: string
  readonly specVersion: string
  readonly metadata: { readonly component: CycloneDxComponent }
  readonly components: ReadonlyArray<CycloneDxComponent>
  readonly dependencies: ReadonlyArray<{ readonly ref: string; readonly dependsOn?: ReadonlyArray<string> }>
}

/** The runtime dependencies of `manifest` the SBOM does not list as components its subject depends on. */
export const unlistedDependencies = (bom: CycloneDxBom, manifest: Manifest): ReadonlyArray<string> => {
  const root = bom.dependencies.find((d) => d.ref === bom.metadata.component["bom-ref"])
  const dependsOn = new Set(root?.dependsOn ?? [])
  return runtimeDependencies(manifest).filter((name) => !bom.components.some((c) => c.name === name && dependsOn.has(c["bom-ref"])))
}

/** npm's `integrity` form of a file's sha512 (`sha512-<base64>`). */
export const sha512Integrity = (bytes: Uint8Array) => `sha512-${createHash("sha512").update(bytes).digest("base64")}`

const run = (command: string, args: ReadonlyArray<string>, cwd: string) => {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } })
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? String(result.error ?? "") }
}

interface Packed {
  readonly name: string
  readonly version: string
  readonly filename: string
  readonly size: number
  readonly integrity: string
  readonly shasum: string
}

export interface ReleaseRecord {
  readonly package: string
  readonly version: string
  readonly tarball: string
  readonly size: number
  readonly integrity: string
  readonly shasum: string
  readonly sha256: string
  readonly sbom: string
  readonly components: number
}

/** Pack, describe and check the five packages into `out`; the records written, or the problems found. */
export const release = (repo: string, out: string): { readonly records: ReadonlyArray<ReleaseRecord>; readonly problems: ReadonlyArray<string> } => {
  const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as Partial<Lockfile>
  if (typeof lock.lockfileVersion !== "number" || lock.lockfileVersion < 2 || typeof lock.packages !== "object" || lock.packages === null) {
    return { records: [], problems: ["package-lock.json is not an npm lockfile of version 2 or later (its packages map is what the SBOMs are made from)"] }
  }
  mkdirSync(out, { recursive: true })
  // Only what an earlier run wrote is replaced; nothing else in the folder is touched.
  for (const file of readdirSync(out)) if (/^spectral-.*\.(tgz|cdx\.json)$/.test(file)) rmSync(join(out, file))
  const pack = run("npm", ["pack", "--json", "--loglevel=error", ...PACKAGES.flatMap((p) => ["--workspace", `packages/${p}`]), "--pack-destination", out], repo)
  if (pack.code !== 0) return { records: [], problems: [`npm pack failed (exit ${pack.code}): ${pack.stderr.trim()}`] }
  // With --json, npm sends the prepack builds' output to stderr: stdout is the JSON array alone.
  const packed = JSON.parse(pack.stdout) as ReadonlyArray<Packed>
  const integrities = Object.fromEntries(packed.map((p) => [p.name, p.integrity]))
  const problems: Array<string> = []
  const records: Array<ReleaseRecord> = []
  const scratch = mkdtempSync(join(tmpdir(), "spectral-sbom-"))
  for (const name of PACKAGES) {
    const manifest = JSON.parse(readFileSync(join(repo, "packages", name, "package.json"), "utf8")) as Manifest
    const tarball = packed.find((p) => p.name === manifest.name)
    if (tarball === undefined) {
      problems.push(`npm pack did not pack ${manifest.name}`)
      continue
    }
    const bytes = readFileSync(join(out, tarball.filename))
    if (sha512Integrity(bytes) !== tarball.integrity) problems.push(`${tarball.filename}: npm reported integrity ${tarball.integrity}, the file hashes to ${sha512Integrity(bytes)}`)
    if (createHash("sha1").update(bytes).digest("hex") !== tarball.shasum) problems.push(`${tarball.filename}: npm's shasum does not match the file`)
    const { lockfile, problems: unresolved } = closureLockfile(lock as Lockfile, manifest, integrities)
    problems.push(...unresolved)
    const dir = join(scratch, name)
    mkdirSync(dir)
    const { devDependencies: _dev, ...published } = manifest
    writeFileSync(join(dir, "package.json"), JSON.stringify(published, null, 2))
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ name: manifest.name, version: manifest.version, requires: true, ...lockfile }, null, 2))
    const sbom = run("npm", ["sbom", "--sbom-format", "cyclonedx", "--package-lock-only", "--omit", "dev", "--offline", "--loglevel=error"], dir)
    if (sbom.code !== 0) {
      problems.push(`npm sbom for ${manifest.name} failed (exit ${sbom.code}): ${sbom.stderr.trim()}`)
      continue
    }
    const bom = JSON.parse(sbom.stdout) as CycloneDxBom
    for (const missing of unlistedDependencies(bom, manifest)) problems.push(`the SBOM of ${manifest.name} does not list its runtime dependency ${missing}`)
    const sbomFile = tarball.filename.replace(/\.tgz$/, ".cdx.json")
    writeFileSync(join(out, sbomFile), JSON.stringify(bom, null, 2) + "\n")
    records.push({
      package: manifest.name,
      version: manifest.version,
      tarball: tarball.filename,
      size: bytes.length,
      integrity: tarball.integrity,
      shasum: tarball.shasum,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      sbom: sbomFile,
      components: bom.components.length
    })
  }
  rmSync(scratch, { recursive: true, force: true })
  writeFileSync(join(out, "integrity.json"), JSON.stringify(records.map(({ components: _c, ...record }) => record), null, 2) + "\n")
  const sums = records.flatMap((r) => [r.tarball, r.sbom]).map((file) => `${createHash("sha256").update(readFileSync(join(out, file))).digest("hex")}  ${file}`)
  writeFileSync(join(out, "SHA256SUMS"), sums.join("\n") + "\n")
  return { records, problems }
}

const outFlag = (argv: ReadonlyArray<string>): string | undefined => {
  const at = argv.findIndex((a) => a === "--out" || a === "--output")
  return at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith("--out="))?.slice("--out=".length)
}

if (import.meta.main) {
  const repo = resolve(import.meta.dirname, "..")
  const out = resolve(outFlag(process.argv.slice(2)) ?? join(repo, "dist-release"))
  if (!existsSync(join(repo, "package-lock.json"))) {
    console.error("sbom: package-lock.json is missing (run npm ci first)")
    process.exit(1)
  }
  const { records, problems } = release(repo, out)
  for (const problem of problems) console.error(`sbom: ${problem}`)
  console.log(JSON.stringify({ out, packages: records.map((r) => ({ package: r.package, tarball: r.tarball, integrity: r.integrity, sbom: r.sbom, components: r.components })) }, null, 2))
  if (problems.length > 0) process.exitCode = 1
  else console.error(`sbom: ${records.length} packages packed, described and hashed in ${out}`)
}
