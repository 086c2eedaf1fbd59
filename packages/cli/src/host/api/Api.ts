/**
 * The host API's definition (`effect/http-api`): groups, endpoints and their Schema-typed payloads,
 * built on the engine's contracts. Shared by the server (`ApiServer.ts`) and the typed client
 * (`ApiClient.ts`); it holds no server code. Every route is under `/api/workspaces/:workspaceId`,
 * and the key decides the workspace: a path naming another one is 404, as is an id of another
 * workspace. Scopes: `read` for GETs, `write` to declare a workspace or decide on a change set,
 * `admin` for API keys.
 */
import { Schema, Struct } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, OpenApi } from "effect/http-api"
import { Sample, SampleSet } from "@spectral/engine/contracts"
import {
  AgentPerformanceCard,
  ChangeSet,
  ChangeSetAuditEntry,
  ChangeSetStatus,
  CompositeScore,
  FailureCluster,
  PhaseName,
  Scan,
  VerdictResult,
  Workspace,
  WorkspaceId
} from "@spectral/engine/contracts"
import { ApiAuthorization, ApiStreamAuthorization } from "./ApiAuthorization.ts"
import { ApiBodyLimit } from "./ApiBodyLimit.ts"
import { ApiConflict, ApiForbidden, ApiInvalid, ApiNotFound, ApiUnavailable } from "./ApiErrors.ts"
import {
  ChangeSetDiff,
  CurateRequest,
  CurationResult,
  HistoryEntry,
  IngestKeyInfo,
  IssuedIngestKey,
  IssueIngestKeyRequest,
  LastSweep,
  LegalHoldInfo,
  PlaceHoldRequest,
  ProgressEvent,
  ReleaseHoldRequest,
  StartedScan,
  StartScanRequest,
  SupervisorQuery,
  SupervisorReport,
  WorldModelSummary,
  WorldModelVersion
} from "./ApiModels.ts"

const workspaceParams = { workspaceId: WorkspaceId }
const scanParams = { workspaceId: WorkspaceId, scanId: Schema.NonEmptyString }
const changeSetParams = { workspaceId: WorkspaceId, changeSetId: Schema.NonEmptyString }
const readErrors = [ApiNotFound, ApiForbidden, ApiConflict, ApiUnavailable] as const
const writeErrors = [ApiNotFound, ApiForbidden, ApiConflict, ApiInvalid, ApiUnavailable] as const

/** One phase of a scan and where it stands. */
export const PhaseProgress = Schema.Struct({
  phase: PhaseName,
  status: Schema.Literals(["done", "running", "pending", "failed"])
})

/** A scan with its phase progress. */
export const ScanDetail = Schema.Struct({
  scan: Scan,
  phases: Schema.Array(PhaseProgress),
  phasesDone: Schema.Int,
  phasesTotal: Schema.Int
})
export type ScanDetail = typeof ScanDetail.Type

/** A finished scan's result: the verdict with every gate check, and the composite scores. */
export const ScanResult = Schema.Struct({
  verdict: VerdictResult,
  composite: CompositeScore
})
export type ScanResult = typeof ScanResult.Type

/** One entry of a change set's audit trail (append-only), as stored less its workspace (the path names it). */
export const AuditEntry = ChangeSetAuditEntry.mapFields(Struct.omit(["workspaceId"]))
export type AuditEntry = typeof AuditEntry.Type

/** Where a change set stands in the decision workflow. */
export const ApprovalState = Schema.Struct({
  status: ChangeSetStatus,
  assignee: Schema.NullOr(Schema.String),
  snoozedUntil: Schema.NullOr(Schema.String),
  snoozed: Schema.Boolean,
  awaitingDecision: Schema.Boolean
})

/** A change set with its approval state and audit trail (oldest first). */
export const ChangeSetDetail = Schema.Struct({
  changeSet: ChangeSet,
  approval: ApprovalState,
  audit: Schema.Array(AuditEntry)
})
export type ChangeSetDetail = typeof ChangeSetDetail.Type

const Actor = Schema.NonEmptyString.annotate({ description: "Who decides (recorded in the audit trail)" })

