/**
 * k-means over a row-major `Float64Array`: greedy k-means++ seeding, restarts (best inertia wins;
 * they stop early once the best optimum keeps recurring, and compete on a row sample when n is
 * large), Hamerly's bounds so that once assignments settle most points skip the k-centroid scan,
 * and a bound-pruned Hartigan refinement. Mostly-zero rows (TF-IDF) are measured through a CSR
 * view (`SparseRows.ts`). Optional per-row weights (a row standing for `w` identical points) so
 * callers can cluster deduplicated rows. Pure and deterministic for a seed; validation returns a `Result`.
 *
 * Does not choose k (see `AutoK.ts`) and does not embed text (see `HashedTfIdf.ts`).
 */
import { Result } from "effect"
import { clusteringError, type ClusteringError, InvalidArgument, InvalidK } from "./ClusteringError.ts"
import { distinctRows, gatherRows, type PointMatrix, sampleRows, squaredDistanceAt } from "./PointMatrix.ts"
import { deriveSeed, makeSeededRandom, type SeededRandom } from "./SeededRandom.ts"
import { type SparseRows, sparseRowsOf, sparseSquaredDistance, squaredNormsInto } from "./SparseRows.ts"

/** ‖row i − vectors[offset …]‖², through the CSR view when the rows are sparse. */
const rowDistance = (
  data: Float64Array,
  d: number,
  sparse: SparseRows | undefined,
  i: number,
  vectors: Float64Array,
  offset: number,
  vectorNorm: number
): number => sparse === undefined ? squaredDistanceAt(data, i * d, vectors, offset, d) : sparseSquaredDistance(sparse, i, vectors, offset, vectorNorm)

export interface KMeansOptions {
  readonly k: number
  /** Seed of the run; restart r uses `deriveSeed(seed, r)`. Default 1. */
  readonly seed?: number
  /** Independent k-means++ starts (at most); the lowest inertia wins (ties: the earliest). Default 10. */
  readonly restarts?: number
  /**
   * Stop starting new runs once this many starts have reached the best inertia so far (to a
   * relative 1e-9): the same optimum found again and again is rarely beaten by further starts,
   * while data with many competing optima (overlapping clusters) still gets every start.
   * `Infinity` always runs all `restarts`. Default 3.
   */
  readonly stopAfterRepeats?: number
  /** Lloyd iterations per start. Default 300. */
  readonly maxIterations?: number
  /**
   * Stop a start when no centroid moved more than `tolerance` × (root mean per-column variance).
   * Default 0: run until no assignment changes (exact Lloyd fixed point).
   */
  readonly tolerance?: number
  /** k-means++ candidates per centre ("greedy k-means++"); 1 is classic k-means++. Default 2 + ⌊ln k⌋ (as scikit-learn and ml-kmeans). */
  readonly seedingTrials?: number
  /** Row weights (multiplicities), all finite and > 0. Default: all 1. */
  readonly weights?: Float64Array
  /**
   * When n exceeds this, the restarts compete on a seeded uniform sample of this many rows
   * and only the winner's centroids are refined on all rows (Bradley & Fayyad 1998, "Refining
   * initial points for k-means clustering"). `Infinity` runs every restart on all rows. Default max(1,024, 128·k).
   */
  readonly restartSampleSize?: number
  /**
   * After Lloyd converges, apply Hartigan's single-point moves (moving a row when that lowers
   * the total inertia, accounting for both centroids moving) until none helps. Never raises the
   * inertia of the Lloyd fixed point (Telgarsky & Vattani 2010). Applied to each start on all rows,
   * or only to the final run when the starts compete on a sample. Rows whose Hamerly bounds
   * show no move can pay are skipped. Default true.
   */
  readonly refine?: boolean
}

