import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { runBootstrapFile } from "../src/commands/bootstrap.ts"

const file = {
  cases: [
    { id: "pass-rate", statistic: "mean", x: [1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0], level: 0.95, method: "bca", resamples: 9999, seed: 1 },
    {
      id: "paired",
      statistic: "mean_diff_paired",
      x: [0.5, 0.6, 0.7, 0.4, 0.55, 0.62],
      y: [0.6, 0.65, 0.8, 0.45, 0.5, 0.7],
      method: "percentile",
      resamples: 1999,
      seed: 2
    },
    { id: "weighted", statistic: "weighted_mean", x: [0.2, 0.9, 0.5, 0.7], weights: [1, 2, 1, 3], method: "basic", seed: 3 },
    { id: "independent", statistic: "mean_diff_independent", x: [1, 2, 3, 4], y: [2, 3, 5, 6, 7], seed: 4 },
    { id: "ratio", statistic: "ratio_of_means", x: [1, 2, 3, 4], y: [2, 3, 5, 6], paired: true, level: 0.9, seed: 5 },
    { id: "cluster", statistic: "mean", x: [1, 2, 3, 4, 5, 6], groups: ["a", "a", "b", "b", "c", "c"], seed: 6 },
    { id: "mismatch", statistic: "mean_diff_paired", x: [1, 2], y: [1] },
    { id: "nan", statistic: "mean", x: [1, "NaN"] },
    { id: "level", statistic: "mean", x: [1, 2], level: 1.5 },
    { id: "weights", statistic: "weighted_mean", x: [1, 2], weights: [1, -2] },
    { id: "unknown", statistic: "median", x: [1, 2] },
    { id: "single", statistic: "mean", x: [4] }
  ]
}

const byId = (results: ReadonlyArray<{ readonly id: string }>) => new Map(results.map((result) => [result.id, result as Record<string, unknown>]))

describe("spectral bootstrap", () => {
  it.effect("computes every valid case and reports each invalid one by name, without stopping", () =>
    Effect.gen(function*() {
      const { results } = yield* runBootstrapFile(file)
      assert.strictEqual(results.length, file.cases.length)
      const found = byId(results)
      for (const id of ["pass-rate", "paired", "weighted", "independent", "ratio", "cluster"]) {
        const result = found.get(id)!
        assert.isUndefined(result.error, id)
        assert.isTrue((result.low as number) <= (result.estimate as number) && (result.estimate as number) <= (result.high as number), id)
        assert.isFalse(result.degenerate)
        assert.isAtLeast(result.ms as number, 0)
      }
      assert.closeTo(found.get("pass-rate")!.estimate as number, 9 / 12, 1e-12)
      assert.strictEqual(found.get("pass-rate")!.resamples, 9999)
      assert.strictEqual(found.get("paired")!.method, "percentile")
      assert.strictEqual(found.get("weighted")!.method, "basic")
      assert.closeTo(found.get("independent")!.estimate as number, 4.6 - 2.5, 1e-12)
      assert.match(found.get("mismatch")!.error as string, /differ in length/)
      assert.match(found.get("nan")!.error as string, /x\[1\] is NaN/)
      assert.match(found.get("level")!.error as string, /level/)
      assert.match(found.get("weights")!.error as string, /weights\[1\]/)
      assert.match(found.get("unknown")!.error as string, /statistic/)
      assert.isTrue(found.get("single")!.degenerate as boolean)
      assert.match(found.get("single")!.reason as string, /n = 1/)
    }))

  it.effect("the same file gives the same intervals on every run", () =>
    Effect.gen(function*() {
      const first = yield* runBootstrapFile(file)
      const second = yield* runBootstrapFile(file)
      const strip = (results: ReadonlyArray<object>) => results.map(({ ms: _, ...rest }: { ms?: number }) => rest)
      assert.deepStrictEqual(strip(second.results), strip(first.results))
    }))

  it.effect("a file without cases fails", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(runBootstrapFile({ rows: [] }))
      assert.isDefined(error)
    }))

  it("runs as a command: --input FILE --output FILE", () => {
    const directory = mkdtempSync(join(tmpdir(), "spectral-bootstrap-"))
    const input = join(directory, "cases.json")
    const output = join(directory, "results.json")
    writeFileSync(input, JSON.stringify({ cases: file.cases.slice(0, 2).concat([file.cases[6]]) }))
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
    const run = spawnSync(process.execPath, [bin, "bootstrap", "--input", input, "--output", output], { encoding: "utf8" })
    assert.strictEqual(run.status, 0, run.stderr)
    const written = JSON.parse(readFileSync(output, "utf8")) as { results: Array<Record<string, unknown>> }
    assert.deepStrictEqual(written.results.map((result) => result.id), ["pass-rate", "paired", "mismatch"])
    assert.isNumber(written.results[0].low)
    assert.isString(written.results[2].error)
  }, 30_000)
})
