/**
 * The Schema-typed payloads and answers of the host API's scan control, live progress, supervisor,
 * history, change-set diff, world models, samples, retention and ingest-key endpoints (the groups
 * are in `Api.ts`). Field names are plain and each one is described in its annotation: the
 * dashboard and other hosts read exactly these.
 */
import { Schema } from "effect"
import { AgentStatus } from "@spectral/engine"
import { EvaluationAuthorityRef, PhaseName, ScanState, WorkspaceId } from "@spectral/engine/contracts"

const described = <S extends Schema.Top>(schema: S, description: string): S => schema.annotate({ description }) as S

// ---- Scans: start and cancel -------------------------------------------------------------------

export const StartScanRequest = Schema.Struct({
  seed: Schema.optionalKey(described(Schema.Int, "Seed of the eval set and the scan (default 1)"))
})
export type StartScanRequest = typeof StartScanRequest.Type

export const StartedScan = Schema.Struct({
  scanId: described(Schema.NonEmptyString, "The new scan's id"),
  state: described(ScanState, "Its state when the answer was sent (scheduled or running)"),
  progress: described(Schema.String, "Path of its live progress (Server-Sent Events)")
})
export type StartedScan = typeof StartedScan.Type

// ---- Live progress (Server-Sent Events) --------------------------------------------------------

export const PhaseStatus = Schema.Literals(["done", "running", "pending", "failed"])
export type PhaseStatus = typeof PhaseStatus.Type

/** How a scan ended: `cancelled` is a scan stopped through the API (stored as abandoned with a `cancelled:` reason). */
export const EndStatus = Schema.Literals(["completed", "failed", "cancelled", "abandoned"])
export type EndStatus = typeof EndStatus.Type

export const PhaseEventData = Schema.Struct({
  phase: described(PhaseName, "The pipeline phase"),
  status: described(PhaseStatus, "Where it stands now")
})
export const StimuliEventData = Schema.Struct({
  phase: described(Schema.String, "The model phase measuring (observe, optimize, …)"),
  arm: described(Schema.String, "What is being measured in it (the baseline, a candidate)"),
  done: described(Schema.Int, "Stimuli measured so far in this arm"),
  total: described(Schema.Int, "Stimuli the arm measures")
})
export const EndEventData = Schema.Struct({
  status: described(EndStatus, "How the scan ended; the stream closes after this event")
})
export type PhaseEventData = typeof PhaseEventData.Type
export type StimuliEventData = typeof StimuliEventData.Type
export type EndEventData = typeof EndEventData.Type

/** One Server-Sent Event of a scan's progress: `event:` names it, `data:` is its JSON. */
export const ProgressEvent = Schema.Union([
  Schema.Struct({ event: Schema.Literal("phase"), data: Schema.fromJsonString(PhaseEventData) }),
  Schema.Struct({ event: Schema.Literal("stimuli"), data: Schema.fromJsonString(StimuliEventData) }),
  Schema.Struct({ event: Schema.Literal("end"), data: Schema.fromJsonString(EndEventData) })
])
export type ProgressEvent = typeof ProgressEvent.Type

// ---- Supervisor and history --------------------------------------------------------------------

export const SupervisorQuery = Schema.Struct({
  window: Schema.optionalKey(described(Schema.FiniteFromString, "Scans in the trend window (at least 2; default 5)")),
  level: Schema.optionalKey(described(Schema.FiniteFromString, "Interval level in [0.5, 1) (default 0.95)"))
})

export const SupervisorReport = Schema.Struct({
  scans: described(Schema.Int, "Completed scans in the workspace's history (every world-model version)"),
  agents: described(Schema.Array(AgentStatus), "Per agent: ACTIVE, PLATEAU, FRONTIER or NO_DATA with the reason, continuous across world-model versions")
})
export type SupervisorReport = typeof SupervisorReport.Type

const Score = Schema.NullOr(Schema.Finite)

export const HistoryAgentScore = Schema.Struct({
  agentId: Schema.String,
  estimate: described(Schema.Finite, "The agent's world-model score in [0, 1] on the scan's baseline"),
  low: described(Schema.Finite, "Lower end of its interval"),
  high: described(Schema.Finite, "Upper end of its interval"),
  level: described(Schema.Finite, "The interval's level"),
  costUsd: described(Schema.Finite, "Model spend per stimulus, USD")
})

export const HistoryEntry = Schema.Struct({
  scanId: Schema.String,
  startedAt: described(Schema.String, "When the scan was created (the trend's order)"),
  finishedAt: described(Schema.String, "When it completed"),
  worldModel: described(Schema.NullOr(EvaluationAuthorityRef), "The world-model version (authority ref) it ran against: a marker on the trend, never a boundary"),
  verdict: described(Schema.NullOr(Schema.Literals(["go", "caution", "no_go"])), "The verdict's outcome"),
  composite: described(
    Schema.Struct({ worldModel: Score, rubric: Score, blended: Score }),
    "Composite score per authority (null when that authority had no score)"
  ),
  agents: described(Schema.Array(HistoryAgentScore), "Per-agent score with its interval")
})
export type HistoryEntry = typeof HistoryEntry.Type

// ---- Change-set diff ---------------------------------------------------------------------------

export const FieldChange = Schema.Struct({
  path: described(Schema.String, "The changed field, as agents.<agentId>.<field>[.<field>…]"),
  baseline: described(Schema.Unknown, "Its value in the baseline (null when the baseline has none)"),
  proposed: described(Schema.Unknown, "Its value in the change set (null when removed)")
})
export type FieldChange = typeof FieldChange.Type

