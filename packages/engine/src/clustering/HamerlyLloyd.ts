/**
 * Lloyd's iterations accelerated with Hamerly's bounds (Hamerly 2010): an upper bound on each
 * row's distance to its centroid and a lower bound on its distance to every other centroid, so
 * that once assignments settle most rows skip the k-centroid scan. Owns the iterations from
 * given initial centroids to a fixed point (or the tolerance); not the seeding (see
 * `KMeansPlusPlus.ts`), the refinement after it (`HartiganRefinement.ts`) or the restarts (`KMeans.ts`).
 */
import { recomputeCentroids, sparseAwareInertia, sumRows } from "./Centroids.ts"
import { type KMeansRun, makeKMeansWorkspace, type KMeansWorkspace } from "./KMeansWorkspace.ts"
import { type PointMatrix, squaredDistanceAt } from "./PointMatrix.ts"
import { rowSquaredDistance, type SparseRows, squaredNormsInto } from "./SparseRows.ts"

/** What Lloyd's iterations need of the k-means options (`KMeansOptions` extends it). */
export interface LloydOptions {
  readonly k: number
  /** Lloyd iterations per start. Default 300. */
  readonly maxIterations?: number
  /**
   * Stop a start when no centroid moved more than `tolerance` × (root mean per-column variance).
   * Default 0: run until no assignment changes (exact Lloyd fixed point).
   */
  readonly tolerance?: number
  /** Row weights (multiplicities), all finite and > 0. Default: all 1. */
  readonly weights?: Float64Array
}

/** A Lloyd fixed point, and whether the workspace's Hamerly bounds hold for its centroids. */
export interface LloydRun extends KMeansRun {
  readonly boundsValid: boolean
}

/** Lloyd iterations (Hamerly-accelerated) from the given initial centroids, which are overwritten. */
export const lloydFrom = (matrix: PointMatrix, centroids: Float64Array, options: LloydOptions): KMeansRun => {
  const { boundsValid: _, ...run } = lloyd(matrix, centroids, options, makeKMeansWorkspace(matrix, options.k))
  return run
}

/** Root mean per-column variance: the scale the tolerance is relative to (one row-major pass). */
const dataScale = (matrix: PointMatrix): number => {
  const { data, rows: n, columns: d } = matrix
  const sums = new Float64Array(d)
  const squares = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    const offset = i * d
    for (let j = 0; j < d; j++) {
      const x = data[offset + j]
      sums[j] += x
      squares[j] += x * x
    }
  }
  let total = 0
  for (let j = 0; j < d; j++) {
    const mean = sums[j] / n
    total += Math.max(0, squares[j] / n - mean * mean)
  }
  return Math.sqrt(total / d)
}

/**
 * Hamerly-bounded Lloyd. The per-cluster sums are kept up to date as rows change cluster, so an
 * iteration costs the rows whose bounds fail, not a pass over all rows; the centroids are
 * recomputed exactly from the labels once at the end (and the bounds loosened by that last move).
 * The steps are separate small functions so that V8 optimises each early and cheaply.
 */
export const lloyd = (
  matrix: PointMatrix,
  centroids: Float64Array,
  options: LloydOptions,
  workspace: KMeansWorkspace
): LloydRun => {
  const { rows: n, columns: d } = matrix
  const k = options.k
  const weights = options.weights
  const maxIterations = options.maxIterations ?? 300
  const tolerance = options.tolerance ?? 0
  const threshold = tolerance > 0 ? tolerance * (workspace.scale ??= dataScale(matrix)) : 0
  const { upper, lower, sums, counts, members, moved, previous, sparse, centroidNorms } = workspace
  const labels = new Int32Array(n)
  if (sparse !== undefined) squaredNormsInto(centroids, k, d, centroidNorms)
  for (let i = 0; i < n; i++) labels[i] = nearestTwo(matrix, sparse, i, centroids, centroidNorms, k, upper, lower)
  sumRows(matrix, sparse, labels, weights, sums, counts)
  members.fill(0)
  for (let i = 0; i < n; i++) members[labels[i]]++

  let iterations = 0
  let converged = false
  let boundsValid = false
  while (iterations < maxIterations) {
    iterations++
    previous.set(centroids)
    const emptied = moveCentroids(matrix, sparse, labels, weights, centroids, k, workspace)
    if (sparse !== undefined) squaredNormsInto(centroids, k, d, centroidNorms)
    const maxMove = centroidMoves(previous, centroids, k, d, moved)
    if (!emptied && maxMove <= threshold) {
      converged = true
      break
    }
    loosenBounds(labels, n, k, workspace, emptied)
    halfGaps(centroids, k, d, workspace.halfGap)
    const changed = reassign(matrix, sparse, labels, weights, centroids, k, workspace)
    if (changed === 0 && !emptied) {
      converged = true
      boundsValid = true
      break
    }
  }
  // Exact means of the final labels (the running sums carry rounding); the bounds absorb that last move.
  previous.set(centroids)
  recomputeCentroids(matrix, labels, weights, centroids, k, sums, counts, sparse)
  if (sparse !== undefined) squaredNormsInto(centroids, k, d, centroidNorms)
  if (boundsValid) {
    const maxMove = centroidMoves(previous, centroids, k, d, moved)
    for (let i = 0; i < n; i++) {
      upper[i] += moved[labels[i]]
      lower[i] -= maxMove
    }
  }
  return { k, labels, centroids, inertia: sparseAwareInertia(matrix, labels, centroids, weights, sparse, centroidNorms), iterations, converged, boundsValid }
}

