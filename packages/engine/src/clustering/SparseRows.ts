/**
 * A compressed-row (CSR) view of a mostly-zero `PointMatrix` (hashed TF-IDF rows have about 100
 * non-zeros in 4,096 columns), so the k-means loops can measure a row against a dense centroid
 * in O(non-zeros) as ‖x‖² + ‖c‖² − 2 x·c instead of O(columns). Owns the view and that
 * distance, and the row distance the k-means modules call (dense or through the view).
 */
import { type PointMatrix, squaredDistanceAt } from "./PointMatrix.ts"

export interface SparseRows {
  /** Row i's entries are `indices/values[starts[i] … starts[i+1])`. */
  readonly starts: Int32Array
  readonly indices: Int32Array
  readonly values: Float64Array
  /** ‖row i‖². */
  readonly norms: Float64Array
}

/** The CSR view when at most `maxDensity` of the entries are non-zero (else undefined: stay dense). */
export const sparseRowsOf = (matrix: PointMatrix, maxDensity = 0.1): SparseRows | undefined => {
  const { data, rows: n, columns: d } = matrix
  const limit = maxDensity * n * d
  let nonZero = 0
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0 && ++nonZero > limit) return undefined
  }
  const starts = new Int32Array(n + 1)
  const indices = new Int32Array(nonZero)
  const values = new Float64Array(nonZero)
  const norms = new Float64Array(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    starts[i] = at
    let norm = 0
    for (let j = 0; j < d; j++) {
      const value = data[i * d + j]
      if (value !== 0) {
        indices[at] = j
        values[at++] = value
        norm += value * value
      }
    }
    norms[i] = norm
  }
  starts[n] = at
  return { starts, indices, values, norms }
}

/** ‖row i − v‖² for the dense vector `v = vectors[offset … offset+columns)` of squared norm `vectorNorm` (clamped at 0). */
export const sparseSquaredDistance = (
  rows: SparseRows,
  i: number,
  vectors: Float64Array,
  offset: number,
  vectorNorm: number
): number => {
  const { indices, values } = rows
  let dot = 0
  for (let p = rows.starts[i], end = rows.starts[i + 1]; p < end; p++) dot += values[p] * vectors[offset + indices[p]]
  const squared = rows.norms[i] + vectorNorm - 2 * dot
  return squared > 0 ? squared : 0
}

/** Squared norms of the k rows of a dense k × columns array, into `out`. */
export const squaredNormsInto = (vectors: Float64Array, k: number, columns: number, out: Float64Array): void => {
  for (let c = 0; c < k; c++) out[c] = squaredNormAt(vectors, c * columns, columns)
}

/** ‖vectors[offset … offset+d)‖². */
export const squaredNormAt = (vectors: Float64Array, offset: number, d: number): number => {
  let norm = 0
  for (let j = 0; j < d; j++) norm += vectors[offset + j] * vectors[offset + j]
  return norm
}

/** ‖row i − vectors[offset …]‖², through the CSR view `sparse` when the rows have one. */
export const rowSquaredDistance = (
  data: Float64Array,
  d: number,
  sparse: SparseRows | undefined,
  i: number,
  vectors: Float64Array,
  offset: number,
  vectorNorm: number
): number => sparse === undefined ? squaredDistanceAt(data, i * d, vectors, offset, d) : sparseSquaredDistance(sparse, i, vectors, offset, vectorNorm)
