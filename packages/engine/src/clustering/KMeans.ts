/**
 * k-means over a row-major `Float64Array`: greedy k-means++ seeding, restarts (best inertia wins;
 * they stop early once the best optimum keeps recurring, and compete on a row sample when n is
 * large), Hamerly's bounds so that once assignments settle most points skip the k-centroid scan,
 * and a bound-pruned Hartigan refinement. Mostly-zero rows (TF-IDF) are measured through a CSR
 * view (`SparseRows.ts`). Optional per-row weights (a row standing for `w` identical points) so
 * callers can cluster deduplicated rows. Pure and deterministic for a seed; validation returns a `Result`.
 *
 * Owns the options, their validation and the restarts; the steps are their own modules:
 * `KMeansPlusPlus.ts` (seeding), `HamerlyLloyd.ts` (Lloyd), `HartiganRefinement.ts`, over the
 * shared `KMeansWorkspace.ts` and `Centroids.ts`. Does not choose k (see `AutoK.ts`) and does not
 * embed text (see `HashedTfIdfEmbedding.ts`).
 */
import { Result } from "effect"
import { deriveSeed, makeSeededRandom } from "../random/Sfc32.ts"
import { clusteringError, type ClusteringError, InvalidArgument, InvalidK } from "./ClusteringError.ts"
import { type LloydOptions, lloyd } from "./HamerlyLloyd.ts"
import { hartiganRefine } from "./HartiganRefinement.ts"
import { seedKMeansPlusPlus } from "./KMeansPlusPlus.ts"
import { type KMeansRun, makeKMeansWorkspace } from "./KMeansWorkspace.ts"
import { distinctRows, gatherRows, type PointMatrix, sampleRows } from "./PointMatrix.ts"

export interface KMeansOptions extends LloydOptions {
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
  /** k-means++ candidates per centre ("greedy k-means++"); 1 is classic k-means++. Default 2 + ⌊ln k⌋ (as scikit-learn and ml-kmeans). */
  readonly seedingTrials?: number
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

/** A run with the inertia of every start. */
export interface KMeansResult extends KMeansRun {
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
  let best: KMeansRun | undefined
  let repeats = 0
  const restartInertias: Array<number> = []
  const workspace = makeKMeansWorkspace(startMatrix, options.k)
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
    const fullWorkspace = makeKMeansWorkspace(matrix, options.k)
    const fixedPoint = lloyd(matrix, best!.centroids, options, fullWorkspace)
    best = refine ? hartiganRefine(matrix, fixedPoint, options.weights, fullWorkspace) : fixedPoint
  }
  const { centroids, converged, inertia, iterations, k, labels } = best!
  return { k, labels, centroids, inertia, iterations, converged, restartInertias }
}
