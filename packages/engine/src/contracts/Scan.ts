/**
 * A scan and the rows it leaves behind: Scan (a persisted state machine), ScanReadinessObservation,
 * the calibration record, ScanTrace (one per stimulus, candidate and epoch, with provenance) and
 * EvalResult (one per trace and scoring authority).
 */
import { Schema, Struct } from "effect"
import { WorkspaceId } from "./WorkspaceId.ts"
import { AttributionEnvelope, HoldoutLayer, Provenance } from "./EvalSet.ts"
import { Instant, NonNegative, NonNegativeInt, PositiveInt, UnitInterval } from "./Measure.ts"
import { ScanRecord } from "./ScanRecord.ts"

/**
 * `abandoned`: its process stopped (the lease ran out) and it could not be resumed (another seed
 * or workspace declaration was asked for, or it stopped too often); final, with its reason.
 */
export const ScanState = Schema.Literals(["scheduled", "running", "completed", "failed", "abandoned"])
export type ScanState = typeof ScanState.Type

/** The pipeline's phases in order; a scan records each one it has finished. */
export const PhaseName = Schema.Literals([
  "preflight",
  "observe",
  "calibrate",
  "diagnose",
  "evaluate",
  "optimize",
  "safety",
  "verdict",
  "complete"
])
export type PhaseName = typeof PhaseName.Type
export const phaseOrder: ReadonlyArray<PhaseName> = PhaseName.literals

/**
 * Why a scan stopped without finishing (or why it was not resumed), typed; the failure's sentence
 * is `Scan.failureReason` / `ScanFailed.reason`.
 * - `PhaseError`: a phase failed with a typed error (`error` is its tag, e.g. `StorageError`).
 * - `Defect`: a phase died on an unexpected error (a bug, or a plugin that threw).
 * - `StorageUnavailable`: the store stayed unreachable longer than the scan waits (`OUTAGE_WAIT`).
 * - `TeamInvalid`: the declared team cannot run (a dependency cycle, an unknown agent).
 * - `LeaseLost`: another process holds the scan now; this one stopped without writing.
 * - `StoredStateInvalid`: a saved phase output no longer decodes (names the field).
 * - `RecordMismatch`: a replay's record names another world-model version than the world answered.
 * - `NotResumable`: the scan cannot be resumed, and why.
 */
export const ScanFailureCause = Schema.Union([
  Schema.TaggedStruct("PhaseError", { error: Schema.String, message: Schema.String }),
  Schema.TaggedStruct("Defect", { message: Schema.String }),
  Schema.TaggedStruct("StorageUnavailable", { message: Schema.String }),
  Schema.TaggedStruct("TeamInvalid", { message: Schema.String }),
  Schema.TaggedStruct("LeaseLost", { holder: Schema.String }),
  Schema.TaggedStruct("StoredStateInvalid", { issue: Schema.String }),
  Schema.TaggedStruct("RecordMismatch", { recorded: Schema.String, answered: Schema.String }),
  Schema.TaggedStruct("NotResumable", {
    why: Schema.Literals(["completed", "abandoned", "running_here", "running_elsewhere", "taken_over"])
  })
])
export type ScanFailureCause = typeof ScanFailureCause.Type

/** Where a failed scan stopped and why (absent on scans stored before failures were typed). */
export const ScanFailure = Schema.Struct({ phase: PhaseName, cause: ScanFailureCause })
export type ScanFailure = typeof ScanFailure.Type

export const ScanMode = Schema.Literals(["synthetic_only", "conformance_only", "blended"])
export type ScanMode = typeof ScanMode.Type

export const ScanReadinessObservation = Schema.Struct({
  mode: ScanMode,
  curationSamplesCount: NonNegativeInt,
  evalSetAvailable: Schema.Boolean,
  reason: Schema.String,
  observedAt: Instant
})
export type ScanReadinessObservation = typeof ScanReadinessObservation.Type

