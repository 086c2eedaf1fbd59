/**
 * Choosing k: score every k in [kMin, kMax] by the mean silhouette (Rousseeuw 1987) and run the
 * full k-means only at the winner. Candidates are cheap: each k runs a few starts (Lloyd to a
 * loose tolerance, no Hartigan) on one seeded sample of rows shared by every k, seeded by the
 * first k centres of one k-means++ seeding at kMax per start, and its centroids
 * label a second seeded sample on which the silhouette is computed; that sample's pairwise
 * distances are computed once and reused for every candidate k (sparse rows, such as TF-IDF,
 * use a sparse dot-product path). With kMin = 1, k = 1 is chosen when no k ≥ 2 reaches
 * `minSilhouette` (Kaufman & Rousseeuw: below 0.25 there is no substantial structure).
 *
 * Why silhouette: it is scale-free, needs no reference distribution (unlike the gap
 * statistic, which costs B extra k-means runs per k), and peaks at the true k on separated
 * clusters; on a sample its cost is O(s²) per k after one O(s² d) distance pass.
 */
import { Result } from "effect"
import { deriveSeed, makeSeededRandom } from "../random/Sfc32.ts"
import { clusteringError, type ClusteringError, InvalidK } from "./ClusteringError.ts"
import { kmeansFromStarts, kmeansUnchecked, type KMeansOptions, type KMeansResult, validateKMeansOptions } from "./KMeans.ts"
import { seedKMeansPlusPlus } from "./KMeansPlusPlus.ts"
import { distinctRows, gatherRows, type PointMatrix, sampleRows, squaredDistanceAt } from "./PointMatrix.ts"

export interface AutoKOptions extends Omit<KMeansOptions, "k"> {
  /** Smallest k tried. Default 2 (1 allows "no structure", see `minSilhouette`). */
  readonly kMin?: number
  /** Largest k tried. Default min(n - 1, 20). */
  readonly kMax?: number
  /** Rows used for the silhouette when n is larger. Default 1,000. */
  readonly sampleSize?: number
  /** Rows the candidate k-means runs use when n is larger. Default max(1,024, 128·kMax). */
  readonly candidateSampleSize?: number
  /** k-means++ starts per candidate k (the chosen k then gets `restarts`). Default min(restarts, 3). */
  readonly candidateRestarts?: number
  /** With kMin = 1: below this best silhouette, k = 1. Default 0.25. */
  readonly minSilhouette?: number
  /**
   * Whether the silhouette counts each row `weight` times ("weighted", the default) or once
   * ("rows"). With deduplicated rows, "weighted" rewards giving every distinct row its own
   * cluster (its copies sit at distance 0); "rows" asks which distinct rows belong together.
   */
  readonly silhouetteOver?: "weighted" | "rows"
}

export interface AutoKResult extends KMeansResult {
  /** Mean silhouette for each k tried (k = 1 is not scored). */
  readonly silhouettes: ReadonlyArray<{ readonly k: number; readonly silhouette: number }>
}

/** Resolve the bounds for n rows; fails when they are unusable. */
export const autoKBounds = (
  n: number,
  options: Pick<AutoKOptions, "kMin" | "kMax">
): Result.Result<{ readonly kMin: number; readonly kMax: number }, ClusteringError> => {
  const kMin = options.kMin ?? Math.min(2, n)
  const kMax = options.kMax ?? Math.max(kMin, Math.min(n - 1, 20))
  const invalid = (k: number, detail: string) => Result.fail(clusteringError(new InvalidK({ k, n, detail })))
  if (!Number.isInteger(kMin) || kMin < 1) return invalid(kMin, "kMin must be an integer >= 1")
  if (!Number.isInteger(kMax) || kMax < kMin) return invalid(kMax, "kMax must be an integer >= kMin")
  if (kMin > n) return invalid(kMin, "kMin must not exceed the number of points")
  return Result.succeed({ kMin, kMax: Math.min(kMax, n) })
}

/**
 * k-means at the k (within bounds) with the best mean silhouette. Identical points (zero total
 * spread) are one cluster, k = 1, whatever kMin: there is nothing to split. Otherwise k is at
 * most the number of distinct points.
 */
