/**
 * What every gate reads: baseline and candidate measured on the same stimuli, with the
 * framework's thresholds. Built by the Verdict phase from a scan, or decoded from a file by
 * `spectral verdict` for runs a scan did not make.
 */
import type { HardConstraint, OptimizationVector, VerdictThresholds } from "../contracts/index.ts"

export interface GateArm {
  /** Blended score in [0, 1]; the mean over epochs when a stimulus ran several times. */
  readonly score: number
  /** Per-epoch scores (consistency, pass^k); `[score]` when there was one run. */
  readonly runs: ReadonlyArray<number>
  readonly worldModel?: number | undefined
  readonly rubric?: number | undefined
  /** Per-agent scores (the world model's attribution to each agent). */
  readonly agents?: Readonly<Record<string, number>> | undefined
  /** Per-dimension scores of the world-model authority (ground truth). Never merged with the judge's. */
  readonly worldDimensions?: Readonly<Record<string, number>> | undefined
  /** Per-dimension scores of the rubric authority (the judge), kept apart from the world model's. */
  readonly rubricDimensions?: Readonly<Record<string, number>> | undefined
  readonly costUsd?: number | undefined
  readonly latencyMs?: number | undefined
  readonly output?: string | undefined
  /**
   * `infra_failure`: the team could not run; `judge_failure`: it ran but the judge failed on every
   * epoch, so there is no blended score. Both are quarantined: no gate compares them.
   */
  readonly status?: "ok" | "infra_failure" | "parse_failure" | "judge_failure" | undefined
}

export interface PairedStimulus {
  readonly id: string
  readonly holdout: boolean
  /** Synthetic (world-model) stimulus, or a conformance sample (a convergence anchor, never holdout). */
  readonly source: "synthetic" | "conformance"
  readonly weight: number
  readonly group?: string | undefined
  readonly baseline: GateArm
  readonly candidate: GateArm
}

export interface VerdictInput {
  readonly stimuli: ReadonlyArray<PairedStimulus>
  readonly thresholds: VerdictThresholds
  readonly vectors: ReadonlyArray<OptimizationVector>
  /** The framework's hard constraints, enforced on the candidate (`builtin/hard_constraints`); none when absent. */
  readonly hardConstraints?: ReadonlyArray<HardConstraint> | undefined
  /** A run passes at this blended score (the framework's passThreshold); 0.5 when absent. */
  readonly passThreshold?: number | undefined
  readonly resamples: number
  readonly seed: number
  /**
   * True when the candidate was selected on the working set (a scan's tournament chose it as the
   * best of several): its working-set delta is biased upward by the selection, so the delta
   * threshold and bootstrap CI gates judge it on the synthetic holdout (unselected) stimuli only.
   * False (or absent) for runs we did not select, such as a `spectral verdict` file.
   */
  readonly selectedOnWorkingSet?: boolean | undefined
  /** True when there is no candidate: the change set is validated, nothing to ship. */
  readonly noCandidate: boolean
  readonly budgetExhausted: boolean
}