export const CalibrationRecord = Schema.Struct({
  resamples: PositiveInt,
  level: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMinimum: true, exclusiveMaximum: true })),
  reasons: Schema.Array(Schema.String)
})
export type CalibrationRecord = typeof CalibrationRecord.Type

export const SpendFigures = Schema.Struct({
  calls: NonNegativeInt,
  tokens: NonNegativeInt,
  usd: NonNegative,
  cachedCalls: NonNegativeInt,
  /** Calls to a model with no known price (charged at the table's highest price under a USD budget). */
  unpricedCalls: Schema.optionalKey(NonNegativeInt)
})

/** What the scan has spent so far (restored when it resumes, so a crash never refills the budget). */
export const ScanSpend = Schema.Struct({
  total: SpendFigures,
  byPhase: Schema.Record(Schema.String, SpendFigures),
  byPurpose: Schema.Record(Schema.String, SpendFigures),
  exhausted: Schema.Boolean,
  /**
   * The blocks of measurement settled into the totals (chunks measured by other runners, by key):
   * a resumed scan that replays a finished chunk does not charge it twice.
   */
  settledBlocks: Schema.optionalKey(Schema.Array(Schema.String))
})
export type ScanSpend = typeof ScanSpend.Type

/**
 * Who is running a scan, until when: renewed by the running process's heartbeat. A scan in
 * progress whose lease ran out has no live process; the next run of its workspace resumes it.
 */
export const ScanLease = Schema.Struct({
  owner: Schema.NonEmptyString,
  expiresAt: Instant,
  /**
   * Which take of the owner holds it, when the owner is a workflow execution that runners carry
   * on in turn: each runner that takes the execution on writes its own, so one that was stalled
   * past its shard locks and comes back finds another take here and stops without writing.
   */
  take: Schema.optionalKey(Schema.NonEmptyString)
})
export type ScanLease = typeof ScanLease.Type

/** Who carries a submitted scan's workflow execution (`Scan.submission.carrier`). */
export const SubmissionCarrier = Schema.Literals(["runners", "process"])
export type SubmissionCarrier = typeof SubmissionCarrier.Type

export const Scan = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  state: ScanState,
  seed: Schema.Int,
  completedPhases: Schema.Array(PhaseName),
  readiness: Schema.optionalKey(ScanReadinessObservation),
  attribution: Schema.optionalKey(AttributionEnvelope),
  /** The change set whose configuration this scan measured as its baseline (absent: the declared configuration). */
  baselineChangeSetId: Schema.optionalKey(Schema.String),
  changeSetId: Schema.optionalKey(Schema.String),
  verdict: Schema.optionalKey(Schema.Literals(["go", "caution", "no_go"])),
  blendedScore: Schema.optionalKey(UnitInterval),
  failureReason: Schema.optionalKey(Schema.String),
  failure: Schema.optionalKey(ScanFailure),
  /** Set when the scan was submitted to runners: the submission's id and its workflow execution. */
  submission: Schema.optionalKey(Schema.Struct({
    requestId: Schema.String,
    executionId: Schema.String,
    /**
     * Who carries the execution: the runners of a shared cluster (`spectral runner`; also what an
     * absent value means), or the process that submitted it, on a runner of its own (`spectral scan`).
     */
    carrier: Schema.optionalKey(SubmissionCarrier)
  })),
  spend: Schema.optionalKey(ScanSpend),
  /** Held while a process runs the scan (absent on scans stored before leases, and once it ended). */
  lease: Schema.optionalKey(ScanLease),
  /** How many times it was resumed after its process stopped. */
  resumes: Schema.optionalKey(NonNegativeInt),
  /** Digest of the workspace declaration it started on: a changed declaration is not resumed. */
  declarationDigest: Schema.optionalKey(Schema.String),
  /** What produced the scan, written when it starts (absent on scans stored before records existed). */
  record: Schema.optionalKey(ScanRecord),
  createdAt: Instant,
  updatedAt: Instant
})
export type Scan = typeof Scan.Type

/**
 * A scan as far as its history needs it (`ScanRepo.listCompleted`): its ids, state, times,
 * world-model attribution and outcome; none of its phases, lease, spend or record.
 */
