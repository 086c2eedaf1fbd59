/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007), weighted and greedy (several candidates per
 * centre, as scikit-learn and ml-kmeans), exact with triangle-inequality pruning. Owns the
 * initial centroids of a start; does not iterate them (see `HamerlyLloyd.ts`).
 */
import type { SeededRandom } from "../random/Sfc32.ts"
import { type PointMatrix, squaredDistanceAt } from "./PointMatrix.ts"
import { rowSquaredDistance, type SparseRows } from "./SparseRows.ts"

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
    minDistance[i] = rowSquaredDistance(data, d, sparse, i, data, first * d, firstNorm)
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
    const distance = rowSquaredDistance(data, d, sparse, i, data, candidate * d, candidateNorm)
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
      const distance = rowSquaredDistance(data, d, sparse, i, data, chosen * d, chosenNorm)
      if (distance < minDistance[i]) {
        minDistance[i] = distance
        nearest[i] = c
      }
    }
    potential += (weights === undefined ? 1 : weights[i]) * minDistance[i]
  }
  return potential
}