export interface KMeansResult {
  readonly k: number
  /** Cluster of each row, 0 … k-1. */
  readonly labels: Int32Array
  /** k × columns, row-major. */
  readonly centroids: Float64Array
  /** Weighted sum of squared distances of rows to their centroid. */
  readonly inertia: number
  /** Iterations of the winning start. */
  readonly iterations: number
  /** Whether the winning start reached a fixed point (or the tolerance) before `maxIterations`. */
  readonly converged: boolean
  /** Inertia of every start, in order — on the restart sample when n > restartSampleSize. */
  readonly restartInertias: ReadonlyArray<number>
}

/** Checks k and the options against the matrix; the matrix itself is checked by `PointMatrix`. */
export const validateKMeansOptions = (
  matrix: PointMatrix,
  options: KMeansOptions
): Result.Result<void, ClusteringError> => {
  const { k } = options
  if (!Number.isInteger(k) || k < 1) {
    return Result.fail(clusteringError(new InvalidK({ k, n: matrix.rows, detail: "k must be an integer >= 1" })))
  }
  if (k > matrix.rows) {
    return Result.fail(clusteringError(new InvalidK({ k, n: matrix.rows, detail: "k must not exceed the number of points" })))
  }
  if (k > 1) {
    // k clusters need k distinct points: with fewer, some cluster would be an arbitrary split of identical points.
    const distinct = distinctRows(matrix, k)
    if (distinct < k) {
      return Result.fail(clusteringError(new InvalidK({
        k,
        n: matrix.rows,
        detail: `k exceeds the ${distinct} distinct point${distinct === 1 ? "" : "s"}`
      })))
    }
  }
  const positiveInt = (name: string, value: number | undefined) =>
    value !== undefined && (!Number.isInteger(value) || value < 1)
      ? Result.fail(clusteringError(new InvalidArgument({ argument: name, detail: `must be an integer >= 1, got ${value}` })))
      : undefined
  const bad = positiveInt("restarts", options.restarts) ?? positiveInt("maxIterations", options.maxIterations) ??
    positiveInt("seedingTrials", options.seedingTrials)
  if (bad !== undefined) return bad
  const repeats = options.stopAfterRepeats
  if (repeats !== undefined && !(repeats === Infinity || (Number.isInteger(repeats) && repeats >= 1))) {
    return Result.fail(clusteringError(new InvalidArgument({ argument: "stopAfterRepeats", detail: `must be an integer >= 1 or Infinity, got ${repeats}` })))
  }
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    return Result.fail(clusteringError(new InvalidArgument({ argument: "seed", detail: "must be finite" })))
  }
  if (options.tolerance !== undefined && !(options.tolerance >= 0 && Number.isFinite(options.tolerance))) {
    return Result.fail(clusteringError(new InvalidArgument({ argument: "tolerance", detail: "must be finite and >= 0" })))
  }
  const weights = options.weights
  if (weights !== undefined) {
    if (weights.length !== matrix.rows) {
      return Result.fail(clusteringError(new InvalidArgument({ argument: "weights", detail: `has ${weights.length} entries for ${matrix.rows} rows` })))
    }
    for (let i = 0; i < weights.length; i++) {
      if (!(weights[i] > 0 && Number.isFinite(weights[i]))) {
        return Result.fail(clusteringError(new InvalidArgument({ argument: "weights", detail: `weight ${i} is ${weights[i]}, must be finite and > 0` })))
      }
    }
  }
  return Result.succeed(undefined)
}

/** k-means with restarts; fails with a ClusteringError on bad k or options. */
export const kmeans = (matrix: PointMatrix, options: KMeansOptions): Result.Result<KMeansResult, ClusteringError> =>
  Result.map(validateKMeansOptions(matrix, options), () => kmeansUnchecked(matrix, options))

/** k-means with restarts on input already validated (no checks: the hot path for callers that validated once). */
export const kmeansUnchecked = (matrix: PointMatrix, options: KMeansOptions): KMeansResult =>
  kmeansFromStarts(matrix, options, undefined)

/**
 * Like `kmeansUnchecked`, with the initial centroids of start r given by `startAt(r)` (a fresh
 * k × columns array, overwritten) instead of k-means++ seeding: for example the first k centres
 * of one k-means++ seeding at a larger k, which is itself a k-means++ seeding at k (AutoK).
 */
