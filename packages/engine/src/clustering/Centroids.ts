/**
 * Centroids and inertia of labelled rows: the (weighted) per-cluster sums and means, and the
 * weighted sum of squared distances to them, dense or through the CSR view. Shared by Lloyd, the
 * Hartigan refinement and callers with labels computed elsewhere. Does not assign labels.
 */
import { type PointMatrix, squaredDistanceAt } from "./PointMatrix.ts"
import { type SparseRows, sparseSquaredDistance } from "./SparseRows.ts"

/** Weighted per-cluster sums of the rows (dense k × columns) and weights, from the labels. */
export const sumRows = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  labels: Int32Array,
  weights: Float64Array | undefined,
  sums: Float64Array,
  counts: Float64Array
): void => {
  const { data, rows: n, columns: d } = matrix
  sums.fill(0)
  counts.fill(0)
  for (let i = 0; i < n; i++) {
    const c = labels[i]
    const w = weights === undefined ? 1 : weights[i]
    counts[c] += w
    const sumOffset = c * d
    if (sparse !== undefined) {
      const { indices, values } = sparse
      for (let p = sparse.starts[i], end = sparse.starts[i + 1]; p < end; p++) sums[sumOffset + indices[p]] += w * values[p]
      continue
    }
    const rowOffset = i * d
    if (w === 1) for (let j = 0; j < d; j++) sums[sumOffset + j] += data[rowOffset + j]
    else for (let j = 0; j < d; j++) sums[sumOffset + j] += w * data[rowOffset + j]
  }
}

/** Each non-empty cluster's centroid to the (weighted) mean of its rows, exactly, from the labels. */
export const recomputeCentroids = (
  matrix: PointMatrix,
  labels: Int32Array,
  weights: Float64Array | undefined,
  centroids: Float64Array,
  k: number,
  sums: Float64Array,
  counts: Float64Array,
  sparse?: SparseRows
): void => {
  const d = matrix.columns
  sumRows(matrix, sparse, labels, weights, sums, counts)
  for (let c = 0; c < k; c++) {
    if (counts[c] > 0) for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] / counts[c]
  }
}

/** `inertiaOf`, through the CSR view when there is one (`centroidNorms` current). */
export const sparseAwareInertia = (
  matrix: PointMatrix,
  labels: Int32Array,
  centroids: Float64Array,
  weights: Float64Array | undefined,
  sparse: SparseRows | undefined,
  centroidNorms: Float64Array
): number => {
  if (sparse === undefined) return inertiaOf(matrix, labels, centroids, weights)
  let total = 0
  for (let i = 0; i < matrix.rows; i++) {
    const c = labels[i]
    const distance = sparseSquaredDistance(sparse, i, centroids, c * matrix.columns, centroidNorms[c])
    total += weights === undefined ? distance : weights[i] * distance
  }
  return total
}

/** Weighted sum of squared distances of each row to the centroid of its label. */
export const inertiaOf = (
  matrix: PointMatrix,
  labels: ArrayLike<number>,
  centroids: Float64Array,
  weights?: Float64Array
): number => {
  const { data, rows: n, columns: d } = matrix
  let total = 0
  for (let i = 0; i < n; i++) {
    const distance = squaredDistanceAt(data, i * d, centroids, labels[i] * d, d)
    total += weights === undefined ? distance : weights[i] * distance
  }
  return total
}

/** The (weighted) mean of each label's rows: centroids for labels computed elsewhere (ml-kmeans, scipy). */
export const centroidsOf = (matrix: PointMatrix, labels: ArrayLike<number>, k: number, weights?: Float64Array): Float64Array => {
  const centroids = new Float64Array(k * matrix.columns)
  const int32 = Int32Array.from(labels)
  recomputeCentroids(matrix, int32, weights, centroids, k, new Float64Array(k * matrix.columns), new Float64Array(k))
  return centroids
}
