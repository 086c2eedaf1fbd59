/**
 * Evaluate: combines both authorities' results into the CompositeScore (synthetic and conformance
 * tracks, per agent, per dimension; absences marked, never faked) and the per-scan
 * RubricDivergenceRecord, and publishes `rubric.divergence` (one per scan, always).
 */
import { Context, Effect, Layer } from "effect"
import {
  absent,
  type CompositeScore,
  type EvalSet,
  type Measure,
  present,
  type RubricDivergenceRecord,
  type TrackScores
} from "../contracts/index.ts"
import { EventBus, type EventRejected } from "../ports/EventBus.ts"
import { emitEventWith, makeEvent } from "../ports/PhaseEvents.ts"
import { ScanRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { type ArmMeasurement, type StimulusSummary, summarizeByStimulus } from "../measurement/Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"
import type { EvaluateOutput } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { EvaluateOutput }


const weightedMeasure = (rows: ReadonlyArray<{ value: number | undefined; weight: number }>, missing: string): Measure => {
  const present_ = rows.filter((r) => r.value !== undefined)
  if (present_.length === 0) return absent(missing)
  const total = present_.reduce((s, r) => s + r.weight, 0)
  return present(present_.reduce((s, r) => s + r.value! * r.weight, 0) / total)
}

export const trackScores = (summaries: ReadonlyArray<StimulusSummary>, weights: ReadonlyMap<string, number>): TrackScores => {
  const w = (s: StimulusSummary) => weights.get(s.stimulusId) ?? 1
  return {
    worldModel: weightedMeasure(summaries.map((s) => ({ value: s.worldModel, weight: w(s) })), "no world-model scores"),
    rubric: weightedMeasure(summaries.map((s) => ({ value: s.rubric, weight: w(s) })), "no rubric scores"),
    blended: weightedMeasure(summaries.map((s) => ({ value: s.blended, weight: w(s) })), "no scored stimuli"),
    count: summaries.length
  }
}

const prefixed = <A>(prefix: string, record: Readonly<Record<string, A>>): Record<string, A> =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [`${prefix}${k}`, v]))

export const compose = (evalSet: EvalSet, arm: ArmMeasurement): CompositeScore => {
  const weights = new Map(evalSet.samples.map((s) => [s.id, s.stimulusWeight]))
  const provenance = new Map(evalSet.samples.map((s) => [s.id, s.provenance]))
  const summaries = [...summarizeByStimulus(arm).values()].filter((s) => s.status !== "infra_failure")
  const synthetic = summaries.filter((s) => provenance.get(s.stimulusId) !== "conformance_sample")
  const conformance = summaries.filter((s) => provenance.get(s.stimulusId) === "conformance_sample")
  const all = trackScores(summaries, weights)
  const conformanceScores = conformance.length > 0 ? trackScores(conformance, weights) : null
  // The mean per-anchor disagreement |rubric − world model| (weighted), over anchors both
  // authorities scored: opposite disagreements must not cancel (the convergence gate reads the same).
  const convergenceDelta: Measure = conformanceScores === null
    ? absent("no conformance samples in this scan (synthetic_only)")
    : weightedMeasure(
      conformance.map((s) => ({
        value: s.rubric !== undefined && s.worldModel !== undefined ? Math.abs(s.rubric - s.worldModel) : undefined,
        weight: weights.get(s.stimulusId) ?? 1
      })),
      "a conformance authority score is missing"
    )
  const keys = (pick: (s: StimulusSummary) => Readonly<Record<string, number>>) => [...new Set(summaries.flatMap((s) => Object.keys(pick(s))))].sort()
  const per = (pick: (s: StimulusSummary) => Readonly<Record<string, number>>) =>
    Object.fromEntries(keys(pick).map((k) => [k, weightedMeasure(summaries.map((s) => ({ value: pick(s)[k], weight: weights.get(s.stimulusId) ?? 1 })), `no ${k} scores`)]))
  return {
    worldModelScore: all.worldModel,
    rubricScore: all.rubric,
    blendedScore: all.blended,
    blendedDelta: absent("no candidate measured yet"),
    convergenceDelta,
    syntheticScores: trackScores(synthetic, weights),
    conformanceScores,
    perAgent: per((s) => s.agents),
    // One map, the authority in every key: a rubric dimension never overwrites a world-model one.
    perDimension: {
      ...prefixed("world_model:", per((s) => s.worldDimensions)),
      ...prefixed("rubric:", per((s) => s.rubricDimensions))
    }
  }
}

export const divergenceOf = (context: ScanContext, evalSet: EvalSet, arm: ArmMeasurement, id: string): RubricDivergenceRecord => {
  const scored = arm.runs.filter((r) => r.worldModel !== undefined && r.rubric !== undefined)
  const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / values.length
  const threshold = context.workspace.framework.passThreshold
  return {
    id,
    scanId: context.scan.id,
    workspaceId: context.workspace.id,
    worldModelScore: scored.length === 0 ? absent("no trace scored by both authorities") : present(mean(scored.map((r) => r.worldModel!))),
    rubricScore: scored.length === 0 ? absent("no trace scored by both authorities") : present(mean(scored.map((r) => r.rubric!))),
    divergence: scored.length === 0 ? absent("no trace scored by both authorities") : present(mean(scored.map((r) => r.rubric! - r.worldModel!))),
    disagreementRate: scored.length === 0
      ? absent("no trace scored by both authorities")
      : present(scored.filter((r) => (r.rubric! >= threshold) !== (r.worldModel! >= threshold)).length / scored.length),
    stimuliCount: new Set(scored.map((r) => r.stimulusId)).size,
    authority: evalSet.attribution.authority
  }
}

export class Evaluate extends Context.Service<Evaluate, {
  readonly run: (context: ScanContext, observe: ObserveOutput) => Effect.Effect<EvaluateOutput, StorageError | EventRejected>
}>()("@spectral/engine/pipeline/Evaluate") {
  static readonly layer = Layer.effect(
    Evaluate,
    Effect.gen(function*() {
      const emit = emitEventWith(yield* EventBus)
      const scans = yield* ScanRepo
      const run = Effect.fn("Evaluate.run")(function*(context: ScanContext, observe: ObserveOutput) {
        const composite = compose(observe.evalSet, observe.baseline)
        const divergence = divergenceOf(context, observe.evalSet, observe.baseline, `${context.scan.id}:divergence`)
        yield* scans.saveDivergence(divergence)
        yield* emit(yield* makeEvent("rubric.divergence", `${context.scan.id}:rubric.divergence`, {
            workspaceId: context.workspace.id,
            scanId: context.scan.id,
            worldModelScore: divergence.worldModelScore,
            rubricScore: divergence.rubricScore,
            divergence: divergence.divergence,
            disagreementRate: divergence.disagreementRate,
            stimuliCount: divergence.stimuliCount,
            authority: divergence.authority
        }))
        return { composite, divergence } satisfies EvaluateOutput
      })
      return Evaluate.of({ run })
    })
  )
}
