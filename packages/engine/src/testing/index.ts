/**
 * `@spectral/engine/testing`: what tests and benchmarks use to check the engine, not product API.
 * The verdict study (A/A false-go, power and multiplicity simulations through the real gates, a
 * paired t-test and the old point-estimate regression rule to compare against, Clopper–Pearson
 * bounds), the sequential verdict's study (early stopping on the holdout beside fixed n), Gaussian
 * blobs with known labels, and the adjusted Rand index to score a clustering against them, and
 * failure explanations generated from known root causes.
 */
export * from "./VerdictStudy.ts"
export * from "./SequentialStudy.ts"
export * from "./GaussianBlobs.ts"
export * from "./AdjustedRandIndex.ts"
export * from "./FailureExplanations.ts"
export * from "./ParaphraseCorpus.ts"
