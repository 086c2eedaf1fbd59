/**
 * The supervisor's per-scan summary as stored and exchanged: per agent, the quality of the
 * configuration one completed scan measured as its baseline (its score with an interval), how many
 * stimuli scored it, its spend per stimulus and its version, plus the scan's world-model attribution
 * (metadata, ADR-030). Built by the engine's `summarizeScan`; kept by `ScanRepo.saveSummaries` (a
 * completed scan's summary never changes). Only the shape lives here.
 */
import { Schema } from "effect"
import { Instant, NonNegative, PositiveInt } from "./Measure.ts"
import { WorkspaceId } from "./WorkspaceId.ts"

const Level = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true }))

/** A score in [0, 1] with its interval; `standardError` absent: derived from the interval's width. */
export const QualityInterval = Schema.Struct({
  estimate: Schema.Finite,
  low: Schema.Finite,
  high: Schema.Finite,
  level: Level,
  standardError: Schema.optionalKey(NonNegative)
}).check(Schema.makeFilter((q) => (q.low <= q.estimate && q.estimate <= q.high) || `low ≤ estimate ≤ high (got ${q.low}, ${q.estimate}, ${q.high})`))
export type QualityInterval = typeof QualityInterval.Type

export const AgentScanSummary = Schema.Struct({
  agentId: Schema.NonEmptyString,
  /** The agent's configuration version in this scan's baseline (absent when unknown). */
  agentVersion: Schema.optionalKey(PositiveInt),
  quality: QualityInterval,
  /** Stimuli that scored this agent (at least 2: one stimulus has no interval). */
  stimuli: PositiveInt.check(Schema.isGreaterThanOrEqualTo(2)),
  /** Mean model spend of this agent per stimulus run, in USD. */
  costUsd: NonNegative
})
export type AgentScanSummary = typeof AgentScanSummary.Type

export const ScanSummary = Schema.Struct({
  scanId: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  /** When the scan was created: the history's order. */
  at: Instant,
  /** The world model the scan ran against: metadata on the history, never a boundary in it (ADR-030). */
  attribution: Schema.optionalKey(Schema.Struct({ worldModelId: Schema.NonEmptyString, worldModelVersion: Schema.NonEmptyString })),
  agents: Schema.Array(AgentScanSummary)
})
export type ScanSummary = typeof ScanSummary.Type
