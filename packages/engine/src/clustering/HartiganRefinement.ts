/**
 * Hartigan's single-point moves after Lloyd (Hartigan 1975; Telgarsky & Vattani 2010), not the
 * Hartigan–Wong transfer stages: move a row when that lowers the total inertia, accounting for
 * both centroids moving, until no move helps (at most 50 passes). Never raises the inertia of the
 * Lloyd fixed point. Rows are skipped with Hamerly bounds, loosened lazily by the centroids'
 * drift. Owns the refinement of one run; not Lloyd (`HamerlyLloyd.ts`).
 */
import { recomputeCentroids, sparseAwareInertia } from "./Centroids.ts"
import type { LloydRun } from "./HamerlyLloyd.ts"
import type { KMeansRun, KMeansWorkspace } from "./KMeansWorkspace.ts"
import type { PointMatrix } from "./PointMatrix.ts"
import { rowSquaredDistance, squaredNormAt, squaredNormsInto } from "./SparseRows.ts"

/**
 * Hartigan's rule: move row i from A to B when w·W_B/(W_B+w)·‖x−c_B‖² < w·W_A/(W_A−w)·‖x−c_A‖².
 * Rows are skipped with Hamerly bounds (upper u on ‖x−c_A‖, lower l on every other ‖x−c_B‖):
 * no move can pay when W_min/(W_min+w)·l² ≥ W_A/(W_A−w)·u². Each move shifts two centroids;
 * the bounds are loosened lazily by the centroids' cumulative drift since the row was last
 * measured (its own centroid's drift for u, the running sum of the larger shift per move for l).
 */
export const hartiganRefine = (
  matrix: PointMatrix,
  run: LloydRun,
  weights: Float64Array | undefined,
  workspace: KMeansWorkspace
): KMeansRun => {
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
      const fromDistance = rowSquaredDistance(data, d, sparse, i, centroids, from * d, centroidNorms[from])
      const removeGain = w * removeFactor * fromDistance
      let bestCost = removeGain
      let to = from
      // The two nearest other centroids, for the bounds after a move.
      let nearestOther = Infinity
      let nearestOtherIndex = -1
      let secondOther = Infinity
      for (let c = 0; c < k; c++) {
        if (c === from) continue
        const distance = rowSquaredDistance(data, d, sparse, i, centroids, c * d, centroidNorms[c])
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
      upper[i] = Math.sqrt(rowSquaredDistance(data, d, sparse, i, centroids, to * d, centroidNorms[to]))
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