export const kmeansFromStarts = (
  matrix: PointMatrix,
  options: KMeansOptions,
  startAt: ((restart: number) => Float64Array) | undefined
): KMeansResult => {
  const seed = options.seed ?? 1
  const restarts = options.restarts ?? 10
  const sampleSize = options.restartSampleSize ?? Math.max(1024, 128 * options.k)
  const refine = options.refine !== false && options.k > 1
  const onSample = restarts > 1 && matrix.rows > sampleSize && sampleSize >= options.k
  const sampleIndices = onSample ? sampleRows(matrix.rows, sampleSize, deriveSeed(seed, 0x5eed)) : undefined
  const startMatrix = sampleIndices === undefined ? matrix : gatherRows(matrix, sampleIndices)
  const startWeights = sampleIndices === undefined || options.weights === undefined
    ? options.weights
    : Float64Array.from(sampleIndices, (i) => options.weights![i])
  const startOptions: KMeansOptions = startWeights === undefined ? options : { ...options, weights: startWeights }
  const stopAfterRepeats = options.stopAfterRepeats ?? 3
  const trials = options.seedingTrials ?? 2 + Math.floor(Math.log(options.k))
  let best: Omit<KMeansResult, "restartInertias"> | undefined
  let repeats = 0
  const restartInertias: Array<number> = []
  const workspace = makeWorkspace(startMatrix, options.k)
  for (let restart = 0; restart < restarts && repeats < stopAfterRepeats; restart++) {
    const centroids = startAt !== undefined
      ? startAt(restart)
      : seedKMeansPlusPlus(startMatrix, options.k, makeSeededRandom(deriveSeed(seed, restart)), startWeights, trials, workspace.minDistance, workspace.nearest, workspace.sparse)
    const fixedPoint = lloyd(startMatrix, centroids, startOptions, workspace)
    // On a sample, the winner is refined on all rows anyway: Hartigan on each start would only re-rank them.
    const run = refine && sampleIndices === undefined ? hartiganRefine(startMatrix, fixedPoint, startWeights, workspace) : fixedPoint
    restartInertias.push(run.inertia)
    if (best !== undefined && Math.abs(run.inertia - best.inertia) <= 1e-9 * Math.abs(best.inertia)) repeats++
    else if (best === undefined || run.inertia < best.inertia) {
      best = run
      repeats = 1
    }
  }
  if (sampleIndices !== undefined) {
    const fullWorkspace = makeWorkspace(matrix, options.k)
    const fixedPoint = lloyd(matrix, best!.centroids, options, fullWorkspace)
    best = refine ? hartiganRefine(matrix, fixedPoint, options.weights, fullWorkspace) : fixedPoint
  }
  const { centroids, converged, inertia, iterations, k, labels } = best!
  return { k, labels, centroids, inertia, iterations, converged, restartInertias }
}

/** Lloyd iterations (Hamerly-accelerated) from the given initial centroids, which are overwritten. */
export const lloydFrom = (matrix: PointMatrix, centroids: Float64Array, options: KMeansOptions): Omit<KMeansResult, "restartInertias"> => {
  const { boundsValid: _, ...run } = lloyd(matrix, centroids, options, makeWorkspace(matrix, options.k))
  return run
}

/** A Lloyd fixed point, and whether the workspace's Hamerly bounds hold for its centroids. */
interface LloydRun extends Omit<KMeansResult, "restartInertias"> {
  readonly boundsValid: boolean
}

