/**
 * Weighted average-linkage (UPGMA) agglomerative clustering cut at a distance threshold:
 * the two clusters with the smallest mean pairwise distance merge while that distance is
 * below `threshold`. Used to choose k for text, where a similarity scale is meaningful
 * (unit vectors: distance² = 2 − 2·cosine) and exact duplicates make silhouette degenerate.
 * O(n²) memory: callers keep n to a few thousand rows.
 */
import { type PointMatrix, squaredDistanceAt } from "./PointMatrix.ts"
import { sparseRowsOf } from "./SparseRows.ts"

export interface AverageLinkageResult {
  readonly k: number
  /** Group of each row, 0 … k-1, numbered by first row. */
  readonly labels: Int32Array
}

/** Groups of rows whose average-linkage distance stays below `threshold`. Deterministic (ties: lowest index). */
export const averageLinkage = (matrix: PointMatrix, threshold: number, weights?: Float64Array): AverageLinkageResult => {
  const { data, rows: n, columns: d } = matrix
  const distance = new Float64Array(n * n)
  const sparse = sparseRowsOf(matrix)
  if (sparse !== undefined) {
    // Mostly-zero rows (TF-IDF): |a − b|² = |a|² + |b|² − 2 a·b, with a scattered once and b read through its non-zeros.
    const { indices, norms, starts, values } = sparse
    for (let a = 0; a < n; a++) {
      const row = data.subarray(a * d, (a + 1) * d)
      for (let b = a + 1; b < n; b++) {
        let dot = 0
        for (let p = starts[b], end = starts[b + 1]; p < end; p++) dot += row[indices[p]] * values[p]
        const value = Math.sqrt(Math.max(0, norms[a] + norms[b] - 2 * dot))
        distance[a * n + b] = value
        distance[b * n + a] = value
      }
    }
  } else {
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const value = Math.sqrt(squaredDistanceAt(data, a * d, data, b * d, d))
        distance[a * n + b] = value
        distance[b * n + a] = value
      }
    }
  }
  const size = Float64Array.from({ length: n }, (_, i) => (weights === undefined ? 1 : weights[i]))
  const alive = new Uint8Array(n).fill(1)
  const parent = Int32Array.from({ length: n }, (_, i) => i)
  const nearest = new Int32Array(n)
  const nearestDistance = new Float64Array(n)
  const refresh = (a: number) => {
    let best = -1
    let bestDistance = Infinity
    for (let b = 0; b < n; b++) {
      if (b === a || alive[b] === 0) continue
      if (distance[a * n + b] < bestDistance) {
        bestDistance = distance[a * n + b]
        best = b
      }
    }
    nearest[a] = best
    nearestDistance[a] = bestDistance
  }
  for (let a = 0; a < n; a++) refresh(a)
  for (let merges = 0; merges < n - 1; merges++) {
    let a = -1
    let bestDistance = Infinity
    for (let i = 0; i < n; i++) {
      if (alive[i] === 1 && nearestDistance[i] < bestDistance) {
        bestDistance = nearestDistance[i]
        a = i
      }
    }
    if (a === -1 || !(bestDistance < threshold)) break
    const b = nearest[a]
    const keep = Math.min(a, b)
    const drop = Math.max(a, b)
    for (let c = 0; c < n; c++) {
      if (alive[c] === 0 || c === keep || c === drop) continue
      const merged = (size[keep] * distance[keep * n + c] + size[drop] * distance[drop * n + c]) / (size[keep] + size[drop])
      distance[keep * n + c] = merged
      distance[c * n + keep] = merged
    }
    size[keep] += size[drop]
    alive[drop] = 0
    parent[drop] = keep
    for (let c = 0; c < n; c++) {
      if (alive[c] === 0) continue
      if (c === keep || nearest[c] === keep || nearest[c] === drop) refresh(c)
      else if (distance[c * n + keep] < nearestDistance[c]) {
        nearest[c] = keep
        nearestDistance[c] = distance[c * n + keep]
      }
    }
  }
  const root = (i: number): number => (parent[i] === i ? i : root(parent[i]))
  const ids = new Map<number, number>()
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const r = root(i)
    if (!ids.has(r)) ids.set(r, ids.size)
    labels[i] = ids.get(r)!
  }
  return { k: ids.size, labels }
}
