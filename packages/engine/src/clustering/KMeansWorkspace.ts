/**
 * What one k-means start works in and returns: the scratch arrays that k-means++ seeding, Hamerly
 * Lloyd and the Hartigan refinement share (Hamerly bounds, running per-cluster sums, the CSR view
 * of mostly-zero rows), allocated once per matrix and reused across restarts, and `KMeansRun`,
 * the outcome of one start. Owns no algorithm.
 */
import type { PointMatrix } from "./PointMatrix.ts"
import { type SparseRows, sparseRowsOf } from "./SparseRows.ts"

/** The outcome of one start (one seeding, Lloyd, optionally Hartigan). */
export interface KMeansRun {
  readonly k: number
  /** Cluster of each row, 0 … k-1. */
  readonly labels: Int32Array
  /** k × columns, row-major. */
  readonly centroids: Float64Array
  /** Weighted sum of squared distances of rows to their centroid. */
  readonly inertia: number
  /** Lloyd iterations (of the winning start, in a `KMeansResult`). */
  readonly iterations: number
  /** Whether Lloyd reached a fixed point (or the tolerance) before `maxIterations`. */
  readonly converged: boolean
}

/** Scratch arrays of one matrix and k, reused by every start on it. */
export interface KMeansWorkspace {
  /** Upper bound on each row's distance to its centroid (Hamerly). */
  readonly upper: Float64Array
  /** Lower bound on each row's distance to any other centroid (Hamerly). */
  readonly lower: Float64Array
  readonly minDistance: Float64Array
  readonly nearest: Int32Array
  readonly sums: Float64Array
  readonly counts: Float64Array
  /** Rows in each cluster (counts are weights, which need not be integers). */
  readonly members: Int32Array
  readonly moved: Float64Array
  readonly halfGap: Float64Array
  readonly previous: Float64Array
  /** The rows as CSR when mostly zero (TF-IDF), else undefined. */
  readonly sparse: SparseRows | undefined
  /** ‖centroid c‖², kept current where the sparse distance needs it. */
  readonly centroidNorms: Float64Array
  /** `dataScale` of the matrix, once computed. */
  scale?: number
}

export const makeKMeansWorkspace = (matrix: PointMatrix, k: number): KMeansWorkspace => ({
  upper: new Float64Array(matrix.rows),
  lower: new Float64Array(matrix.rows),
  minDistance: new Float64Array(matrix.rows),
  nearest: new Int32Array(matrix.rows),
  sums: new Float64Array(k * matrix.columns),
  counts: new Float64Array(k),
  members: new Int32Array(k),
  moved: new Float64Array(k),
  halfGap: new Float64Array(k),
  previous: new Float64Array(k * matrix.columns),
  sparse: sparseRowsOf(matrix),
  centroidNorms: new Float64Array(k)
})
