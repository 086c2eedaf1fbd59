import { assert, describe, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { kmeans as mlKmeans } from "ml-kmeans"
import { adjustedRandIndex } from "../../src/testing/AdjustedRandIndex.ts"
import { kmeansAuto } from "../../src/clustering/AutoK.ts"
import { gaussianBlobs } from "../../src/testing/GaussianBlobs.ts"
import { centroidsOf, inertiaOf } from "../../src/clustering/Centroids.ts"
import { kmeans } from "../../src/clustering/KMeans.ts"
import { clusterPoints } from "../../src/clustering/PointClustering.ts"
import { fromFlat, rowOf } from "../../src/clustering/PointMatrix.ts"

describe("adjustedRandIndex", () => {
  it.effect("is 1 for the same partition under renaming, and matches scikit-learn's values", () =>
    Effect.sync(() => {
      assert.strictEqual(adjustedRandIndex([0, 0, 1, 1, 2], [5, 5, 3, 3, 9]), 1)
      assert.closeTo(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]), 0.5714285714285715, 1e-12)
      assert.closeTo(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]), 0.24242424242424246, 1e-12)
      assert.isBelow(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]), 0)
    }))
})

describe("kmeans", () => {
  it.effect("recovers well-separated blobs (ARI ≈ 1) in 2 and 50 dimensions", () =>
    Effect.sync(() => {
      for (const [k, dimensions] of [[4, 2], [8, 50]] as const) {
        const blobs = gaussianBlobs({ n: 1200, k, dimensions, seed: 3, spread: 0.4, minCentreDistance: 4 })
        const result = Result.getOrThrow(kmeans(blobs, { k, seed: 1 }))
        assert.isAbove(adjustedRandIndex(blobs.labels, result.labels), 0.99)
        assert.isTrue(result.converged)
      }
    }))

  it.effect("recovers blobs when n exceeds the restart sample (restarts on a sample, refined on all rows)", () =>
    Effect.sync(() => {
      const blobs = gaussianBlobs({ n: 9000, k: 10, dimensions: 64, seed: 5, spread: 2 })
      const result = Result.getOrThrow(kmeans(blobs, { k: 10, seed: 2, restartSampleSize: 1500 }))
      assert.isAbove(adjustedRandIndex(blobs.labels, result.labels), 0.99)
    }))

  it.effect("is deterministic for a seed", () =>
    Effect.sync(() => {
      const blobs = gaussianBlobs({ n: 3000, k: 6, dimensions: 8, seed: 11, spread: 4 })
      const first = Result.getOrThrow(kmeans(blobs, { k: 6, seed: 42, restarts: 4 }))
      const second = Result.getOrThrow(kmeans(blobs, { k: 6, seed: 42, restarts: 4 }))
      assert.deepStrictEqual(Array.from(first.labels), Array.from(second.labels))
      assert.strictEqual(first.inertia, second.inertia)
      assert.deepStrictEqual(first.restartInertias, second.restartInertias)
    }))

  it.effect("reaches inertia no higher than ml-kmeans with the same number of restarts (overlapping blobs)", () =>
    Effect.sync(() => {
      const restarts = 5
      let ours = 0
      let baseline = 0
      for (let dataset = 0; dataset < 12; dataset++) {
        const k = 3 + (dataset % 8)
        const dimensions = 2 + (dataset % 5) * 3
        const blobs = gaussianBlobs({ n: 600, k, dimensions, seed: 100 + dataset, spread: 4 })
        const result = Result.getOrThrow(kmeans(blobs, { k, seed: 1, restarts }))
        const rows = Array.from({ length: blobs.rows }, (_, i) => rowOf(blobs, i))
        let best = Infinity
        for (let seed = 1; seed <= restarts; seed++) {
          const clusters = mlKmeans(rows, k, { seed, initialization: "kmeans++" }).clusters
          best = Math.min(best, inertiaOf(blobs, clusters, centroidsOf(blobs, clusters, k)))
        }
        // Local optima differ by seed: no dataset may be more than 1% worse, and the total must not be worse.
        assert.isAtMost(result.inertia, best * 1.01, `dataset ${dataset}: k=${k} d=${dimensions}`)
        ours += result.inertia
        baseline += best
      }
      assert.isAtMost(ours, baseline)
    }))

  it.effect("stops starting runs once the best optimum has repeated, at the inertia of running them all", () =>
    Effect.sync(() => {
      const blobs = gaussianBlobs({ n: 800, k: 5, dimensions: 6, seed: 8, spread: 0.5, minCentreDistance: 4 })
      const early = Result.getOrThrow(kmeans(blobs, { k: 5, seed: 3 }))
      const all = Result.getOrThrow(kmeans(blobs, { k: 5, seed: 3, stopAfterRepeats: Infinity }))
      assert.isBelow(early.restartInertias.length, 10)
      assert.strictEqual(all.restartInertias.length, 10)
      assert.isAtMost(early.inertia, all.inertia * (1 + 1e-9))
      const bad = kmeans(blobs, { k: 5, stopAfterRepeats: 0 })
      assert.isTrue(Result.isFailure(bad) && bad.failure.reason._tag === "InvalidArgument")
    }))

  it.effect("clusters mostly-zero rows (TF-IDF shaped) through the sparse path as the dense path does", () =>
    Effect.sync(() => {
      const n = 300
      const columns = 512
      const sparse = new Float64Array(n * columns)
      const truth: Array<number> = []
      let state = 7
      const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296
      for (let i = 0; i < n; i++) {
        const group = i % 3
        truth.push(group)
        for (let t = 0; t < 12; t++) sparse[i * columns + group * 40 + Math.floor(next() * 40)] += 0.2 + next()
      }
      // Translating every row by 1 keeps every distance but makes the rows dense.
      const dense = sparse.map((x) => x + 1)
      const viaSparse = Result.getOrThrow(kmeans(Result.getOrThrow(fromFlat(sparse, columns)), { k: 3, seed: 5 }))
      const viaDense = Result.getOrThrow(kmeans(Result.getOrThrow(fromFlat(dense, columns)), { k: 3, seed: 5 }))
      assert.strictEqual(adjustedRandIndex(truth, viaSparse.labels), 1)
      assert.deepStrictEqual(Array.from(viaSparse.labels), Array.from(viaDense.labels))
      assert.closeTo(viaSparse.inertia, viaDense.inertia, 1e-9 * viaDense.inertia)
    }))

  it.effect("clusters weighted rows like the expanded data", () =>
    Effect.sync(() => {
      const flat = Float64Array.from([0, 0, 0.1, 0, 10, 10, 10.2, 10])
      const weighted = Result.getOrThrow(kmeans(Result.getOrThrow(fromFlat(flat, 2)), { k: 2, seed: 1, weights: Float64Array.from([3, 1, 1, 2]) }))
      const expanded = Result.getOrThrow(fromFlat(Float64Array.from([0, 0, 0, 0, 0, 0, 0.1, 0, 10, 10, 10.2, 10, 10.2, 10]), 2))
      const plain = Result.getOrThrow(kmeans(expanded, { k: 2, seed: 1 }))
      assert.closeTo(weighted.inertia, plain.inertia, 1e-9)
    }))
})