export const kmeansAuto = (matrix: PointMatrix, options: AutoKOptions = {}): Result.Result<AutoKResult, ClusteringError> =>
  Result.flatMap(autoKBounds(matrix.rows, options), ({ kMin, kMax }) => {
    const distinct = distinctRows(matrix, kMax)
    if (distinct === 1) {
      return Result.map(
        validateKMeansOptions(matrix, { ...options, k: 1 }),
        () => ({ ...kmeansUnchecked(matrix, { ...options, k: 1 }), silhouettes: [] })
      )
    }
    const cappedMax = Math.max(kMin, Math.min(kMax, distinct))
    return Result.map(
      validateKMeansOptions(matrix, { ...options, k: kMin }),
      () => kmeansAutoUnchecked(matrix, options, kMin, cappedMax)
    )
  })

const kmeansAutoUnchecked = (matrix: PointMatrix, options: AutoKOptions, kMin: number, kMax: number): AutoKResult => {
  const seed = options.seed ?? 1
  const weights = options.weights
  const sample = sampleRows(matrix.rows, options.sampleSize ?? 1000, deriveSeed(seed, 0x5a11))
  const distances = pairwiseDistances(matrix, sample)
  const sampleWeights = weights === undefined || options.silhouetteOver === "rows" ? undefined : Float64Array.from(sample, (i) => weights[i])
  const candidateRows = sampleRows(matrix.rows, options.candidateSampleSize ?? Math.max(1024, 128 * kMax), deriveSeed(seed, 0xca4d))
  const candidates = candidateRows.length === matrix.rows ? matrix : gatherRows(matrix, candidateRows)
  const candidateWeights = weights === undefined || candidates === matrix ? weights : Float64Array.from(candidateRows, (i) => weights[i])
  const candidateRestarts = options.candidateRestarts ?? Math.min(options.restarts ?? 10, 3)
  const candidateOptions: KMeansOptions = {
    ...options,
    k: 1,
    ...(candidateWeights === undefined ? {} : { weights: candidateWeights }),
    restarts: candidateRestarts,
    restartSampleSize: Infinity,
    refine: false,
    tolerance: options.tolerance ?? 1e-4
  }
  // k-means++ is sequential: the first k centres of a seeding at kMax are a seeding at k. Seed once per start.
  const d = matrix.columns
  const trials = options.seedingTrials ?? 2 + Math.floor(Math.log(kMax))
  const seedings = Array.from({ length: candidateRestarts }, (_, restart) =>
    seedKMeansPlusPlus(candidates, kMax, makeSeededRandom(deriveSeed(seed, restart)), candidateWeights, trials))
  const sampleLabels = new Int32Array(sample.length)
  const silhouettes: Array<{ k: number; silhouette: number }> = []
  let bestK = 1
  let bestScore = -Infinity
  for (let k = Math.max(2, kMin); k <= kMax; k++) {
    const candidate = kmeansFromStarts(candidates, { ...candidateOptions, k }, (restart) => seedings[restart].slice(0, k * d))
    nearestCentroids(matrix, sample, candidate.centroids, k, sampleLabels)
    const score = silhouetteFromDistances(distances, sample.length, sampleLabels, k, sampleWeights)
    silhouettes.push({ k, silhouette: score })
    if (score > bestScore + 1e-12) {
      bestScore = score
      bestK = k
    }
  }
  const minSilhouette = options.minSilhouette ?? 0.25
  const chosenK = kMin === 1 && bestScore < minSilhouette ? 1 : bestK
  return { ...kmeansUnchecked(matrix, { ...options, k: chosenK }), silhouettes }
}

/** The nearest of k centroids for each of the given rows, into `out`. */
const nearestCentroids = (matrix: PointMatrix, rows: Int32Array, centroids: Float64Array, k: number, out: Int32Array): void => {
  const { data, columns: d } = matrix
  for (let a = 0; a < rows.length; a++) {
    let best = Infinity
    let bestIndex = 0
    for (let c = 0; c < k; c++) {
      const distance = squaredDistanceAt(data, rows[a] * d, centroids, c * d, d)
      if (distance < best) {
        best = distance
        bestIndex = c
      }
    }
    out[a] = bestIndex
  }
}

