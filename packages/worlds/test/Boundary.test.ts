import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const files = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : []
  })

const src = join(import.meta.dirname, "..", "src")
const specifiers = (text: string) => [...text.matchAll(/(?:import|export)[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2])

describe("boundary", () => {
  it("packages/worlds/src imports nothing from the engine but @spectral/engine/contracts and @spectral/engine/random", () => {
    const offenders: Array<string> = []
    const sources = files(src)
    assert.isAbove(sources.length, 10)
    for (const file of sources) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const allowed = spec === "effect" || spec.startsWith("effect/") || spec.startsWith("node:") || spec.startsWith(".") || spec === "@spectral/engine/contracts" || spec === "@spectral/engine/random"
        if (!allowed) offenders.push(`${file}: ${spec}`)
        if (spec.startsWith(".") && spec.includes("engine")) offenders.push(`${file}: ${spec}`)
      }
    }
    assert.deepStrictEqual(offenders, [])
  })

  it("the engine never imports worlds", () => {
    const engine = join(import.meta.dirname, "..", "..", "engine", "src")
    const offenders = files(engine).filter((file) => specifiers(readFileSync(file, "utf8")).some((spec) => spec.includes("@spectral/worlds") || spec.includes("/worlds/")))
    assert.deepStrictEqual(offenders, [])
  })

  it("no Date.now or Math.random in worlds' logic", () => {
    for (const file of files(src)) {
      const text = readFileSync(file, "utf8")
      assert.notMatch(text, /Date\.now\(|Math\.random\(/, file)
    }
  })
})
