/** The verdict: every gate's checks and the folded outcome ("41 of 50 checks pass"). */
import { Schema } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { NonNegativeInt } from "./Measure.ts"

export const CheckStatus = Schema.Literals(["pass", "fail", "neutral", "caution"])
export type CheckStatus = typeof CheckStatus.Type

export const Interval = Schema.Struct({ estimate: Schema.Finite, low: Schema.Finite, high: Schema.Finite })
export type Interval = typeof Interval.Type

export const GateCheck = Schema.Struct({
  gate: Schema.String,
  /** The check's own name inside the gate (for example `agent:intake`). */
  check: Schema.String,
  status: CheckStatus,
  reason: Schema.String,
  value: Schema.optionalKey(Schema.Finite),
  threshold: Schema.optionalKey(Schema.Finite),
  /** The interval the check judged, where it judged one (e.g. a metric's paired change, candidate − baseline). */
  interval: Schema.optionalKey(Interval)
})
export type GateCheck = typeof GateCheck.Type

export const Outcome = Schema.Literals(["go", "caution", "no_go"])
export type Outcome = typeof Outcome.Type

export const VerdictResult = Schema.Struct({
  id: Schema.NonEmptyString,
  scanId: Schema.String,
  workspaceId: WorkspaceId,
  outcome: Outcome,
  checksPassed: NonNegativeInt,
  checksTotal: NonNegativeInt,
  checks: Schema.Array(GateCheck),
  delta: Schema.NullOr(Interval),
  /** The folding policy, said in words, and why this outcome. */
  explanation: Schema.String
})
export type VerdictResult = typeof VerdictResult.Type
