/**
 * Failure clustering: hashed TF-IDF embedding (as an `effect/ai` EmbeddingModel) with the judges'
 * failure vocabulary, typed-array k-means with auto-k, severity-variant linking, labels from the
 * members' own text (and, optionally, from a language model), the screen for bad explanations, and
 * `FailureCluster` reports.
 */
export * from "./AutoK.ts"
export { centroidsOf, inertiaOf } from "./Centroids.ts"
export { type ClusterLabel, severitySummary, withoutBookkeeping } from "./ClusterLabel.ts"
export * from "./ClusteringError.ts"
export * from "./ExplanationScreen.ts"
export * from "./FailureClustering.ts"
export * from "./FailureVocabulary.ts"
export { type LloydOptions, lloydFrom } from "./HamerlyLloyd.ts"
export * as HashedTfIdfEmbedding from "./HashedTfIdfEmbedding.ts"
export * from "./KMeans.ts"
export * from "./ModelLabeller.ts"
export { seedKMeansPlusPlus } from "./KMeansPlusPlus.ts"
export type { KMeansRun } from "./KMeansWorkspace.ts"
export * from "./PointClustering.ts"
export * from "./PointMatrix.ts"
export * from "./SeverityTemplate.ts"
export * from "./TextClustering.ts"
export * from "../random/Sfc32.ts"
