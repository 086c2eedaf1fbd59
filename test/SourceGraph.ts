/**
 * The repository's TypeScript sources as a graph: every workspace (packages, examples, bench),
 * its files, and what each file imports (relative paths resolved to files, `@spectral/*` entry
 * points resolved through the package's export map to its sources, bare package names kept).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join, relative, resolve } from "node:path"

export const repo = resolve(import.meta.dirname, "..")

export interface Workspace {
  readonly dir: string
  readonly name: string
  readonly manifest: {
    readonly dependencies?: Record<string, string>
    readonly devDependencies?: Record<string, string>
    readonly peerDependencies?: Record<string, string>
    readonly exports?: Record<string, unknown>
  }
}

const workspaceDirs = (): ReadonlyArray<string> => {
  const root = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { workspaces: ReadonlyArray<string> }
  return [...root.workspaces, "examples/host-service"].map((w) => join(repo, w))
}

export const workspaces: ReadonlyArray<Workspace> = workspaceDirs().map((dir) => {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Workspace["manifest"] & { name: string }
  return { dir, name: manifest.name, manifest }
})

export const filesUnder = (dir: string): Array<string> =>
  !existsSync(dir)
    ? []
    : readdirSync(dir).flatMap((name) => {
      if (name === "node_modules" || name === "dist") return []
      const path = join(dir, name)
      return statSync(path).isDirectory() ? filesUnder(path) : /\.(ts|tsx|mts)$/.test(path) && !path.endsWith(".d.ts") ? [path] : []
    })

/** Import and export-from specifiers of a file, comments and strings in code aside. */
export const specifiersOf = (file: string): ReadonlyArray<string> => {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
  return [
    ...text.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)
  ].map((m) => m[1]!)
}

const builtins = new Set(builtinModules)
export const isBuiltin = (spec: string) => spec.startsWith("node:") || builtins.has(spec.split("/")[0]!)
export const packageOf = (spec: string) => spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!

/** The source file a `@spectral/...` specifier resolves to, through the package's `@spectral/source` condition. */
export const resolveOurs = (spec: string): string | undefined => {
  const ws = workspaces.find((w) => packageOf(spec) === w.name)
  if (ws === undefined) return undefined
  const subpath = "." + spec.slice(ws.name.length)
  const entry = ws.manifest.exports?.[subpath] as Record<string, string> | undefined
  const source = entry?.["@spectral/source"]
  return source === undefined ? undefined : join(ws.dir, source)
}

/** Edges between source files: relative imports and `@spectral/*` imports, both resolved. */
export const fileEdges = (files: ReadonlyArray<string>): ReadonlyMap<string, ReadonlyArray<string>> =>
  new Map(files.map((file) => [
    file,
    specifiersOf(file).flatMap((spec) => {
      if (spec.startsWith(".")) return [resolve(dirname(file), spec)]
      const ours = resolveOurs(spec)
      return ours === undefined ? [] : [ours]
    })
  ]))

/** Strongly connected components with more than one node (or a self-loop): the cycles. */
export const cyclesOf = (edges: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> => {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const out: Array<Array<string>> = []
  const visit = (v: string) => {
    indices.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!))
    }
    if (low.get(v) === indices.get(v)) {
      const component: Array<string> = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) out.push(component.sort())
    }
  }
  for (const v of edges.keys()) if (!indices.has(v)) visit(v)
  return out
}

export const rel = (path: string) => relative(repo, path)
