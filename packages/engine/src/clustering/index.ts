/**
 * Failure clustering: hashed TF-IDF embedding (as an `effect/ai` EmbeddingModel), typed-array
 * k-means with silhouette auto-k, severity-variant linking, and `FailureCluster` reports.
 */
export * from "./AutoK.ts"
export * from "./ClusteringError.ts"
export * from "./FailureClustering.ts"
export * as HashedTfIdfEmbedding from "./HashedTfIdfEmbedding.ts"
export * from "./KMeans.ts"
export * from "./PointClustering.ts"
export * from "./PointMatrix.ts"
export * from "./SeededRandom.ts"
export * from "./SeverityTemplate.ts"
export * from "./TextClustering.ts"