export const ChangeSetDiff = Schema.Struct({
  changeSetId: Schema.String,
  baseline: described(
    Schema.Struct({
      kind: Schema.Literals(["scan baseline", "change set", "declaration"]),
      id: Schema.String
    }),
    "What the change set is compared with: the agents its scan measured as baseline, else its baseline change set, else the workspace declaration"
  ),
  changes: Schema.Array(FieldChange)
})
export type ChangeSetDiff = typeof ChangeSetDiff.Type

// ---- World models ------------------------------------------------------------------------------

export const WorldModelSummary = Schema.Struct({
  worldModelId: Schema.String,
  title: Schema.String,
  domain: Schema.String,
  versions: described(Schema.Array(Schema.String), "Published versions, oldest first"),
  current: described(Schema.String, "The version the world is currently authoritative for"),
  scans: described(Schema.Int, "This workspace's scans attributed to any of its versions")
})

/** ADR-030 version metadata: the authority ref a scan carries, and where this workspace saw it. */
export const WorldModelVersion = Schema.Struct({
  worldModelId: Schema.String,
  worldModelVersion: Schema.String,
  authority: described(EvaluationAuthorityRef, "The EvaluationAuthorityRef scans of this version carry (id, version, rule-set hash)"),
  current: described(Schema.Boolean, "Whether worlds is currently authoritative for this version"),
  title: Schema.String,
  domain: Schema.String,
  description: Schema.String,
  rules: described(Schema.Int, "Rules in the version's rule set"),
  dimensions: described(Schema.Array(Schema.String), "Scoring dimension ids"),
  segments: described(Schema.Record(Schema.String, Schema.String), "Segment labels with their descriptions"),
  sources: described(Schema.Array(Schema.String), "The cited sources (source and section)"),
  scans: described(
    Schema.Struct({ count: Schema.Int, firstScanId: Schema.NullOr(Schema.String), firstAt: Schema.NullOr(Schema.String), lastAt: Schema.NullOr(Schema.String) }),
    "This workspace's scans attributed to this version"
  )
})
export type WorldModelVersion = typeof WorldModelVersion.Type

// ---- Samples -----------------------------------------------------------------------------------

export const CurateRequest = Schema.Struct({
  minActivePerSegment: Schema.optionalKey(described(Schema.Int.check(Schema.isGreaterThan(0)), "Below this many active samples a segment needs refresh (default 5)")),
  targetPerSegment: Schema.optionalKey(described(Schema.Int.check(Schema.isGreaterThan(0)), "Fill each segment up to this many active samples (default 50)")),
  holdoutFraction: Schema.optionalKey(described(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true })), "Share of the pool held out (default 0.2)"))
})

export const CurationResult = Schema.Struct({
  derived: described(Schema.Int, "Samples derived from incoming traces by this run"),
  skipped: described(Schema.Int, "Incoming traces left uncurated (their segment is full)"),
  needsRefresh: described(Schema.Array(Schema.String), "Segments still below the minimum"),
  coverage: Schema.Array(Schema.Struct({ segment: Schema.String, active: Schema.Int, needsRefresh: Schema.Boolean })),
  sampleSet: described(
    Schema.NullOr(Schema.Struct({ id: Schema.String, version: Schema.Int, created: Schema.Boolean })),
    "The versioned sample set holding the active pool (created: a new version)"
  )
})

// ---- Retention ---------------------------------------------------------------------------------

export const LegalHoldInfo = Schema.Struct({
  id: Schema.String,
  workspaceId: WorkspaceId,
  traceIds: described(Schema.Array(Schema.String), "Trace ids under hold; \"*\" holds every trace of the workspace"),
  reason: Schema.String,
  placedAt: Schema.String,
  releasedAt: Schema.optionalKey(Schema.String)
})

export const PlaceHoldRequest = Schema.Struct({
  id: Schema.optionalKey(described(Schema.NonEmptyString.check(Schema.isPattern(/^[A-Za-z0-9._:-]+$/)), "The hold's id (default: generated)")),
  traceIds: described(Schema.NonEmptyArray(Schema.NonEmptyString), "Trace ids to hold, or [\"*\"] for every trace"),
  reason: Schema.NonEmptyString,
  actor: Schema.NonEmptyString.annotate({ description: "Who places it (recorded in the retention audit)" })
})
export const ReleaseHoldRequest = Schema.Struct({
  actor: Schema.NonEmptyString.annotate({ description: "Who releases it (recorded in the retention audit)" })
})

export const SweepReportInfo = Schema.Struct({
  purgedTraces: Schema.Int,
  purgedSpans: Schema.Int,
  tombstonedSamples: Schema.Int,
  redacted: Schema.Struct({ scanTraces: Schema.Int, evalResults: Schema.Int, phaseOutputs: Schema.Int }),
  transitions: Schema.Int,
  held: Schema.Array(Schema.Struct({ traceId: Schema.String, holdId: Schema.String }))
})

export const LastSweep = Schema.Struct({
  pass: described(Schema.Int, "The lifecycle pass of this service (1 for its first)"),
  startedAt: Schema.String,
  finishedAt: Schema.String,
  report: described(Schema.NullOr(SweepReportInfo), "The retention sweep's report (null when the sweep step failed)"),
  failures: described(Schema.Array(Schema.Struct({ step: Schema.String, message: Schema.String })), "Lifecycle steps that failed for this workspace")
})

// ---- Ingest keys -------------------------------------------------------------------------------

export const IngestKeyInfo = Schema.Struct({
  keyId: described(Schema.String, "First 16 hex digits of the key's SHA-256 hash (never the key)"),
  label: Schema.String,
  createdAt: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String)
})
export const IssueIngestKeyRequest = Schema.Struct({ label: Schema.NonEmptyString })
export const IssuedIngestKey = Schema.Struct({
  workspaceId: WorkspaceId,
  keyId: Schema.String,
  key: described(Schema.String, "The OTLP bearer key, shown this once")
})