describe("auto k", () => {
  it.effect("picks the true k on clear blobs", () =>
    Effect.sync(() => {
      for (const [k, dimensions, n] of [[3, 2, 600], [5, 20, 1500], [9, 30, 3000]] as const) {
        const blobs = gaussianBlobs({ n, k, dimensions, seed: 21 + k, spread: 0.5, minCentreDistance: 5 })
        const result = Result.getOrThrow(kmeansAuto(blobs, { seed: 1, restarts: 4, kMax: 12, sampleSize: 600 }))
        assert.strictEqual(result.k, k, `true k ${k}, silhouettes ${JSON.stringify(result.silhouettes)}`)
        assert.isAbove(adjustedRandIndex(blobs.labels, result.labels), 0.99)
      }
    }))

  it.effect("scores candidates on a sample, then returns the full k-means at the chosen k", () =>
    Effect.sync(() => {
      const blobs = gaussianBlobs({ n: 6000, k: 7, dimensions: 16, seed: 31, spread: 1 })
      const auto = Result.getOrThrow(kmeansAuto(blobs, { seed: 4, restarts: 5, kMax: 12 }))
      const fixed = Result.getOrThrow(kmeans(blobs, { k: auto.k, seed: 4, restarts: 5 }))
      assert.strictEqual(auto.k, 7)
      assert.strictEqual(auto.silhouettes.length, 11)
      assert.strictEqual(auto.inertia, fixed.inertia)
      assert.deepStrictEqual(Array.from(auto.labels), Array.from(fixed.labels))
    }))

  it.effect("chooses k = 1 when allowed and no k ≥ 2 shows structure", () =>
    Effect.sync(() => {
      const blob = gaussianBlobs({ n: 400, k: 1, dimensions: 5, seed: 2 })
      const result = Result.getOrThrow(kmeansAuto(blob, { seed: 1, kMin: 1, kMax: 6 }))
      assert.strictEqual(result.k, 1)
    }))
})

describe("bad input", () => {
  const reasonOf = (points: ReadonlyArray<ReadonlyArray<number>>, k: number | "auto") =>
    clusterPoints(points, { k }).pipe(Effect.flip, Effect.map((error) => error.reason))

  it.effect("empty input, NaN/Infinity, ragged rows, k < 1 and k > n fail with a ClusteringError naming the problem", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* reasonOf([], 2))._tag, "EmptyInput")
      const nan = yield* reasonOf([[0, 1], [2, NaN]], 1)
      assert.deepInclude(nan, { _tag: "NonFiniteValue", row: 1, column: 1, value: "NaN" })
      const infinite = yield* reasonOf([[Infinity, 1]], 1)
      assert.deepInclude(infinite, { _tag: "NonFiniteValue", row: 0, column: 0, value: "Infinity" })
      const ragged = yield* reasonOf([[0, 1], [1, 2], [3]], 2)
      assert.deepInclude(ragged, { _tag: "RaggedDimensions", row: 2, expected: 2, actual: 1 })
      assert.deepInclude(yield* reasonOf([[0], [1]], 0), { _tag: "InvalidK", k: 0, n: 2 })
      assert.deepInclude(yield* reasonOf([[0], [1]], 3), { _tag: "InvalidK", k: 3, n: 2 })
      assert.deepInclude(yield* reasonOf([[0], [1]], 1.5), { _tag: "InvalidK", k: 1.5 })
      const error = yield* clusterPoints([[0], [1]], { k: 3 }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ClusteringError")
      assert.include(error.message, "k must not exceed the number of points")
    }))
})
