/**
 * CompositeScore (both authorities combined, absences marked) and the per-scan
 * RubricDivergenceRecord.
 */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { EvaluationAuthorityRef } from "./EvalSet.ts"
import { Measure, NonNegativeInt } from "./Measure.ts"

export const TrackScores = Schema.Struct({
  worldModel: Measure,
  rubric: Measure,
  blended: Measure,
  count: NonNegativeInt
})
export type TrackScores = typeof TrackScores.Type

export const CompositeScore = Schema.Struct({
  worldModelScore: Measure,
  rubricScore: Measure,
  blendedScore: Measure,
  /** Blended candidate − blended baseline on the same stimuli (absent until a candidate is measured). */
  blendedDelta: Measure,
  /**
   * Mean over conformance samples of the per-sample |rubric − world model|, weighted by stimulus
   * weight (not |mean rubric − mean world model|: disagreements in opposite directions do not
   * cancel); absent in synthetic_only scans or when no anchor has both authorities' scores.
   */
  convergenceDelta: Measure,
  syntheticScores: TrackScores,
  /** Null when the scan has no conformance samples. */
  conformanceScores: Schema.NullOr(TrackScores),
  perAgent: Schema.Record(Schema.String, Measure),
  perDimension: Schema.Record(Schema.String, Measure)
})
export type CompositeScore = typeof CompositeScore.Type

export const RubricDivergenceRecord = Schema.Struct({
  id: Schema.NonEmptyString,
  scanId: Schema.String,
  workspaceId: WorkspaceId,
  worldModelScore: Measure,
  rubricScore: Measure,
  /** rubric − world model, on the same traces. */
  divergence: Measure,
  /** Share of traces where the two authorities disagree on pass/fail. */
  disagreementRate: Measure,
  stimuliCount: NonNegativeInt,
  authority: EvaluationAuthorityRef
})
export type RubricDivergenceRecord = typeof RubricDivergenceRecord.Type
