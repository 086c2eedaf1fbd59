/**
 * Two measured arms as the gates read them: per stimulus of the eval set that both arms measured,
 * the baseline's and the candidate's per-stimulus summaries as `GateArm`s. The Verdict phase and
 * the sequential holdout in Optimize both build their gate input with it.
 */
import type { EvalSet } from "../contracts/index.ts"
import type { GateArm, PairedStimulus } from "../gates/VerdictInput.ts"
import { type ArmMeasurement, type StimulusSummary, summarizeByStimulus } from "./Measurement.ts"

const toGateArm = (s: StimulusSummary | undefined): GateArm =>
  s === undefined
    ? { score: 0, runs: [], status: "infra_failure" }
    : {
      score: s.blended ?? 0,
      runs: s.runs,
      ...(s.worldModel !== undefined ? { worldModel: s.worldModel } : {}),
      ...(s.rubric !== undefined ? { rubric: s.rubric } : {}),
      agents: s.agents,
      worldDimensions: s.worldDimensions,
      rubricDimensions: s.rubricDimensions,
      costUsd: s.costUsd,
      latencyMs: s.latencyMs,
      ...(s.output !== undefined ? { output: s.output } : {}),
      status: s.status
    }

export const pairStimuli = (evalSet: EvalSet, baseline: ArmMeasurement, candidate: ArmMeasurement): ReadonlyArray<PairedStimulus> => {
  const b = summarizeByStimulus(baseline)
  const c = summarizeByStimulus(candidate)
  return evalSet.samples.filter((s) => b.has(s.id) && c.has(s.id)).map((s) => ({
    id: s.id,
    holdout: s.holdoutLayer !== "working",
    source: s.provenance === "conformance_sample" ? "conformance" as const : "synthetic" as const,
    weight: s.stimulusWeight,
    // No `group`: a segment is a stratum of independently generated stimuli, not a cluster of
    // correlated ones, and a cluster bootstrap over a handful of segments gives far too narrow
    // an interval. Stimuli are resampled one by one.
    baseline: toGateArm(b.get(s.id)),
    candidate: toGateArm(c.get(s.id))
  }))
}
