import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { kmeansAuto } from "../../src/clustering/AutoK.ts"
import { kmeans } from "../../src/clustering/KMeans.ts"
import { clusterMatrix } from "../../src/clustering/PointClustering.ts"
import { fromFlat, fromRows } from "../../src/clustering/PointMatrix.ts"
import { clusterTexts } from "../../src/clustering/TextClustering.ts"

const matrix = (points: ReadonlyArray<ReadonlyArray<number>>) => {
  const result = fromRows(points)
  if (Result.isFailure(result)) return assert.fail(result.failure.message)
  return result.success
}

describe("auto k on identical points", () => {
  it("four copies of one point are one cluster (k = 1), not an arbitrary split", () => {
    const result = kmeansAuto(matrix([[1, 1], [1, 1], [1, 1], [1, 1]]), { seed: 1 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.strictEqual(result.success.k, 1)
    assert.deepStrictEqual(Array.from(result.success.labels), [0, 0, 0, 0])
    assert.strictEqual(result.success.inertia, 0)
  })

  it("k = 1 even when kMin asks for 2: there is nothing to split", () => {
    const result = clusterMatrix(matrix([[3], [3], [3]]), { k: "auto", kMin: 2, seed: 7 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.strictEqual(result.success.k, 1)
  })

  it("two distinct points repeated: auto k is at most 2, and separates them", () => {
    const result = kmeansAuto(matrix([[1, 1], [1, 1], [2, 2], [2, 2], [1, 1]]), { seed: 1 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.strictEqual(result.success.k, 2)
    const labels = Array.from(result.success.labels)
    assert.strictEqual(labels[0], labels[1])
    assert.notStrictEqual(labels[0], labels[2])
  })

  it("identical texts are one cluster", () => {
    const result = clusterTexts(["timeout calling tax_lookup", "timeout calling tax_lookup", "timeout calling tax_lookup"], { k: "auto", seed: 1 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.strictEqual(result.success.k, 1)
  })
})

describe("fixed k above the number of distinct points", () => {
  it("is an InvalidK naming the distinct count", () => {
    const result = kmeans(matrix([[1, 1], [1, 1], [1, 1], [1, 1]]), { k: 2, seed: 1 })
    assert.isTrue(Result.isFailure(result))
    if (Result.isSuccess(result)) return
    assert.strictEqual(result.failure.reason._tag, "InvalidK")
    assert.match(result.failure.message, /1 distinct point/)
  })

  it("k equal to the distinct count works", () => {
    const result = kmeans(matrix([[0], [0], [5], [5]]), { k: 2, seed: 1 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.strictEqual(result.success.inertia, 0)
  })
})

describe("coordinates whose squared distances overflow", () => {
  it("are rejected naming the row and column, instead of an infinite inertia", () => {
    const result = fromRows([[0, 1], [1e308, -1e308], [-1e308, 2]])
    assert.isTrue(Result.isFailure(result))
    if (Result.isSuccess(result)) return
    const reason = result.failure.reason
    assert.strictEqual(reason._tag, "CoordinateOverflow")
    if (reason._tag !== "CoordinateOverflow") return
    assert.strictEqual(reason.row, 1)
    assert.strictEqual(reason.column, 0)
    assert.match(result.failure.message, /row 1, column 0/)
  })

  it("the flat-buffer path checks the same", () => {
    const result = fromFlat(Float64Array.from([1e200, 0, -1e200, 0]), 2)
    assert.isTrue(Result.isFailure(result) && result.failure.reason._tag === "CoordinateOverflow")
  })

  it("large but safe coordinates cluster with a finite inertia", () => {
    const result = kmeans(matrix([[1e150, 1], [-1e150, 2], [1e150, 3], [-1e150, 5]]), { k: 1, seed: 1 })
    if (Result.isFailure(result)) return assert.fail(result.failure.message)
    assert.isTrue(Number.isFinite(result.success.inertia))
    assert.isAbove(result.success.inertia, 1e300)
  })
})