export const ApproveRequest = Schema.Struct({ actor: Actor })
export const RejectRequest = Schema.Struct({ actor: Actor, reason: Schema.NonEmptyString })
export const SnoozeRequest = Schema.Struct({ actor: Actor, until: Schema.NonEmptyString.annotate({ description: "ISO date in the future" }) })
export const AssignRequest = Schema.Struct({ actor: Actor, assignee: Schema.NonEmptyString })

export const ApiKeyScope = Schema.Literals(["read", "write", "admin"])

/** A key as listed: never the key itself, only its hash prefix. */
export const ApiKeyInfo = Schema.Struct({
  keyId: Schema.String,
  scope: ApiKeyScope,
  label: Schema.String,
  createdAt: Schema.String,
  revokedAt: Schema.optionalKey(Schema.String)
})
export const IssuedApiKey = Schema.Struct({ workspaceId: WorkspaceId, scope: ApiKeyScope, keyId: Schema.String, key: Schema.String })

export class WorkspacesGroup extends HttpApiGroup.make("workspaces")
  .add(
    HttpApiEndpoint.get("get", "/:workspaceId", { params: workspaceParams, success: Workspace, error: readErrors }),
    HttpApiEndpoint.put("declare", "/:workspaceId", { params: workspaceParams, payload: Workspace, success: Workspace, error: writeErrors })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Workspaces", description: "Read, declare and update the key's workspace" }))
{}

export class ScansGroup extends HttpApiGroup.make("scans")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/scans", { params: workspaceParams, success: Schema.Array(Scan), error: readErrors }),
    HttpApiEndpoint.get("get", "/:workspaceId/scans/:scanId", { params: scanParams, success: ScanDetail, error: readErrors }),
    HttpApiEndpoint.get("result", "/:workspaceId/scans/:scanId/result", { params: scanParams, success: ScanResult, error: readErrors }),
    HttpApiEndpoint.get("clusters", "/:workspaceId/scans/:scanId/clusters", {
      params: scanParams,
      success: Schema.Array(FailureCluster),
      error: readErrors
    }),
    // Starts a scan in this service on its storage and answers at once; the scan runs in the background.
    HttpApiEndpoint.post("start", "/:workspaceId/scans", {
      params: workspaceParams,
      payload: StartScanRequest,
      success: StartedScan.pipe(HttpApiSchema.status(202)),
      error: writeErrors
    }),
    // Interrupts a running scan and records it as cancelled (409 naming the state when it already ended).
    HttpApiEndpoint.post("cancel", "/:workspaceId/scans/:scanId/cancel", { params: scanParams, success: ScanDetail, error: writeErrors })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Scans", description: "Scans, their phase progress, verdicts with every gate, composite scores and failure clusters" }))
{}

/**
 * A scan's live progress as Server-Sent Events (`Accept: text/event-stream`): `phase` {phase,status},
 * `stimuli` {phase,arm,done,total} and a final `end` {status}, after which the stream closes. The key
 * may come as `?key=` (a browser's EventSource cannot set headers) or `Authorization: Bearer`.
 */
export class ProgressGroup extends HttpApiGroup.make("progress")
  .add(
    HttpApiEndpoint.get("stream", "/:workspaceId/scans/:scanId/progress", {
      params: scanParams,
      success: HttpApiSchema.StreamSse({ events: ProgressEvent }),
      error: readErrors
    })
  )
  .middleware(ApiStreamAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({
    title: "Scan progress",
    description: "Server-Sent Events of a scan's progress: event `phase` {phase,status}, `stimuli` {phase,arm,done,total}, `end` {status}. " +
      "Live for scans this service runs; polled from storage for scans run elsewhere (a finished scan sends its phases and `end` at once). " +
      "The key goes in `Authorization: Bearer` or `?key=` (for EventSource)."
  }))
{}

export class SupervisorGroup extends HttpApiGroup.make("supervisor")
  .add(
    HttpApiEndpoint.get("supervisor", "/:workspaceId/supervisor", { params: workspaceParams, query: SupervisorQuery, success: SupervisorReport, error: writeErrors }),
    HttpApiEndpoint.get("history", "/:workspaceId/history", { params: workspaceParams, success: Schema.Array(HistoryEntry), error: readErrors })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({
    title: "Supervisor",
    description: "Per agent ACTIVE / PLATEAU / FRONTIER / NO_DATA over the scan history, and the history itself (one entry per completed scan, oldest first, continuous across world-model versions)"
  }))
{}

export class ChangeSetsGroup extends HttpApiGroup.make("changeSets")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/change-sets", { params: workspaceParams, success: Schema.Array(ChangeSet), error: readErrors }),
    HttpApiEndpoint.get("get", "/:workspaceId/change-sets/:changeSetId", { params: changeSetParams, success: ChangeSetDetail, error: readErrors }),
    HttpApiEndpoint.get("diff", "/:workspaceId/change-sets/:changeSetId/diff", { params: changeSetParams, success: ChangeSetDiff, error: readErrors }),
    HttpApiEndpoint.post("approve", "/:workspaceId/change-sets/:changeSetId/approve", {
      params: changeSetParams,
      payload: ApproveRequest,
      success: ChangeSetDetail,
      error: writeErrors
    }),
    HttpApiEndpoint.post("reject", "/:workspaceId/change-sets/:changeSetId/reject", {
      params: changeSetParams,
      payload: RejectRequest,
      success: ChangeSetDetail,
      error: writeErrors
    }),
    HttpApiEndpoint.post("snooze", "/:workspaceId/change-sets/:changeSetId/snooze", {
      params: changeSetParams,
      payload: SnoozeRequest,
      success: ChangeSetDetail,
      error: writeErrors
    }),
    HttpApiEndpoint.post("assign", "/:workspaceId/change-sets/:changeSetId/assign", {
      params: changeSetParams,
      payload: AssignRequest,
      success: ChangeSetDetail,
      error: writeErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Change sets", description: "Change sets and the decision workflow (approve, reject, snooze, assign) with its audit trail" }))
{}

export class CardsGroup extends HttpApiGroup.make("cards")
  .add(
    HttpApiEndpoint.get("json", "/:workspaceId/scans/:scanId/card.json", { params: scanParams, success: AgentPerformanceCard, error: readErrors }),
    HttpApiEndpoint.get("markdown", "/:workspaceId/scans/:scanId/card.md", {
      params: scanParams,
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/markdown" })),
      error: readErrors
    }),
    HttpApiEndpoint.get("html", "/:workspaceId/scans/:scanId/card.html", {
      params: scanParams,
      success: Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/html" })),
      error: readErrors
    }),
    // Printed by headless Chromium (503 naming what to install when there is none).
    HttpApiEndpoint.get("pdf", "/:workspaceId/scans/:scanId/card.pdf", {
      params: scanParams,
      success: Schema.Uint8Array.pipe(HttpApiSchema.asUint8Array({ contentType: "application/pdf" })),
      error: readErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Cards", description: "A scan's AgentPerformanceCard as JSON, Markdown, HTML and PDF" }))
{}

export class ApiKeysGroup extends HttpApiGroup.make("apiKeys")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/api-keys", { params: workspaceParams, success: Schema.Array(ApiKeyInfo), error: readErrors }),
    HttpApiEndpoint.post("issue", "/:workspaceId/api-keys", {
      params: workspaceParams,
      payload: Schema.Struct({ scope: ApiKeyScope, label: Schema.NonEmptyString }),
      success: IssuedApiKey,
      error: writeErrors
    }),
    HttpApiEndpoint.post("revoke", "/:workspaceId/api-keys/:keyId/revoke", {
      params: { workspaceId: WorkspaceId, keyId: Schema.NonEmptyString },
      success: ApiKeyInfo,
      error: writeErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "API keys", description: "The workspace's API keys (admin scope)" }))
{}

const worldParams = { workspaceId: WorkspaceId, worldModelId: Schema.NonEmptyString }

export class WorldModelsGroup extends HttpApiGroup.make("worldModels")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/world-models", { params: workspaceParams, success: Schema.Array(WorldModelSummary), error: readErrors }),
    HttpApiEndpoint.get("versions", "/:workspaceId/world-models/:worldModelId/versions", {
      params: worldParams,
      success: Schema.Array(WorldModelVersion),
      error: readErrors
    }),
    HttpApiEndpoint.get("version", "/:workspaceId/world-models/:worldModelId/versions/:version", {
      params: { ...worldParams, version: Schema.NonEmptyString },
      success: WorldModelVersion,
      error: readErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "World models", description: "Published world models and their versions with the ADR-030 version metadata (the authority ref scans carry)" }))
{}

export class SamplesGroup extends HttpApiGroup.make("samples")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/samples", { params: workspaceParams, success: Schema.Array(Sample), error: readErrors }),
    HttpApiEndpoint.post("curate", "/:workspaceId/samples/curate", { params: workspaceParams, payload: CurateRequest, success: CurationResult, error: writeErrors }),
    HttpApiEndpoint.get("sampleSets", "/:workspaceId/sample-sets", { params: workspaceParams, success: Schema.Array(SampleSet), error: readErrors }),
    HttpApiEndpoint.get("sampleSetVersions", "/:workspaceId/sample-sets/:sampleSetId", {
      params: { workspaceId: WorkspaceId, sampleSetId: Schema.NonEmptyString },
      success: Schema.Array(SampleSet),
      error: readErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Samples", description: "Curated samples, curation of incoming traces, and the versioned sample sets (every version, oldest first)" }))
{}

export class RetentionGroup extends HttpApiGroup.make("retention")
  .add(
    HttpApiEndpoint.get("holds", "/:workspaceId/retention/holds", { params: workspaceParams, success: Schema.Array(LegalHoldInfo), error: readErrors }),
    HttpApiEndpoint.post("placeHold", "/:workspaceId/retention/holds", { params: workspaceParams, payload: PlaceHoldRequest, success: LegalHoldInfo, error: writeErrors }),
    HttpApiEndpoint.post("releaseHold", "/:workspaceId/retention/holds/:holdId/release", {
      params: { workspaceId: WorkspaceId, holdId: Schema.NonEmptyString },
      payload: ReleaseHoldRequest,
      success: LegalHoldInfo,
      error: writeErrors
    }),
    HttpApiEndpoint.get("lastSweep", "/:workspaceId/retention/sweep", { params: workspaceParams, success: LastSweep, error: readErrors })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Retention", description: "Legal holds (place, release; audited) and the last retention sweep of this service's lifecycle" }))
{}

export class IngestKeysGroup extends HttpApiGroup.make("ingestKeys")
  .add(
    HttpApiEndpoint.get("list", "/:workspaceId/ingest-keys", { params: workspaceParams, success: Schema.Array(IngestKeyInfo), error: readErrors }),
    HttpApiEndpoint.post("issue", "/:workspaceId/ingest-keys", { params: workspaceParams, payload: IssueIngestKeyRequest, success: IssuedIngestKey, error: writeErrors }),
    HttpApiEndpoint.post("revoke", "/:workspaceId/ingest-keys/:keyId/revoke", {
      params: { workspaceId: WorkspaceId, keyId: Schema.NonEmptyString },
      success: IngestKeyInfo,
      error: writeErrors
    })
  )
  .middleware(ApiAuthorization)
  .prefix("/api/workspaces")
  .annotateMerge(OpenApi.annotations({ title: "Ingest keys", description: "The workspace's OTLP ingest keys, stored hashed (admin scope)" }))
{}

export class SpectralApi extends HttpApi.make("spectral")
  .add(WorkspacesGroup)
  .add(ScansGroup)
  .add(ProgressGroup)
  .add(SupervisorGroup)
  .add(ChangeSetsGroup)
  .add(CardsGroup)
  .add(WorldModelsGroup)
  .add(SamplesGroup)
  .add(RetentionGroup)
  .add(ApiKeysGroup)
  .add(IngestKeysGroup)
  .middleware(HttpApiMiddleware.ProblemDetails)
  .middleware(ApiBodyLimit)
  .annotateMerge(OpenApi.annotations({
    title: "Spectral host API",
    description: "Scans, verdicts, failure clusters, change-set decisions and cards of one workspace per API key (Authorization: Bearer <key>)"
  }))
{}
