/**
 * The engine's dependency rules (DESIGN.md): it never imports `@spectral/worlds` (the only path
 * into a world is the EvalSetProvider service) nor any other package of ours, and its package.json
 * depends on nothing of ours.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : []
  })

const importsOf = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!)

describe("engine boundary", () => {
  const sources = [...filesUnder(join(root, "src")), ...filesUnder(join(root, "test"))]

  it("has sources to check", () => {
    assert.isAbove(sources.length, 20)
  })

  it("imports nothing from packages/worlds", () => {
    const offenders = sources.flatMap((file) =>
      importsOf(file).filter((spec) => spec.startsWith("@spectral/worlds") || /(^|\/)worlds(\/|$)/.test(spec)).map((spec) => `${file}: ${spec}`)
    )
    assert.deepStrictEqual(offenders, [])
  })

  it("imports no other package of ours (adapters, plugins, cli)", () => {
    const offenders = sources.flatMap((file) =>
      importsOf(file).filter((spec) => /^@spectral\/(adapters|plugins|cli|worlds)/.test(spec)).map((spec) => `${file}: ${spec}`)
    )
    assert.deepStrictEqual(offenders, [])
  })

  it("declares no dependency on another package of ours", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> }
    assert.deepStrictEqual(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith("@spectral/")), [])
  })
})
