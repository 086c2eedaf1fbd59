/**
 * Seeded synthetic data with known labels, for tests and the benchmark: isotropic gaussian
 * blobs (like scikit-learn's `make_blobs`). Not used by the clustering itself.
 */
import { type PointMatrix, squaredDistanceAt } from "../clustering/PointMatrix.ts"
import { makeSeededRandom } from "../random/Sfc32.ts"

export interface GaussianBlobsOptions {
  readonly n: number
  readonly k: number
  readonly dimensions: number
  /** Standard deviation of each blob. Default 1. */
  readonly spread?: number
  /** Centres are drawn uniformly in [-box, box] per dimension. Default 10. */
  readonly box?: number
  /** Redraw a centre closer than this to an earlier one (up to 1,000 tries). Default 0. */
  readonly minCentreDistance?: number
  readonly seed: number
}

export interface GaussianBlobs extends PointMatrix {
  readonly labels: Int32Array
}

/** n points in k blobs of (nearly) equal size; point i belongs to blob i mod k before shuffling. */
export const gaussianBlobs = (options: GaussianBlobsOptions): GaussianBlobs => {
  const { n, k, dimensions: d } = options
  const spread = options.spread ?? 1
  const box = options.box ?? 10
  const random = makeSeededRandom(options.seed)
  const centres = new Float64Array(k * d)
  const minDistance = options.minCentreDistance ?? 0
  for (let c = 0; c < k; c++) {
    for (let attempt = 0; attempt < 1000; attempt++) {
      for (let j = 0; j < d; j++) centres[c * d + j] = (random.next() * 2 - 1) * box
      let nearest = Infinity
      for (let other = 0; other < c; other++) {
        nearest = Math.min(nearest, Math.sqrt(squaredDistanceAt(centres, c * d, centres, other * d, d)))
      }
      if (nearest >= minDistance) break
    }
  }
  const order = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInt(i + 1)
    const swap = order[i]
    order[i] = order[j]
    order[j] = swap
  }
  const data = new Float64Array(n * d)
  const labels = new Int32Array(n)
  for (let row = 0; row < n; row++) {
    const label = order[row] % k
    labels[row] = label
    for (let j = 0; j < d; j++) data[row * d + j] = centres[label * d + j] + spread * random.nextGaussian()
  }
  return { data, rows: n, columns: d, labels }
}