/** Euclidean distances between the given rows, as a dense s × s matrix. */
export const pairwiseDistances = (matrix: PointMatrix, rows: Int32Array): Float64Array => {
  const { data, columns: d } = matrix
  const s = rows.length
  const out = new Float64Array(s * s)
  let nonZero = 0
  for (let a = 0; a < s; a++) {
    const offset = rows[a] * d
    for (let j = 0; j < d; j++) if (data[offset + j] !== 0) nonZero++
  }
  if (nonZero < 0.1 * s * d) {
    // Sparse rows: ‖x−y‖² = ‖x‖² + ‖y‖² − 2 x·y over the non-zeros only.
    const starts = new Int32Array(s + 1)
    const indices = new Int32Array(nonZero)
    const values = new Float64Array(nonZero)
    const norms = new Float64Array(s)
    let at = 0
    for (let a = 0; a < s; a++) {
      starts[a] = at
      const offset = rows[a] * d
      for (let j = 0; j < d; j++) {
        const value = data[offset + j]
        if (value !== 0) {
          indices[at] = j
          values[at++] = value
          norms[a] += value * value
        }
      }
    }
    starts[s] = at
    const dense = new Float64Array(d)
    for (let a = 0; a < s; a++) {
      for (let p = starts[a]; p < starts[a + 1]; p++) dense[indices[p]] = values[p]
      for (let b = a + 1; b < s; b++) {
        let dot = 0
        for (let p = starts[b]; p < starts[b + 1]; p++) dot += dense[indices[p]] * values[p]
        const squared = norms[a] + norms[b] - 2 * dot
        const distance = squared > 0 ? Math.sqrt(squared) : 0
        out[a * s + b] = distance
        out[b * s + a] = distance
      }
      for (let p = starts[a]; p < starts[a + 1]; p++) dense[indices[p]] = 0
    }
    return out
  }
  for (let a = 0; a < s; a++) {
    const aOffset = rows[a] * d
    for (let b = a + 1; b < s; b++) {
      const bOffset = rows[b] * d
      let sum = 0
      for (let j = 0; j < d; j++) {
        const x = data[aOffset + j] - data[bOffset + j]
        sum += x * x
      }
      const distance = Math.sqrt(sum)
      out[a * s + b] = distance
      out[b * s + a] = distance
    }
  }
  return out
}

/**
 * Mean silhouette from an s × s distance matrix. With weights (row multiplicities) each row
 * stands for w identical points: a(i) = Σ_{j∈A} w_j d_ij / (W_A − 1), b(i) = min_B Σ_{j∈B} w_j d_ij / W_B,
 * and the mean is weighted by w. A point alone in its cluster scores 0.
 */
export const silhouetteFromDistances = (
  distances: Float64Array,
  s: number,
  labels: Int32Array,
  k: number,
  weights?: Float64Array
): number => {
  const clusterWeight = new Float64Array(k)
  for (let i = 0; i < s; i++) clusterWeight[labels[i]] += weights === undefined ? 1 : weights[i]
  const totals = new Float64Array(k)
  let sum = 0
  let weightSum = 0
  for (let i = 0; i < s; i++) {
    totals.fill(0)
    for (let j = 0; j < s; j++) totals[labels[j]] += (weights === undefined ? 1 : weights[j]) * distances[i * s + j]
    const own = labels[i]
    const w = weights === undefined ? 1 : weights[i]
    weightSum += w
    if (clusterWeight[own] - 1 <= 0) continue
    const a = totals[own] / (clusterWeight[own] - 1)
    let b = Infinity
    for (let c = 0; c < k; c++) {
      if (c === own || clusterWeight[c] === 0) continue
      const mean = totals[c] / clusterWeight[c]
      if (mean < b) b = mean
    }
    if (b === Infinity) continue
    const denominator = a > b ? a : b
    sum += w * (denominator === 0 ? 0 : (b - a) / denominator)
  }
  return weightSum === 0 ? 0 : sum / weightSum
}
