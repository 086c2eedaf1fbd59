/**
 * Import rules for the whole repository: no cycle between source files (across packages too), no
 * cycle between the engine's folders, and every package's declared dependencies are exactly what
 * its sources import.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cyclesOf, fileEdges, filesUnder, isBuiltin, packageOf, rel, repo, specifiersOf, workspaces } from "./SourceGraph.ts"

const rootManifest = workspaces.length > 0 ? (await import(join(repo, "package.json"), { with: { type: "json" } })).default as { devDependencies: Record<string, string> } : undefined

describe("import cycles", () => {
  const sources = workspaces.flatMap((w) => filesUnder(join(w.dir, "src")))

  it("the graph covers every package's sources", () => {
    expect(sources.length).toBeGreaterThan(200)
    expect(workspaces.map((w) => w.name)).toContain("@spectral/engine")
  })

  it("the cycle finder finds cycles and only cycles", () => {
    const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a", "d"]], ["e", ["a"]]])
    expect(cyclesOf(graph)).toEqual([["a", "b", "c"], ["d"]])
  })

  it("no two source files import each other, directly or through others", () => {
    const cycles = cyclesOf(fileEdges(sources)).map((c) => c.map(rel))
    expect(cycles).toEqual([])
  })

  it("no two folders of the engine import each other", () => {
    const src = join(repo, "packages/engine/src")
    const folderOf = (file: string) => {
      const r = file.slice(src.length + 1)
      return r.includes("/") ? r.split("/")[0]! : undefined
    }
    const edges = new Map<string, Set<string>>()
    for (const [file, targets] of fileEdges(filesUnder(src))) {
      const from = folderOf(file)
      if (from === undefined) continue
      for (const target of targets) {
        const to = target.startsWith(src) ? folderOf(target) : undefined
        if (to === undefined || to === from) continue
        edges.set(from, (edges.get(from) ?? new Set()).add(to))
      }
    }
    expect(edges.size).toBeGreaterThan(5)
    const cycles = cyclesOf(new Map([...edges].map(([k, v]) => [k, [...v]])))
    expect(cycles).toEqual([])
  })
})

describe("one way of exposing layers", () => {
  it("no object literal bundles layers: a service owns them as statics, a driver is a module namespace", () => {
    const offenders = workspaces.flatMap((w) => filesUnder(join(w.dir, "src"))).flatMap((file) => {
      const text = readFileSync(file, "utf8")
      return [...text.matchAll(/^export const ([A-Z]\w*) = \{\s*(?:\/\*\*[\s\S]*?\*\/\s*)?(layer\w*)\s*[:,]/gm)].map((m) => `${rel(file)}: ${m[1]}.${m[2]}`)
    })
    expect(offenders).toEqual([])
  })
})

describe("declared dependencies", () => {
  for (const w of workspaces) {
    const imported = (dir: string) =>
      new Set(filesUnder(join(w.dir, dir)).flatMap(specifiersOf).filter((s) => !s.startsWith(".") && !isBuiltin(s)).map(packageOf))
    const runtime = imported("src")
    const declared = new Set([...Object.keys(w.manifest.dependencies ?? {}), ...Object.keys(w.manifest.peerDependencies ?? {})])
    const dev = new Set([...Object.keys(w.manifest.devDependencies ?? {}), ...Object.keys(rootManifest?.devDependencies ?? {})])

    it(`${w.name}: every package its sources import is a dependency`, () => {
      expect([...runtime].filter((p) => !declared.has(p)).sort()).toEqual([])
    })

    it(`${w.name}: every dependency is imported by its sources`, () => {
      // `effect` is a peer of every Effect package a module imports even where only those are used.
      expect([...declared].filter((p) => !runtime.has(p)).sort()).toEqual([])
    })

    it(`${w.name}: every package its tests import is declared (here or at the root, for dev tools)`, () => {
      const testOnly = [...imported("test")].filter((p) => !declared.has(p) && !dev.has(p) && p !== w.name)
      expect(testOnly.sort()).toEqual([])
    })
  }
})
