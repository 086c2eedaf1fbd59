/**
 * ScanRecord: what produced a scan, stored with it when it starts (`Scan.record`), enough to run
 * it again (`spectral scan --replay`), as Inspect AI's eval logs store their scorer specs. It holds
 * the gate, strategy and scorer specs (namespaced `plugin/name` plus encoded settings), the plugins
 * they come from, the engine and host package versions, the judge and agent models with their
 * parameters, the eval set (world id, version and rule-set hash once the world answered, generator
 * seed, size, and the sample set it became), the scan seed, the workspace declaration it measured
 * (agents, framework, budgets) and the baseline it started from.
 *
 * Owns the schema only. Building a record and replaying one is the pipeline's (`ScanReplay.ts`).
 * Scans stored before records existed have none.
 */
import { Schema } from "effect"
import { AgentVersion } from "./ChangeSet.ts"
import { HardConstraint, OptimizationVector, VerdictThresholds } from "./EvaluationFramework.ts"
import { NonNegativeInt, PositiveInt, UnitInterval } from "./Measure.ts"
import { Workspace } from "./Workspace.ts"

/** The version of `@spectral/engine` (a test keeps it equal to the package's `version`). */
export const ENGINE_VERSION = "0.1.0"

/** The layout of a record; a record of another layout is refused, never guessed at. */
export const SCAN_RECORD_FORMAT = "spectral.scan-record/v1"

export const PackageVersion = Schema.Struct({
  name: Schema.NonEmptyString,
  version: Schema.NonEmptyString
})
export type PackageVersion = typeof PackageVersion.Type

/** A model and the parameters it was called with (the judge, or an agent's hyperparameters). */
export const ModelSpec = Schema.Struct({
  provider: Schema.NonEmptyString,
  model: Schema.NonEmptyString,
  temperature: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 })),
  maxTokens: PositiveInt,
  topP: Schema.optionalKey(UnitInterval),
  seed: Schema.optionalKey(NonNegativeInt)
})
export type ModelSpec = typeof ModelSpec.Type

/**
 * What a gate is run with: the thresholds, pass threshold, optimization vectors and hard
 * constraints of its verdict input. A replay runs each gate with its own recorded settings.
 */
export const GateSettings = Schema.Struct({
  thresholds: VerdictThresholds,
  passThreshold: UnitInterval,
  vectors: Schema.Array(OptimizationVector),
  hardConstraints: Schema.Array(HardConstraint)
})
export type GateSettings = typeof GateSettings.Type

export const GateSpec = Schema.Struct({
  /** `builtin/name` or `plugin/name`. */
  name: Schema.NonEmptyString,
  settings: GateSettings
})
export type GateSpec = typeof GateSpec.Type

/** A strategy by name (the strategy API carries no settings of its own; its budget is the framework's). */
export const StrategySpec = Schema.Struct({
  name: Schema.NonEmptyString
})
export type StrategySpec = typeof StrategySpec.Type

/**
 * A scorer: `builtin/world_model` (ground truth, no settings), `builtin/rubric` (the judge; its
 * settings are `ScanRecord.judge`) and the plugins' objective scorers.
 */
export const ScorerSpec = Schema.Struct({
  name: Schema.NonEmptyString,
  description: Schema.String
})
export type ScorerSpec = typeof ScorerSpec.Type

/** A plugin (the namespace of what it registered) and what the scan used of it. */
export const PluginRecord = Schema.Struct({
  name: Schema.NonEmptyString,
  gates: Schema.Array(Schema.String),
  strategies: Schema.Array(Schema.String),
  scorers: Schema.Array(Schema.String)
})
export type PluginRecord = typeof PluginRecord.Type

export const EvalSetRecord = Schema.Struct({
  worldModelId: Schema.NonEmptyString,
  /** Known once the world answered (Observe); a replay on another version of the world is refused. */
  worldModelVersion: Schema.optionalKey(Schema.NonEmptyString),
  ruleSetHash: Schema.optionalKey(Schema.NonEmptyString),
  /** The seed the world generated the eval set from (the scan's seed). */
  generatorSeed: Schema.Int,
  size: PositiveInt,
  /** The versioned sample set the eval set was recorded as at completion. */
  sampleSet: Schema.optionalKey(Schema.Struct({ id: Schema.NonEmptyString, version: PositiveInt }))
})
export type EvalSetRecord = typeof EvalSetRecord.Type

export const ScanRecord = Schema.Struct({
  format: Schema.Literal(SCAN_RECORD_FORMAT),
  engine: PackageVersion,
  /** Further packages the host built the engine with (plugin packages), as it declared them. */
  packages: Schema.Array(PackageVersion),
  plugins: Schema.Array(PluginRecord),
  gates: Schema.Array(GateSpec),
  strategies: Schema.Array(StrategySpec),
  scorers: Schema.Array(ScorerSpec),
  judge: ModelSpec,
  /** The baseline configuration measured, per agent in run order (models and parameters included). */
  agents: Schema.Array(AgentVersion),
  evalSet: EvalSetRecord,
  seed: Schema.Int,
  /** Model calls in flight at once while measuring. */
  concurrency: PositiveInt,
  /** The workspace declaration the scan measured (framework, budgets, autonomy). */
  workspace: Workspace,
  baselineChangeSetId: Schema.optionalKey(Schema.String),
  /** The scan this one replays, when it is a replay. */
  replayOf: Schema.optionalKey(Schema.String)
})
export type ScanRecord = typeof ScanRecord.Type

/** The budgets a recorded scan ran under (its declaration's economics), as the card shows them. */
export const recordBudgets = (record: ScanRecord) => {
  const economics = record.workspace.framework.economics
  return { maxCalls: economics.maxCallsPerScan, maxTokens: economics.maxTokensPerScan, maxUsd: economics.maxUsdPerScan }
}
