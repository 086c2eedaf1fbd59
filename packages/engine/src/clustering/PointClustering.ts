/**
 * The Effect edge of point clustering: nested-array points and `k` (a number or "auto") in,
 * labels, centroids and inertia out, failing with a `ClusteringError` naming the problem.
 * The numeric work is the pure code in `KMeans.ts` and `AutoK.ts`, called once here.
 */
import { Effect, Result } from "effect"
import { type AutoKOptions, kmeansAuto } from "./AutoK.ts"
import type { ClusteringError } from "./ClusteringError.ts"
import { kmeans, type KMeansResult } from "./KMeans.ts"
import { fromRows, type PointMatrix } from "./PointMatrix.ts"

export interface ClusterPointsOptions extends AutoKOptions {
  readonly k: number | "auto"
}

export interface PointClustering extends KMeansResult {
  /** Silhouette per k tried, when k was "auto". */
  readonly silhouettes?: ReadonlyArray<{ readonly k: number; readonly silhouette: number }>
}

/** Pure: validated matrix → clustering (fixed k or auto). */
export const clusterMatrix = (matrix: PointMatrix, options: ClusterPointsOptions): Result.Result<PointClustering, ClusteringError> =>
  options.k === "auto" ? kmeansAuto(matrix, options) : kmeans(matrix, { ...options, k: options.k })

/** Nested-array points → clustering; bad points, k or options fail with a ClusteringError. */
export const clusterPoints = (
  points: ReadonlyArray<ReadonlyArray<number>>,
  options: ClusterPointsOptions
): Effect.Effect<PointClustering, ClusteringError> =>
  Effect.fromResult(Result.flatMap(fromRows(points), (matrix) => clusterMatrix(matrix, options)))
