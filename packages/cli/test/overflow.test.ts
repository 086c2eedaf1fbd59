import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { Command } from "effect/cli"
import { runBootstrapFile } from "../src/commands/bootstrap.ts"
import { runClusterFile } from "../src/commands/cluster.ts"
import { verdict } from "../src/commands/verdict.ts"

/** Every number in an output is finite (JSON would print Infinity and NaN as null). */
const assertFiniteNumbers = (value: unknown, path = "result"): void => {
  if (value === null) assert.fail(`${path} is null`)
  if (typeof value === "number") assert.isTrue(Number.isFinite(value), `${path} is ${value}`)
  else if (Array.isArray(value)) value.forEach((item, i) => assertFiniteNumbers(item, `${path}[${i}]`))
  else if (typeof value === "object") for (const [key, item] of Object.entries(value as object)) assertFiniteNumbers(item, `${path}.${key}`)
}

const byId = (results: ReadonlyArray<{ readonly id: string }>) => new Map(results.map((r) => [r.id, r as Record<string, unknown>]))

describe("huge values: finite numbers or a per-case {id, error}, never null", () => {
  it.effect("spectral bootstrap", () =>
    Effect.gen(function*() {
      const { results } = yield* runBootstrapFile({
        cases: [
          { id: "identical-huge", statistic: "mean", x: [1e308, 1e308, 1e308], seed: 1 },
          { id: "paired-overflow", statistic: "mean_diff_paired", x: [-1e308, -1e308, -1e308], y: [1e308, 1e308, 1e308], seed: 1 },
          { id: "paired-huge", statistic: "mean_diff_paired", x: [-1e308, 1e308, -5e307, 2e307], y: [1e307, 5e307, 1e308, -3e307], resamples: 999, seed: 1 }
        ]
      })
      assertFiniteNumbers(results)
      const found = byId(results)
      assert.strictEqual(found.get("identical-huge")!.estimate, 1e308)
      assert.strictEqual(found.get("identical-huge")!.high, 1e308)
      assert.match(found.get("paired-overflow")!.error as string, /^Overflow: .*x, y/)
      assert.isFalse(found.get("paired-huge")!.degenerate as boolean)
    }))

  it.effect("spectral cluster", () =>
    Effect.gen(function*() {
      const { results } = yield* runClusterFile({
        cases: [
          { id: "huge", points: [[1e308, 1e308], [-1e308, -1e308], [1e308, -1e308]], k: 2, seed: 1 },
          { id: "identical", points: [[1, 1], [1, 1], [1, 1], [1, 1]], k: "auto", seed: 1 },
          { id: "too-many-for-distinct", points: [[1, 1], [1, 1], [1, 1], [1, 1]], k: 2, seed: 1 },
          { id: "same-texts", texts: ["timeout calling x", "timeout calling x", "timeout calling x"], k: "auto", seed: 1 }
        ]
      })
      assertFiniteNumbers(results)
      const found = byId(results)
      assert.match(found.get("huge")!.error as string, /row 0, column 0/)
      assert.strictEqual(found.get("identical")!.k, 1)
      assert.deepStrictEqual(found.get("identical")!.labels, [0, 0, 0, 0])
      assert.match(found.get("too-many-for-distinct")!.error as string, /1 distinct point/)
      assert.strictEqual(found.get("same-texts")!.k, 1)
    }))

  it.effect("spectral verdict", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const stimuli = Array.from({ length: 40 }, (_, i) => ({
        id: `s${i}`,
        baseline: { score: 0.6, agents: { intake: 1e308 } },
        candidate: { score: 0.62, agents: { intake: -1e308 } }
      }))
      yield* fs.writeFileString(`${directory}/in.json`, JSON.stringify({ cases: [{ id: "huge-agents", stimuli }] }))
      yield* Effect.exit(Command.runWith(verdict, { version: "test" })(["--input", `${directory}/in.json`, "--output", `${directory}/out.json`]))
      const output = JSON.parse(yield* fs.readFileString(`${directory}/out.json`))
      assertFiniteNumbers(output)
      assert.notInclude(JSON.stringify(output), "Infinity")
      assert.strictEqual(output.results[0].id, "huge-agents")
      assert.match(output.results[0].error, /agents[\s\S]*intake/)
    }).pipe(Effect.provide(NodeServices.layer)))
})
