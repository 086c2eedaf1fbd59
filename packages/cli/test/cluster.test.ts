import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { Command } from "effect/cli"
import { cluster, runClusterFile } from "../src/commands/cluster.ts"

const cases = {
  cases: [
    { id: "blobs", points: [[0, 0], [0.1, 0.2], [10, 10], [10.2, 9.9], [20, 0], [20.1, 0.3]], k: 3, seed: 1 },
    { id: "auto", points: [[0, 0], [0.1, 0.2], [0.2, 0.1], [10, 10], [10.2, 9.9], [10.1, 10.1]], k: "auto", seed: 1 },
    {
      id: "texts",
      texts: [
        "timeout after 30s calling tax_lookup",
        "used 2021 tax brackets instead of 2024",
        "timeout after 5s calling tax_lookup",
        "used 2019 tax brackets instead of 2023",
        "timeout after 30s calling tax_lookup"
      ],
      k: "auto",
      seed: 1
    },
    { id: "nan", points: [[0, 0], ["NaN", 1]], k: 1 },
    { id: "ragged", points: [[0, 0], [1]], k: 1 },
    { id: "too-many", points: [[0, 0], [1, 1]], k: 3 },
    { id: "zero", points: [[0, 0], [1, 1]], k: 0 },
    { id: "empty", points: [], k: 1 },
    { id: "bad-k", points: [[0]], k: "many" }
  ]
}

describe("spectral cluster", () => {
  it.effect("bad texts get a typed outcome: skipped with their reason (label -1), cleaned and listed as adjusted; never a crash or NaN", () =>
    Effect.gen(function*() {
      const long = "timeout calling tax_lookup after 15s ".repeat(3_000)
      const { results } = yield* runClusterFile({
        cases: [
          {
            id: "bad",
            texts: ["", "   ", "timeout", long, "a\u0000b\u0007 timeout calling tax_lookup", "\ud800 rate limit on tax_lookup", "rate limited by tax_lookup", "timeout after 30s calling tax_lookup"],
            k: "auto",
            seed: 1
          },
          { id: "nothing", texts: ["", " ", "\u0000"], k: "auto" },
          { id: "same", texts: Array.from({ length: 8 }, () => "the advisor misread the filing status"), k: "auto", seed: 1 }
        ]
      })
      const byId = new Map(results.map((r) => [r.id, r]))
      const bad = byId.get("bad")!
      assert.isFalse("error" in bad, JSON.stringify(bad))
      if ("error" in bad) return
      assert.deepStrictEqual(bad.skipped?.map((s) => [s.index, s.reason]), [[0, "empty"], [1, "whitespace_only"]])
      assert.deepStrictEqual(bad.labels.slice(0, 2), [-1, -1])
      assert.isTrue(bad.labels.slice(2).every((l) => l >= 0))
      assert.deepStrictEqual(bad.adjusted?.map((a) => [a.index, a.adjustments]), [[3, ["truncated"]], [4, ["control_characters_removed"]], [5, ["lone_surrogates_replaced"]]])
      assert.isTrue(Number.isFinite(bad.inertia))
      assert.isTrue(bad.clusterLabels!.every((l) => l.length > 0 && !l.includes("\u0000") && !/[\ud800-\udfff]/.test(l)))
      // The timeouts and the rate limits on the same tool stay apart.
      assert.notStrictEqual(bad.labels[7], bad.labels[6])
      const nothing = byId.get("nothing")!
      assert.isFalse("error" in nothing)
      if ("error" in nothing) return
      assert.strictEqual(nothing.k, 0)
      assert.deepStrictEqual(nothing.labels, [-1, -1, -1])
      assert.deepStrictEqual(nothing.skipped?.map((s) => s.reason), ["empty", "whitespace_only", "no_content"])
      const same = byId.get("same")!
      assert.isFalse("error" in same)
      if ("error" in same) return
      assert.strictEqual(same.k, 1)
      assert.deepStrictEqual(same.clusterLabels, ["the advisor misread the filing status"])
    }))

  it.effect("clusters points (fixed and auto k) and texts with their severity variants", () =>
    Effect.gen(function*() {
      const { results } = yield* runClusterFile(cases)
      const byId = new Map(results.map((result) => [result.id, result]))
      const blobs = byId.get("blobs")!
      assert.isFalse("error" in blobs)
      if ("error" in blobs) return
      assert.strictEqual(blobs.k, 3)
      assert.deepStrictEqual(blobs.labels, [0, 0, 1, 1, 2, 2])
      assert.closeTo(blobs.inertia, 0.1, 1e-9)
      assert.isAtLeast(blobs.ms, 0)
      const auto = byId.get("auto")!
      assert.isTrue(!("error" in auto) && auto.k === 2)
      const texts = byId.get("texts")!
      if ("error" in texts) return assert.fail(texts.error)
      assert.strictEqual(texts.k, 2)
      assert.strictEqual(texts.labels[0], texts.labels[2])
      assert.notStrictEqual(texts.labels[0], texts.labels[1])
      const timeoutVariants = texts.variants.filter((variant) => variant.pattern === "timeout after <num>s calling tax_lookup")
      assert.deepStrictEqual(timeoutVariants.map((variant) => [variant.values, variant.members]), [[["30s"], [0, 4]], [["5s"], [2]]])
      // Each cluster reads as a phrase from its members' words, with its severities.
      const timeoutCluster = texts.labels[0]!
      assert.match(texts.clusterLabels![timeoutCluster]!, /^timeout after .*s calling tax_lookup$/)
      assert.include(texts.severities![timeoutCluster]!, "30s ×2")
      assert.match(texts.clusterLabels![texts.labels[1]!]!, /tax brackets instead of/)
    }))

  it.effect("reports an invalid case by id, naming the problem, and still runs the others", () =>
    Effect.gen(function*() {
      const { results } = yield* runClusterFile(cases)
      const errorOf = (id: string) => {
        const result = results.find((entry) => entry.id === id)!
        return "error" in result ? result.error : "no error"
      }
      assert.include(errorOf("nan"), "non-finite value NaN at row 1, column 0")
      assert.include(errorOf("ragged"), "ragged dimensions: row 1")
      assert.include(errorOf("too-many"), "k must not exceed the number of points")
      assert.include(errorOf("zero"), "k must be an integer >= 1")
      assert.include(errorOf("empty"), "empty input")
      assert.include(errorOf("bad-k"), "invalid case")
      assert.strictEqual(results.length, cases.cases.length)
    }))

  it.effect("runs as a command from --input to --output", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const input = `${directory}/cases.json`
      const output = `${directory}/results.json`
      yield* fs.writeFileString(input, JSON.stringify({ cases: cases.cases.slice(0, 1) }))
      yield* Command.runWith(cluster, { version: "test" })(["--input", input, "--output", output])
      const written = JSON.parse(yield* fs.readFileString(output))
      assert.deepStrictEqual(written.results[0].labels, [0, 0, 1, 1, 2, 2])
    }).pipe(Effect.provide(NodeServices.layer)))
})