export const ScanHeader = Scan.mapFields(Struct.pick(["id", "workspaceId", "state", "attribution", "verdict", "blendedScore", "createdAt", "updatedAt"]))
export type ScanHeader = typeof ScanHeader.Type

export const RunStatus = Schema.Literals(["ok", "infra_failure", "parse_failure"])
export type RunStatus = typeof RunStatus.Type

export const OutputValue = Schema.Unknown

/** One agent's run inside a ScanTrace. */
export const AgentRun = Schema.Struct({
  agentId: Schema.String,
  agentVersion: PositiveInt,
  /**
   * The rendered prompt, on traces stored before 0.2 only. New traces keep the stimulus once
   * (`ScanTrace.input`) and the upstream outputs (the other runs' `output`); `renderedRunPrompt`
   * re-creates this text byte for byte from them and the agent's template version.
   */
  prompt: Schema.optionalKey(Schema.String),
  rawOutput: Schema.String,
  output: Schema.optionalKey(Schema.Record(Schema.String, OutputValue)),
  status: RunStatus,
  error: Schema.optionalKey(Schema.String),
  latencyMs: NonNegative,
  /** When the run started (from `Clock`); systemic signals read time from it. */
  startedAt: Schema.optionalKey(Instant),
  inputTokens: NonNegativeInt,
  outputTokens: NonNegativeInt,
  costUsd: NonNegative,
  cached: Schema.Boolean
})
export type AgentRun = typeof AgentRun.Type

/** Which configuration produced a trace: the baseline, or one optimization candidate. */
export const Arm = Schema.String

export const ScanTrace = Schema.Struct({
  id: Schema.NonEmptyString,
  scanId: Schema.String,
  workspaceId: WorkspaceId,
  stimulusId: Schema.String,
  arm: Arm,
  epoch: NonNegativeInt,
  provenance: Provenance,
  partition: Schema.Literals(["working", "holdout"]),
  holdoutLayer: HoldoutLayer,
  segment: Schema.String,
  stimulusWeight: Schema.Finite,
  /** The stimulus text the team was given (absent on traces stored before 0.2). */
  input: Schema.optionalKey(Schema.String),
  runs: Schema.Array(AgentRun),
  status: RunStatus,
  finalOutput: Schema.optionalKey(Schema.Record(Schema.String, OutputValue)),
  /** Why the judge (rubric authority) gave no score, when the team answered and it failed. */
  judgeFailure: Schema.optionalKey(Schema.String),
  latencyMs: NonNegative,
  costUsd: NonNegative
})
export type ScanTrace = typeof ScanTrace.Type

export const Authority = Schema.Literals(["world_model", "rubric"])
export type Authority = typeof Authority.Type

export const EvalResult = Schema.Struct({
  id: Schema.NonEmptyString,
  scanId: Schema.String,
  workspaceId: WorkspaceId,
  traceId: Schema.String,
  authority: Authority,
  score: UnitInterval,
  passed: Schema.Boolean,
  dimensions: Schema.Record(Schema.String, UnitInterval),
  /** Per-agent score where the authority can tell (world model: intermediate ground truth). */
  agents: Schema.Record(Schema.String, UnitInterval),
  /** Natural-language explanation (rubric authority only; what Diagnose clusters). */
  explanation: Schema.optionalKey(Schema.String)
})
export type EvalResult = typeof EvalResult.Type

/**
 * What later flows read back from a scan's stored optimize output: the winning candidate's runs
 * and their world-model scores. Decoded (never cast) from the persisted phase output; other
 * fields are ignored.
 */
export const StoredOptimizeWinner = Schema.Struct({
  winner: Schema.NullOr(Schema.Struct({
    measurement: Schema.Struct({
      runs: Schema.Array(Schema.Struct({ worldModel: Schema.optional(Schema.Finite) }))
    })
  }))
})
export type StoredOptimizeWinner = typeof StoredOptimizeWinner.Type