/** Row i's nearest centroid (returned), with its distance into `upper[i]` and the second-nearest's into `lower[i]`. */
const nearestTwo = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  i: number,
  centroids: Float64Array,
  centroidNorms: Float64Array,
  k: number,
  upper: Float64Array,
  lower: Float64Array
): number => {
  const { data, columns: d } = matrix
  let best = Infinity
  let second = Infinity
  let bestIndex = 0
  for (let c = 0; c < k; c++) {
    const distance = rowSquaredDistance(data, d, sparse, i, centroids, c * d, centroidNorms[c])
    if (distance < best) {
      second = best
      best = distance
      bestIndex = c
    } else if (distance < second) second = distance
  }
  upper[i] = Math.sqrt(best)
  lower[i] = Math.sqrt(second)
  return bestIndex
}

/**
 * Each centroid to the (weighted) mean of its rows, from the running sums; an empty cluster is
 * re-seeded at the row farthest from its own centroid. Returns whether any cluster was empty.
 */
const moveCentroids = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  labels: Int32Array,
  weights: Float64Array | undefined,
  centroids: Float64Array,
  k: number,
  workspace: KMeansWorkspace
): boolean => {
  const { data, rows: n, columns: d } = matrix
  const { sums, counts, members } = workspace
  let emptied = false
  for (let c = 0; c < k; c++) {
    if (members[c] > 0) {
      const inverse = 1 / counts[c]
      for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j] * inverse
      continue
    }
    let farthest = -1
    let farthestDistance = -1
    for (let i = 0; i < n; i++) {
      const distance = squaredDistanceAt(data, i * d, centroids, labels[i] * d, d)
      if (distance > farthestDistance) {
        farthestDistance = distance
        farthest = i
      }
    }
    centroids.set(data.subarray(farthest * d, farthest * d + d), c * d)
    transferRow(matrix, sparse, weights, farthest, labels[farthest], c, workspace)
    labels[farthest] = c
    emptied = true
  }
  return emptied
}

/** How far each centroid moved (into `moved`); returns the largest move. */
const centroidMoves = (previous: Float64Array, centroids: Float64Array, k: number, d: number, moved: Float64Array): number => {
  let maxMove = 0
  for (let c = 0; c < k; c++) {
    moved[c] = Math.sqrt(squaredDistanceAt(previous, c * d, centroids, c * d, d))
    if (moved[c] > maxMove) maxMove = moved[c]
  }
  return maxMove
}

/** Hamerly: upper bounds grow by the own centroid's move, lower bounds shrink by the largest other move. */
const loosenBounds = (labels: Int32Array, n: number, k: number, workspace: KMeansWorkspace, emptied: boolean): void => {
  const { upper, lower, moved } = workspace
  let maxMove = 0
  let secondMove = 0
  let maxMoved = -1
  for (let c = 0; c < k; c++) {
    const move = moved[c]
    if (move > maxMove) {
      secondMove = maxMove
      maxMove = move
      maxMoved = c
    } else if (move > secondMove) secondMove = move
  }
  for (let i = 0; i < n; i++) {
    const c = labels[i]
    upper[i] += moved[c]
    lower[i] = emptied ? 0 : lower[i] - (c === maxMoved ? secondMove : maxMove)
  }
}

/** Half the distance from each centroid to its nearest other centroid. */
const halfGaps = (centroids: Float64Array, k: number, d: number, halfGap: Float64Array): void => {
  for (let c = 0; c < k; c++) {
    let nearest = Infinity
    for (let other = 0; other < k; other++) {
      if (other === c) continue
      const distance = squaredDistanceAt(centroids, c * d, centroids, other * d, d)
      if (distance < nearest) nearest = distance
    }
    halfGap[c] = 0.5 * Math.sqrt(nearest)
  }
}

/** Re-assigns the rows whose bounds fail; returns how many changed cluster (their sums moved along). */
const reassign = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  labels: Int32Array,
  weights: Float64Array | undefined,
  centroids: Float64Array,
  k: number,
  workspace: KMeansWorkspace
): number => {
  const { data, rows: n, columns: d } = matrix
  const { upper, lower, halfGap, centroidNorms } = workspace
  let changed = 0
  for (let i = 0; i < n; i++) {
    const assigned = labels[i]
    const bound = halfGap[assigned] > lower[i] ? halfGap[assigned] : lower[i]
    if (upper[i] <= bound) continue
    upper[i] = Math.sqrt(rowSquaredDistance(data, d, sparse, i, centroids, assigned * d, centroidNorms[assigned]))
    if (upper[i] <= bound) continue
    const nearest = nearestTwo(matrix, sparse, i, centroids, centroidNorms, k, upper, lower)
    if (nearest !== assigned) {
      transferRow(matrix, sparse, weights, i, assigned, nearest, workspace)
      labels[i] = nearest
      changed++
    }
  }
  return changed
}

/** Moves row i's weight from cluster `from` to cluster `to` in the running sums, weights and member counts. */
const transferRow = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  weights: Float64Array | undefined,
  i: number,
  from: number,
  to: number,
  workspace: KMeansWorkspace
): void => {
  const { data, columns: d } = matrix
  const { sums, counts, members } = workspace
  const w = weights === undefined ? 1 : weights[i]
  counts[from] -= w
  counts[to] += w
  members[from]--
  members[to]++
  const fromOffset = from * d
  const toOffset = to * d
  if (sparse !== undefined) {
    const { indices, values } = sparse
    for (let p = sparse.starts[i], end = sparse.starts[i + 1]; p < end; p++) {
      const x = w * values[p]
      sums[fromOffset + indices[p]] -= x
      sums[toOffset + indices[p]] += x
    }
    return
  }
  const rowOffset = i * d
  for (let j = 0; j < d; j++) {
    const x = w * data[rowOffset + j]
    sums[fromOffset + j] -= x
    sums[toOffset + j] += x
  }
}
