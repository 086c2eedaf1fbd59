/**
 * Failure clustering: hashed TF-IDF embedding (as an `effect/ai` EmbeddingModel), typed-array
 * k-means with silhouette auto-k, severity-variant linking, and `FailureCluster` reports.
 */
export * from "./AutoK.ts"
export { centroidsOf, inertiaOf } from "./Centroids.ts"
export * from "./ClusteringError.ts"
export * from "./FailureClustering.ts"
export { type LloydOptions, lloydFrom } from "./HamerlyLloyd.ts"
export * as HashedTfIdfEmbedding from "./HashedTfIdfEmbedding.ts"
export * from "./KMeans.ts"
export { seedKMeansPlusPlus } from "./KMeansPlusPlus.ts"
export type { KMeansRun } from "./KMeansWorkspace.ts"
export * from "./PointClustering.ts"
export * from "./PointMatrix.ts"
export * from "./SeverityTemplate.ts"
export * from "./TextClustering.ts"
export * from "../random/Sfc32.ts"