interface Workspace {
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

const makeWorkspace = (matrix: PointMatrix, k: number): Workspace => ({
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

/**
 * Weighted k-means++ (with `trials` candidates per centre, keeping the one that lowers the
 * potential most). Exact, with triangle-inequality pruning: a row whose nearest centre c lies at
 * distance m cannot get closer to a candidate x when ‖x − c‖ ≥ 2m, so it is skipped.
 */
export const seedKMeansPlusPlus = (
  matrix: PointMatrix,
  k: number,
  random: SeededRandom,
  weights: Float64Array | undefined,
  trials: number,
  minDistance: Float64Array = new Float64Array(matrix.rows),
  nearest: Int32Array = new Int32Array(matrix.rows),
  sparse: SparseRows | undefined = undefined
): Float64Array => {
  const { data, rows: n, columns: d } = matrix
  const centroids = new Float64Array(k * d)
  nearest.fill(0)
  const centreGap = new Float64Array(k)
  let totalWeight = n
  if (weights !== undefined) {
    totalWeight = 0
    for (let i = 0; i < n; i++) totalWeight += weights[i]
  }
  let target = random.next() * totalWeight
  let first = n - 1
  for (let i = 0; i < n; i++) {
    target -= weights === undefined ? 1 : weights[i]
    if (target < 0) {
      first = i
      break
    }
  }
  centroids.set(data.subarray(first * d, first * d + d), 0)
  const firstNorm = sparse === undefined ? 0 : sparse.norms[first]
  let potential = 0
  for (let i = 0; i < n; i++) {
    minDistance[i] = rowDistance(data, d, sparse, i, data, first * d, firstNorm)
    potential += (weights === undefined ? 1 : weights[i]) * minDistance[i]
  }
  for (let c = 1; c < k; c++) {
    let chosen = sampleByPotential(random, minDistance, weights, n, potential)
    if (trials > 1) {
      let bestPotential = Infinity
      for (let t = 0; t < trials; t++) {
        const candidate = t === 0 ? chosen : sampleByPotential(random, minDistance, weights, n, potential)
        gapsTo(data, d, candidate, centroids, c, centreGap)
        const candidatePotential = potentialWith(matrix, sparse, weights, candidate, minDistance, nearest, centreGap)
        if (candidatePotential < bestPotential) {
          bestPotential = candidatePotential
          chosen = candidate
        }
      }
    }
    gapsTo(data, d, chosen, centroids, c, centreGap)
    centroids.set(data.subarray(chosen * d, chosen * d + d), c * d)
    potential = addCentre(matrix, sparse, weights, chosen, c, minDistance, nearest, centreGap)
  }
  return centroids
}

/** A row drawn with probability proportional to weight × squared distance to the nearest centre. */
const sampleByPotential = (
  random: SeededRandom,
  minDistance: Float64Array,
  weights: Float64Array | undefined,
  n: number,
  potential: number
): number => {
  if (!(potential > 0)) return random.nextInt(n)
  let remaining = random.next() * potential
  for (let i = 0; i < n; i++) {
    remaining -= (weights === undefined ? 1 : weights[i]) * minDistance[i]
    if (remaining < 0) return i
  }
  for (let i = n - 1; i >= 0; i--) if (minDistance[i] > 0) return i
  return n - 1
}

/** Squared distances from row `candidate` to the chosen centres 0 … chosen-1, into `centreGap`. */
const gapsTo = (data: Float64Array, d: number, candidate: number, centroids: Float64Array, chosen: number, centreGap: Float64Array): void => {
  for (let c = 0; c < chosen; c++) centreGap[c] = squaredDistanceAt(data, candidate * d, centroids, c * d, d)
}

/** The potential if row `candidate` were added as a centre (rows it cannot be nearer to are skipped). */
const potentialWith = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  weights: Float64Array | undefined,
  candidate: number,
  minDistance: Float64Array,
  nearest: Int32Array,
  centreGap: Float64Array
): number => {
  const { data, rows: n, columns: d } = matrix
  const candidateNorm = sparse === undefined ? 0 : sparse.norms[candidate]
  let total = 0
  for (let i = 0; i < n; i++) {
    const current = minDistance[i]
    const w = weights === undefined ? 1 : weights[i]
    if (centreGap[nearest[i]] >= 4 * current) {
      total += w * current
      continue
    }
    const distance = rowDistance(data, d, sparse, i, data, candidate * d, candidateNorm)
    total += w * (distance < current ? distance : current)
  }
  return total
}

/** Adds row `chosen` as centre c: updates each row's nearest centre and distance; returns the new potential. */
const addCentre = (
  matrix: PointMatrix,
  sparse: SparseRows | undefined,
  weights: Float64Array | undefined,
  chosen: number,
  c: number,
  minDistance: Float64Array,
  nearest: Int32Array,
  centreGap: Float64Array
): number => {
  const { data, rows: n, columns: d } = matrix
  const chosenNorm = sparse === undefined ? 0 : sparse.norms[chosen]
  let potential = 0
  for (let i = 0; i < n; i++) {
    if (centreGap[nearest[i]] < 4 * minDistance[i]) {
      const distance = rowDistance(data, d, sparse, i, data, chosen * d, chosenNorm)
      if (distance < minDistance[i]) {
        minDistance[i] = distance
        nearest[i] = c
      }
    }
    potential += (weights === undefined ? 1 : weights[i]) * minDistance[i]
  }
  return potential
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
const lloyd = (
  matrix: PointMatrix,
  centroids: Float64Array,
  options: KMeansOptions,
  workspace: Workspace
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
    const distance = rowDistance(data, d, sparse, i, centroids, c * d, centroidNorms[c])
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
  workspace: Workspace
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
const loosenBounds = (labels: Int32Array, n: number, k: number, workspace: Workspace, emptied: boolean): void => {
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
  workspace: Workspace
): number => {
  const { data, rows: n, columns: d } = matrix
  const { upper, lower, halfGap, centroidNorms } = workspace
  let changed = 0
  for (let i = 0; i < n; i++) {
    const assigned = labels[i]
    const bound = halfGap[assigned] > lower[i] ? halfGap[assigned] : lower[i]
    if (upper[i] <= bound) continue
    upper[i] = Math.sqrt(rowDistance(data, d, sparse, i, centroids, assigned * d, centroidNorms[assigned]))
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
  workspace: Workspace
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

const squaredNormAt = (vectors: Float64Array, offset: number, d: number): number => {
  let norm = 0
  for (let j = 0; j < d; j++) norm += vectors[offset + j] * vectors[offset + j]
  return norm
}

/** Weighted per-cluster sums of the rows (dense k × columns) and weights, from the labels. */
const sumRows = (
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

const recomputeCentroids = (
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
const sparseAwareInertia = (
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

/**
 * Hartigan's rule: move row i from A to B when w·W_B/(W_B+w)·‖x−c_B‖² < w·W_A/(W_A−w)·‖x−c_A‖².
 * Rows are skipped with Hamerly bounds (upper u on ‖x−c_A‖, lower l on every other ‖x−c_B‖):
 * no move can pay when W_min/(W_min+w)·l² ≥ W_A/(W_A−w)·u². Each move shifts two centroids;
 * the bounds are loosened lazily by the centroids' cumulative drift since the row was last
 * measured (its own centroid's drift for u, the running sum of the larger shift per move for l).
 */
const hartiganRefine = (
  matrix: PointMatrix,
  run: LloydRun,
  weights: Float64Array | undefined,
  workspace: Workspace
): Omit<KMeansResult, "restartInertias"> => {
  const { data, rows: n, columns: d } = matrix
  const k = run.k
  const labels = run.labels
  const centroids = run.centroids
  const { upper, lower, sparse, centroidNorms } = workspace
  if (!run.boundsValid) {
    upper.fill(Infinity)
    lower.fill(0)
  }
  // Cumulative drift of each centroid, and of "the farther-moving centroid of each move", since the start.
  const drift = new Float64Array(k)
  let driftOfAny = 0
  const upperStamp = new Float64Array(n)
  const lowerStamp = new Float64Array(n)
  const counts = new Float64Array(k)
  for (let i = 0; i < n; i++) counts[labels[i]] += weights === undefined ? 1 : weights[i]
  let minCount = Infinity
  for (let c = 0; c < k; c++) if (counts[c] < minCount) minCount = counts[c]
  let moves = 0
  for (let pass = 0; pass < 50; pass++) {
    let movedThisPass = 0
    for (let i = 0; i < n; i++) {
      const from = labels[i]
      const w = weights === undefined ? 1 : weights[i]
      const fromCount = counts[from]
      if (fromCount - w <= 0) continue
      const removeFactor = fromCount / (fromCount - w)
      const addFactor = minCount / (minCount + w)
      const rowUpper = upper[i] + (drift[from] - upperStamp[i])
      const rowLower = lower[i] - (driftOfAny - lowerStamp[i])
      if (rowLower > 0 && addFactor * rowLower * rowLower >= removeFactor * rowUpper * rowUpper) continue
      const rowOffset = i * d
      const fromDistance = rowDistance(data, d, sparse, i, centroids, from * d, centroidNorms[from])
      const removeGain = w * removeFactor * fromDistance
      let bestCost = removeGain
      let to = from
      // The two nearest other centroids, for the bounds after a move.
      let nearestOther = Infinity
      let nearestOtherIndex = -1
      let secondOther = Infinity
      for (let c = 0; c < k; c++) {
        if (c === from) continue
        const distance = rowDistance(data, d, sparse, i, centroids, c * d, centroidNorms[c])
        if (distance < nearestOther) {
          secondOther = nearestOther
          nearestOther = distance
          nearestOtherIndex = c
        } else if (distance < secondOther) secondOther = distance
        const cost = (w * counts[c] / (counts[c] + w)) * distance
        if (cost < bestCost) {
          bestCost = cost
          to = c
        }
      }
      if (to === from || bestCost >= removeGain * (1 - 1e-12)) {
        upper[i] = Math.sqrt(fromDistance)
        upperStamp[i] = drift[from]
        lower[i] = Math.sqrt(nearestOther)
        lowerStamp[i] = driftOfAny
        continue
      }
      // Move the row and update both centroids incrementally.
      const fromWeight = fromCount - w
      const toWeight = counts[to] + w
      let fromShift = 0
      let toShift = 0
      for (let j = 0; j < d; j++) {
        const x = data[rowOffset + j]
        const fromOld = centroids[from * d + j]
        const toOld = centroids[to * d + j]
        const fromNew = (fromOld * fromCount - w * x) / fromWeight
        const toNew = (toOld * counts[to] + w * x) / toWeight
        centroids[from * d + j] = fromNew
        centroids[to * d + j] = toNew
        fromShift += (fromNew - fromOld) * (fromNew - fromOld)
        toShift += (toNew - toOld) * (toNew - toOld)
      }
      fromShift = Math.sqrt(fromShift)
      toShift = Math.sqrt(toShift)
      if (sparse !== undefined) {
        centroidNorms[from] = squaredNormAt(centroids, from * d, d)
        centroidNorms[to] = squaredNormAt(centroids, to * d, d)
      }
      // Row i's lower bound was measured before this move, whose larger shift it then absorbs via driftOfAny.
      lower[i] = Math.sqrt(Math.min(fromDistance, nearestOtherIndex === to ? secondOther : nearestOther))
      lowerStamp[i] = driftOfAny
      drift[from] += fromShift
      drift[to] += toShift
      driftOfAny += fromShift > toShift ? fromShift : toShift
      upper[i] = Math.sqrt(rowDistance(data, d, sparse, i, centroids, to * d, centroidNorms[to]))
      upperStamp[i] = drift[to]
      const toCount = counts[to]
      counts[from] = fromWeight
      counts[to] = toWeight
      if (fromWeight < minCount) minCount = fromWeight
      else if (toCount <= minCount) {
        minCount = Infinity
        for (let c = 0; c < k; c++) if (counts[c] < minCount) minCount = counts[c]
      }
      labels[i] = to
      movedThisPass++
    }
    moves += movedThisPass
    if (movedThisPass === 0) break
  }
  if (moves === 0) return run
  recomputeCentroids(matrix, labels, weights, centroids, k, workspace.sums, workspace.counts, sparse)
  if (sparse !== undefined) squaredNormsInto(centroids, k, d, centroidNorms)
  return { ...run, labels, centroids, inertia: sparseAwareInertia(matrix, labels, centroids, weights, sparse, centroidNorms) }
}
