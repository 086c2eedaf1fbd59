/**
 * Points as one row-major `Float64Array` (row i is `data[i*columns … (i+1)*columns)`), the
 * shape every clustering hot loop works on, and the validation that turns user input
 * (nested arrays or a flat buffer) into it. Owns shape and finiteness checks; not k.
 */
import { Result } from "effect"
import { hashWords } from "../random/Deterministic.ts"
import { makeSeededRandom } from "../random/Sfc32.ts"
import {
  clusteringError,
  type ClusteringError,
  CoordinateOverflow,
  EmptyInput,
  NonFiniteValue,
  RaggedDimensions
} from "./ClusteringError.ts"

export interface PointMatrix {
  readonly data: Float64Array
  readonly rows: number
  readonly columns: number
}

const nonFinite = (row: number, column: number, value: number) =>
  clusteringError(new NonFiniteValue({ row, column, value: String(value) }))

/**
 * Every squared distance is at most 4·Σⱼ maxᵢ|xᵢⱼ|², and inertia (or a k-means++ sum) at most n
 * times that; require it below 2¹⁰²⁰ so no distance, sum or inertia overflows. Computed relative
 * to the largest coordinate so the check itself cannot overflow. Fails naming that coordinate.
 */
const checkMagnitude = (data: Float64Array, rows: number, columns: number): Result.Result<void, ClusteringError> => {
  const largestPerColumn = new Float64Array(columns)
  let largest = 0
  let largestAt = 0
  for (let i = 0; i < data.length; i++) {
    const magnitude = Math.abs(data[i])
    const column = i % columns
    if (magnitude > largestPerColumn[column]) largestPerColumn[column] = magnitude
    if (magnitude > largest) {
      largest = magnitude
      largestAt = i
    }
  }
  if (largest === 0) return Result.succeed(undefined)
  let relative = 0
  for (let column = 0; column < columns; column++) relative += (largestPerColumn[column] / largest) ** 2
  if (2 * Math.log2(largest) + Math.log2(4 * rows * relative) < 1020) return Result.succeed(undefined)
  return Result.fail(clusteringError(new CoordinateOverflow({
    row: Math.floor(largestAt / columns),
    column: largestAt % columns,
    value: String(data[largestAt])
  })))
}

/**
 * How many distinct rows there are, counting no further than `cap` (exact equality of
 * coordinates; hashed, so O(n·d)).
 */
export const distinctRows = (matrix: PointMatrix, cap: number): number => {
  const { data, columns: d, rows } = matrix
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length * 2)
  const buckets = new Map<number, Array<number>>()
  let distinct = 0
  for (let row = 0; row < rows && distinct < cap; row++) {
    const hash = hashWords(bits, 2 * row * d, 2 * (row + 1) * d)
    const bucket = buckets.get(hash)
    const same = (other: number): boolean => {
      for (let j = 0; j < d; j++) if (data[row * d + j] !== data[other * d + j]) return false
      return true
    }
    if (bucket === undefined) buckets.set(hash, [row])
    else if (bucket.some(same)) continue
    else bucket.push(row)
    distinct++
  }
  return distinct
}

/** Nested arrays → a PointMatrix; empty input, ragged rows and NaN/±Infinity fail naming the row. */
export const fromRows = (points: ReadonlyArray<ReadonlyArray<number>>): Result.Result<PointMatrix, ClusteringError> => {
  if (points.length === 0) return Result.fail(clusteringError(new EmptyInput({ what: "points" })))
  const columns = points[0].length
  if (columns === 0) return Result.fail(clusteringError(new RaggedDimensions({ row: 0, expected: 1, actual: 0 })))
  const data = new Float64Array(points.length * columns)
  for (let row = 0; row < points.length; row++) {
    const point = points[row]
    if (point.length !== columns) {
      return Result.fail(clusteringError(new RaggedDimensions({ row, expected: columns, actual: point.length })))
    }
    for (let column = 0; column < columns; column++) {
      const value = point[column]
      if (!Number.isFinite(value)) return Result.fail(nonFinite(row, column, value))
      data[row * columns + column] = value
    }
  }
  const magnitude = checkMagnitude(data, points.length, columns)
  if (Result.isFailure(magnitude)) return Result.fail(magnitude.failure)
  return Result.succeed({ data, rows: points.length, columns })
}

/** A flat row-major buffer → a PointMatrix, checked the same way. */
export const fromFlat = (
  data: Float64Array,
  columns: number
): Result.Result<PointMatrix, ClusteringError> => {
  if (data.length === 0) return Result.fail(clusteringError(new EmptyInput({ what: "points" })))
  if (!Number.isInteger(columns) || columns < 1 || data.length % columns !== 0) {
    const rows = Math.floor(data.length / Math.max(1, columns))
    return Result.fail(clusteringError(new RaggedDimensions({ row: rows, expected: columns, actual: data.length % Math.max(1, columns) })))
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) return Result.fail(nonFinite(Math.floor(i / columns), i % columns, data[i]))
  }
  const magnitude = checkMagnitude(data, data.length / columns, columns)
  if (Result.isFailure(magnitude)) return Result.fail(magnitude.failure)
  return Result.succeed({ data, rows: data.length / columns, columns })
}

/** Row i as a plain array (for reporting and for libraries that want nested arrays). */
export const rowOf = (matrix: PointMatrix, row: number): Array<number> =>
  Array.from(matrix.data.subarray(row * matrix.columns, (row + 1) * matrix.columns))

/** Squared Euclidean distance between row `ai` of `a` and row `bi` of `b` (offsets in elements). */
export const squaredDistanceAt = (
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  columns: number
): number => {
  let even = 0
  let odd = 0
  let j = 0
  for (; j + 1 < columns; j += 2) {
    const x = a[aOffset + j] - b[bOffset + j]
    const y = a[aOffset + j + 1] - b[bOffset + j + 1]
    even += x * x
    odd += y * y
  }
  if (j < columns) {
    const x = a[aOffset + j] - b[bOffset + j]
    even += x * x
  }
  return even + odd
}

/** A seeded uniform sample of `size` row indices (all rows, in order, when n ≤ size), sorted. */
export const sampleRows = (n: number, size: number, seed: number): Int32Array => {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i)
  const random = makeSeededRandom(seed)
  const pool = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < size; i++) {
    const j = i + random.nextInt(n - i)
    const swap = pool[i]
    pool[i] = pool[j]
    pool[j] = swap
  }
  return pool.subarray(0, size).sort()
}

/** The given rows (and their weights) as a new matrix. */
export const gatherRows = (matrix: PointMatrix, rows: Int32Array): PointMatrix => {
  const d = matrix.columns
  const data = new Float64Array(rows.length * d)
  for (let i = 0; i < rows.length; i++) data.set(matrix.data.subarray(rows[i] * d, rows[i] * d + d), i * d)
  return { data, rows: rows.length, columns: d }
}
