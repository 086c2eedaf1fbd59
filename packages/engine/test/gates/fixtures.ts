/** Builders for gate inputs: paired stimuli with deterministic scores, the framework's thresholds. */
import { DEFAULT_THRESHOLDS, type OptimizationVector, type VerdictThresholds } from "../../src/contracts/index.ts"
import type { GateArm, PairedStimulus, VerdictInput } from "../../src/gates/VerdictInput.ts"

export const thresholds: VerdictThresholds = { ...DEFAULT_THRESHOLDS, minDelta: 0.02 }

/** A deterministic spread in [0, 1) per index (no randomness in fixtures). */
export const spread = (i: number) => ((i * 0.6180339887) % 1)

export const arm = (score: number, extra: Partial<GateArm> = {}): GateArm => ({ score, runs: [score], ...extra })

export const stimulus = (i: number, baseline: GateArm, candidate: GateArm, extra: Partial<PairedStimulus> = {}): PairedStimulus => ({
  id: `s${i}`,
  holdout: false,
  source: "synthetic",
  weight: 1,
  baseline,
  candidate,
  ...extra
})

/**
 * `n` stimuli; the baseline score varies by stimulus, the candidate adds `effect` plus a small
 * per-stimulus wobble with mean zero over each block of 4 stimuli.
 */
export const shifted = (n: number, effect: number, extra: (i: number) => Partial<PairedStimulus> = () => ({})): Array<PairedStimulus> =>
  Array.from({ length: n }, (_, i) => {
    const base = 0.4 + 0.4 * spread(i)
    const wobble = [0.03, -0.03, 0.01, -0.01][i % 4]!
    return stimulus(i, arm(base), arm(base + effect + wobble), extra(i))
  })

export const input = (stimuli: ReadonlyArray<PairedStimulus>, patch: Partial<Omit<VerdictInput, "stimuli">> = {}): VerdictInput => ({
  stimuli,
  thresholds,
  vectors: [],
  resamples: 1999,
  seed: 7,
  noCandidate: false,
  budgetExhausted: false,
  ...patch
})

export const withThresholds = (patch: Partial<VerdictThresholds>) => ({ ...thresholds, ...patch })

export const vector = (name: string, kind: OptimizationVector["kind"], direction: OptimizationVector["direction"], extra: Partial<OptimizationVector> = {}): OptimizationVector => ({
  name,
  kind,
  direction,
  weight: 1,
  ...extra
})
