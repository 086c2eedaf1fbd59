/**
 * `@spectral/engine/stats`: bootstrap confidence intervals for mean-type statistics (mean,
 * weighted mean, paired and independent differences, ratio of means, cluster bootstrap) with
 * percentile, basic and BCa methods; seeded, reproducible for any thread count; plus the
 * resample-count calibration used by the Calibrate phase; an anytime-valid betting confidence
 * sequence for bounded means (the sequential verdict).
 */
export {
  bootstrapCI,
  type BootstrapInput,
  BootstrapInputError,
  BootstrapInputProblem,
  type BootstrapInterval,
  BootstrapMethod,
  BootstrapStatistic
} from "./BootstrapCI.ts"
export { type BootstrapEffectInput, bootstrapCIEffect, WORKER_THRESHOLD } from "./BootstrapWorkers.ts"
export {
  type ConfidenceSequence,
  type ConfidenceSequenceLook,
  type ConfidenceSequenceOptions,
  type ConfidenceSequenceTest,
  makeConfidenceSequence
} from "./ConfidenceSequence.ts"
export { calibrateResamples, type CalibrateResamplesInput, type ResampleCalibration } from "./CalibrateResamples.ts"
export { normalCdf, normalQuantile } from "./NormalDistribution.ts"
export { SeededStream } from "./SeededStream.ts"
