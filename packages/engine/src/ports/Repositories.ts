/**
 * The storage ports the scan uses. Every method names its workspace explicitly, so a SQL driver can
 * scope each transaction to it (row-level security) and a memory driver can partition by it.
 * Drivers: `MemoryStorage` here (tests, embedding), the SQL store in `@spectral/adapters`.
 */
import { Context, type Effect, type Option } from "effect"
import type {
  ChangeSet,
  ChangeSetAuditEntry,
  ChangeSetStatus,
  EvalResult,
  FailureCluster,
  PhaseName,
  RubricDivergenceRecord,
  Sample,
  SampleSet,
  Scan,
  ScanHeader,
  ScanSummary,
  ScanTrace,
  TemplateProposal,
  TemplateProposalStatus,
  Trace,
  VerdictResult,
  Workspace
} from "../contracts/index.ts"
import type { StorageError } from "./StorageError.ts"

export class WorkspaceRepo extends Context.Service<WorkspaceRepo, {
  readonly upsert: (workspace: Workspace) => Effect.Effect<void, StorageError>
  readonly get: (workspaceId: string) => Effect.Effect<Workspace, StorageError>
}>()("@spectral/engine/ports/WorkspaceRepo") {}

export class ScanRepo extends Context.Service<ScanRepo, {
  readonly insert: (scan: Scan) => Effect.Effect<void, StorageError>
  readonly update: (scan: Scan) => Effect.Effect<void, StorageError>
  /**
   * Write the scan only while its stored lease is still `holder`'s (the same owner and take, and
   * expiry when the holder names one; `{ owner: null }`: the row has no lease), the check and the
   * write one step: false, and nothing written, when another holds it now — so a process that
   * stalled between its own check and its write cannot overwrite its successor's, and of two
   * processes taking over the same lease left behind only one succeeds.
   */
  readonly updateHeld: (scan: Scan, holder: ScanLeaseHolder) => Effect.Effect<boolean, StorageError>
  readonly get: (workspaceId: string, scanId: string) => Effect.Effect<Scan, StorageError>
  /** Newest first. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<Scan>, StorageError>
  /** The completed scans only, newest first (as `list` orders them), each as its `ScanHeader` (one read, no phase or lease data). */
  readonly listCompleted: (workspaceId: string) => Effect.Effect<ReadonlyArray<ScanHeader>, StorageError>
  /**
   * The summaries kept for the workspace's scans under `settings` (what they were computed with,
   * `scanSummarySettings`), by scan id, in one read.
   */
  readonly summaries: (workspaceId: string, settings: string) => Effect.Effect<ReadonlyMap<string, ScanSummary>, StorageError>
  /**
   * Keep completed scans' summaries under `settings`. A completed scan's summary never changes: one
   * already kept for a scan and settings stays (saving it again is a no-op, never a conflict).
   */
  readonly saveSummaries: (workspaceId: string, settings: string, summaries: ReadonlyArray<ScanSummary>) => Effect.Effect<void, StorageError>
  /**
   * A phase's output, written at the phase boundary so a crashed scan resumes after it. Its parts
   * (`splitPhaseOutput`: the eval set's samples, each arm's runs) are stored apart, in chunks, and
   * the output's row holds their references; writing again replaces the row and all its chunks
   * (a phase re-run after a kill writes the same ones). Every read below joins the parts back
   * (`joinPhaseOutput`): a part whose chunks are missing or short comes back as its reference
   * marked `unresolved`, never as a partial array.
   */
  readonly savePhaseOutput: (workspaceId: string, scanId: string, phase: PhaseName, output: unknown) => Effect.Effect<void, StorageError>
  readonly phaseOutputs: (workspaceId: string, scanId: string) => Effect.Effect<ReadonlyMap<PhaseName, unknown>, StorageError>
  /** One phase's saved output (none: the phase has not finished), without reading the others. */
  readonly phaseOutput: (workspaceId: string, scanId: string, phase: PhaseName) => Effect.Effect<Option.Option<unknown>, StorageError>
  /** One phase's saved output of every scan of the workspace that finished it, by scan id (one read). */
  readonly phaseOutputsOf: (workspaceId: string, phase: PhaseName) => Effect.Effect<ReadonlyMap<string, unknown>, StorageError>
  /**
   * One top-level field of one phase's saved output, as `phaseOutputsOf` would have it, of every
   * scan that finished the phase, by scan id (one read; the rest of each output is not read);
   * `undefined` where the output has no such field.
   */
  readonly phaseOutputFieldOf: (workspaceId: string, phase: PhaseName, field: string) => Effect.Effect<ReadonlyMap<string, unknown>, StorageError>
  /**
   * Replace the content of one stimulus in every saved phase output of the workspace, as
   * `redactStimulusContent` does (the input of the EvalSet sample, what runs of it said); everything
   * else (ids, scores, other stimuli) stays, in the output's rows and in its parts' chunks alike.
   * Idempotent; returns how many phase outputs changed (one whose row or any chunk changed).
   */
  readonly redactPhaseOutputs: (workspaceId: string, stimulusId: string, marker: string) => Effect.Effect<number, StorageError>
  readonly saveVerdict: (verdict: VerdictResult) => Effect.Effect<void, StorageError>
  readonly verdict: (workspaceId: string, scanId: string) => Effect.Effect<VerdictResult, StorageError>
  readonly saveDivergence: (record: RubricDivergenceRecord) => Effect.Effect<void, StorageError>
  readonly divergence: (workspaceId: string, scanId: string) => Effect.Effect<RubricDivergenceRecord, StorageError>
}>()("@spectral/engine/ports/ScanRepo") {}

/** Who a scan row's lease must name for `ScanRepo.updateHeld` to write it (`owner: null`: nobody, the row has no lease). */
export type ScanLeaseHolder =
  | {
    readonly owner: string
    /** The take of a workflow execution's lease (`ScanLease.take`); absent: a lease with none. */
    readonly take?: string | undefined
    /** The lease's expiry as observed: the lease must not have been renewed since. Absent: any expiry. */
    readonly expiresAt?: string | undefined
  }
  | { readonly owner: null }

/** The holder that matches exactly the lease a row had when it was read (none: a row with no lease). */
export const observedHolder = (lease: Scan["lease"]): ScanLeaseHolder =>
  lease === undefined ? { owner: null } : { owner: lease.owner, take: lease.take, expiresAt: lease.expiresAt }

/** Whether a stored scan's lease is `holder`'s (both drivers decide it the same way). */
export const leaseHeldBy = (stored: Scan, holder: ScanLeaseHolder): boolean =>
  holder.owner === null
    ? stored.lease === undefined
    : stored.lease !== undefined && stored.lease.owner === holder.owner && stored.lease.take === holder.take &&
      (holder.expiresAt === undefined || stored.lease.expiresAt === holder.expiresAt)

export class ScanTraceRepo extends Context.Service<ScanTraceRepo, {
  /** Idempotent on trace id: re-inserting a trace (a resumed phase) stores it once. */
  readonly insertTraces: (workspaceId: string, traces: ReadonlyArray<ScanTrace>) => Effect.Effect<void, StorageError>
  readonly insertResults: (workspaceId: string, results: ReadonlyArray<EvalResult>) => Effect.Effect<void, StorageError>
  readonly traces: (workspaceId: string, scanId: string) => Effect.Effect<ReadonlyArray<ScanTrace>, StorageError>
  /**
   * One page of a scan's traces of one arm, in the order `traces` lists them (insertion order),
   * starting after the trace `page.after` (keyset pagination: a page costs the same wherever it is).
   * A page shorter than `page.limit` is the last. NotFound when `page.after` is no trace of the
   * scan; Refused when `page.limit` is not a positive integer (`scanTracePageProblem`).
   */
  readonly tracesPage: (workspaceId: string, scanId: string, page: ScanTracePage) => Effect.Effect<ReadonlyArray<ScanTrace>, StorageError>
  readonly results: (workspaceId: string, scanId: string) => Effect.Effect<ReadonlyArray<EvalResult>, StorageError>
  /**
   * Replace the content of every ScanTrace of one stimulus (all scans of the workspace) as
   * `redactStimulusContent` does, and the explanation of every EvalResult of those traces, with
   * `marker`. Ids, provenance, statuses, scores, costs and latencies stay. Idempotent; counts what changed.
   */
  readonly redactStimulus: (workspaceId: string, stimulusId: string, marker: string) => Effect.Effect<StimulusRedaction, StorageError>
}>()("@spectral/engine/ports/ScanTraceRepo") {}

/** Which page of a scan's traces `ScanTraceRepo.tracesPage` reads. */
export interface ScanTracePage {
  /** Only traces of this arm (`"baseline"` or a candidate's arm). */
  readonly arm: string
  /** The id of the last trace of the previous page; absent: the first page. */
  readonly after?: string | undefined
  /** Most traces in the page: a positive integer. */
  readonly limit: number
}

/** What is wrong with a page request, for both drivers' Refused error; undefined when nothing is. */
export const scanTracePageProblem = (page: ScanTracePage): string | undefined =>
  Number.isSafeInteger(page.limit) && page.limit > 0 ? undefined : `page limit must be a positive integer, got ${page.limit}`

/** What redacting one stimulus changed in a workspace's scan traces and eval results. */
export interface StimulusRedaction {
  readonly scanTraces: number
  readonly evalResults: number
}

/** Fields that carry what a stimulus said or what was said about it, wherever they appear. */
const stimulusContentFields: ReadonlySet<string> = new Set([
  "input",
  "prompt",
  "rawOutput",
  "output",
  "finalOutput",
  "agentOutputs",
  "explanation",
  "error"
])

const replaceLeaves = (value: unknown, marker: string): unknown =>
  Array.isArray(value)
    ? value.map((item) => replaceLeaves(item, marker))
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceLeaves(item, marker)]))
    : value === null || value === undefined
    ? value
    : marker

/**
 * The redaction both drivers apply (so they cannot drift), on a JSON value: inside an object that
 * belongs to the stimulus (`stimulusId` is it, or it is the EvalSet sample: `id` is it and it has a
 * `provenance`) and everything nested in it, each content field (`input`, `prompt`, `rawOutput`,
 * `output`, `finalOutput`, `agentOutputs`, `explanation`, `error`) keeps its keys but every value
 * becomes `marker`. Ids, scores and objects of other stimuli are untouched. Pure and idempotent.
 */
export const redactStimulusContent = (value: unknown, stimulusId: string, marker: string): unknown => {
  const walk = (node: unknown, owned: boolean): unknown => {
    if (Array.isArray(node)) return node.map((item) => walk(item, owned))
    if (node === null || typeof node !== "object") return node
    const record = node as Record<string, unknown>
    const mine = owned || record["stimulusId"] === stimulusId ||
      (record["id"] === stimulusId && typeof record["provenance"] === "string")
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [
      key,
      mine && stimulusContentFields.has(key) ? replaceLeaves(item, marker) : walk(item, mine)
    ]))
  }
  return walk(value, false)
}

/** An eval result of a redacted trace: the explanation (which may quote the stimulus) becomes `marker`. */
export const redactEvalResult = (result: EvalResult, marker: string): EvalResult =>
  result.explanation === undefined ? result : { ...result, explanation: marker }

export class FailureClusterRepo extends Context.Service<FailureClusterRepo, {
  readonly insert: (workspaceId: string, clusters: ReadonlyArray<FailureCluster>) => Effect.Effect<void, StorageError>
  readonly list: (workspaceId: string, scanId: string) => Effect.Effect<ReadonlyArray<FailureCluster>, StorageError>
}>()("@spectral/engine/ports/FailureClusterRepo") {}

export class ChangeSetRepo extends Context.Service<ChangeSetRepo, {
  readonly insert: (changeSet: ChangeSet) => Effect.Effect<void, StorageError>
  /** Compare-and-set on status: fails with Conflict when the stored status is not `expected`. */
  readonly update: (changeSet: ChangeSet, expected: ChangeSetStatus) => Effect.Effect<void, StorageError>
  readonly get: (workspaceId: string, changeSetId: string) => Effect.Effect<ChangeSet, StorageError>
  /** Newest (highest version) first. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<ChangeSet>, StorageError>
  readonly appendAudit: (entry: ChangeSetAuditEntry) => Effect.Effect<void, StorageError>
  readonly audit: (workspaceId: string, changeSetId: string) => Effect.Effect<ReadonlyArray<ChangeSetAuditEntry>, StorageError>
}>()("@spectral/engine/ports/ChangeSetRepo") {}

export class SampleRepo extends Context.Service<SampleRepo, {
  readonly upsertSamples: (workspaceId: string, samples: ReadonlyArray<Sample>) => Effect.Effect<void, StorageError>
  readonly samples: (workspaceId: string) => Effect.Effect<ReadonlyArray<Sample>, StorageError>
  readonly insertSampleSet: (sampleSet: SampleSet) => Effect.Effect<void, StorageError>
  readonly sampleSets: (workspaceId: string) => Effect.Effect<ReadonlyArray<SampleSet>, StorageError>
}>()("@spectral/engine/ports/SampleRepo") {}

export class TraceRepo extends Context.Service<TraceRepo, {
  /** Append-only; idempotent on (traceId, spanId). Returns how many were new. */
  readonly append: (workspaceId: string, traces: ReadonlyArray<Trace>) => Effect.Effect<number, StorageError>
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<Trace>, StorageError>
}>()("@spectral/engine/ports/TraceRepo") {}

/** Retention states of one raw trace (all spans of one OTLP trace id). */
export type RetentionState = "ACTIVE" | "REFERENCED" | "ORPHANED" | "TOMBSTONED"

/** What retention knows about one raw trace; it never holds trace content. */
export interface RetentionRecord {
  readonly workspaceId: string
  readonly traceId: string
  readonly state: RetentionState
  readonly ingestedAt: string
  /**
   * When sample derivation finished. The retention clock starts here; a trace never curated (absent)
   * has its clock running from `ingestedAt`.
   */
  readonly derivationCompletedAt?: string
  readonly tombstonedAt?: string
}

/** One audited retention transition (or hold change); `subject` is a trace id, sample id or hold id. */
export interface RetentionEvent {
  readonly id: string
  readonly workspaceId: string
  readonly subjectKind: "trace" | "sample" | "legal_hold"
  readonly subject: string
  readonly from: string | null
  readonly to: string
  readonly reason: string
  readonly actor: string
  readonly at: string
}

export interface LegalHold {
  readonly id: string
  readonly workspaceId: string
  /** Trace ids under hold; `"*"` holds every trace of the workspace. */
  readonly traceIds: ReadonlyArray<string>
  readonly reason: string
  readonly placedAt: string
  readonly releasedAt?: string
}

/** Days an entity of `entity` kind is kept; absent kinds use the defaults (trace 90, others 365). */
export interface RetentionPolicy {
  readonly workspaceId: string
  readonly entity: string
  readonly days: number
}

export class RetentionRepo extends Context.Service<RetentionRepo, {
  /** Insert records for trace ids not yet known (idempotent); known ones are left as they are. */
  readonly track: (workspaceId: string, records: ReadonlyArray<RetentionRecord>) => Effect.Effect<void, StorageError>
  readonly saveRecords: (workspaceId: string, records: ReadonlyArray<RetentionRecord>) => Effect.Effect<void, StorageError>
  readonly records: (workspaceId: string) => Effect.Effect<ReadonlyArray<RetentionRecord>, StorageError>
  /** Idempotent on event id: an event already stored is not stored again. */
  readonly appendEvents: (workspaceId: string, events: ReadonlyArray<RetentionEvent>) => Effect.Effect<void, StorageError>
  /** Oldest first. */
  readonly events: (workspaceId: string) => Effect.Effect<ReadonlyArray<RetentionEvent>, StorageError>
  readonly setPolicy: (policy: RetentionPolicy) => Effect.Effect<void, StorageError>
  readonly policies: (workspaceId: string) => Effect.Effect<ReadonlyArray<RetentionPolicy>, StorageError>
  readonly saveHold: (hold: LegalHold) => Effect.Effect<void, StorageError>
  readonly holds: (workspaceId: string) => Effect.Effect<ReadonlyArray<LegalHold>, StorageError>
  /** Remove every stored span of these trace ids (content and attributes); returns spans removed. */
  readonly purgeTraces: (workspaceId: string, traceIds: ReadonlyArray<string>) => Effect.Effect<number, StorageError>
  /**
   * The workspaces a retention sweep has work in: a trace record not yet TOMBSTONED or a sample not
   * yet archived. The one read across workspaces, for the scheduled lifecycle; it names ids only.
   */
  readonly workspacesToSweep: () => Effect.Effect<ReadonlyArray<string>, StorageError>
}>()("@spectral/engine/ports/RetentionRepo") {}

/** Prompt-template drafts inferred from ingested traces, awaiting (or carrying) a person's decision. */
export class TemplateProposalRepo extends Context.Service<TemplateProposalRepo, {
  /** Insert a new proposal; an id already stored is a Conflict. */
  readonly insert: (proposal: TemplateProposal) => Effect.Effect<void, StorageError>
  /** Compare-and-set on status: fails with Conflict when the stored status is not `expected`. */
  readonly update: (proposal: TemplateProposal, expected: TemplateProposalStatus) => Effect.Effect<void, StorageError>
  readonly get: (workspaceId: string, proposalId: string) => Effect.Effect<TemplateProposal, StorageError>
  /** Oldest first. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<TemplateProposal>, StorageError>
}>()("@spectral/engine/ports/TemplateProposalRepo") {}

/** An OTLP ingest key, stored only as its SHA-256 hash; the workspace comes from the key. */
export interface IngestKey {
  readonly workspaceId: string
  readonly keyHash: string
  readonly label: string
  readonly createdAt: string
  readonly revokedAt?: string
}

export class IngestKeyRepo extends Context.Service<IngestKeyRepo, {
  readonly save: (key: IngestKey) => Effect.Effect<void, StorageError>
  /** The key with this hash, across workspaces (the lookup that tells the workspace), or NotFound. */
  readonly findByHash: (keyHash: string) => Effect.Effect<IngestKey, StorageError>
  /** The workspace's keys (revoked ones included), oldest first. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<IngestKey>, StorageError>
}>()("@spectral/engine/ports/IngestKeyRepo") {}

/** What an API key may do: read, also write (declare, decide), also administer (keys). */
export type ApiKeyScope = "read" | "write" | "admin"

/** A host API key, stored only as its SHA-256 hash; the workspace and the scope come from the key. */
export interface ApiKey {
  readonly workspaceId: string
  readonly keyHash: string
  readonly scope: ApiKeyScope
  readonly label: string
  readonly createdAt: string
  readonly revokedAt?: string
}

export class ApiKeyRepo extends Context.Service<ApiKeyRepo, {
  /** Insert or replace (by hash): revoking saves the key with `revokedAt`. */
  readonly save: (key: ApiKey) => Effect.Effect<void, StorageError>
  /** The key with this hash, across workspaces (the lookup that tells the workspace), or NotFound. */
  readonly findByHash: (keyHash: string) => Effect.Effect<ApiKey, StorageError>
  /** The workspace's keys (hashes only), oldest first. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<ApiKey>, StorageError>
}>()("@spectral/engine/ports/ApiKeyRepo") {}

/**
 * A workspace secret as stored: only its AEAD ciphertext (AES-256-GCM, the workspace id and the
 * secret's name as associated data), sealed under the key-encryption key with `kekFingerprint`.
 * The plaintext never reaches a repository.
 */
export interface WorkspaceSecretRecord {
  readonly workspaceId: string
  readonly name: string
  readonly kekFingerprint: string
  /** base64 of the 12-byte nonce, the ciphertext and the 16-byte tag. */
  readonly iv: string
  readonly ciphertext: string
  readonly tag: string
  readonly createdAt: string
  readonly rotatedAt?: string
}

export class WorkspaceSecretRepo extends Context.Service<WorkspaceSecretRepo, {
  /** Insert or replace the secret of this name. */
  readonly put: (record: WorkspaceSecretRecord) => Effect.Effect<void, StorageError>
  /** The secret of this name in this workspace, or NotFound. */
  readonly get: (workspaceId: string, name: string) => Effect.Effect<WorkspaceSecretRecord, StorageError>
  /** By name. */
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<WorkspaceSecretRecord>, StorageError>
  /** NotFound when there is none. */
  readonly remove: (workspaceId: string, name: string) => Effect.Effect<void, StorageError>
}>()("@spectral/engine/ports/WorkspaceSecretRepo") {}

/** One implementation of every repository port, as a storage driver builds them. */
export interface RepositorySet {
  readonly workspace: WorkspaceRepo["Service"]
  readonly scan: ScanRepo["Service"]
  readonly scanTrace: ScanTraceRepo["Service"]
  readonly cluster: FailureClusterRepo["Service"]
  readonly changeSet: ChangeSetRepo["Service"]
  readonly sample: SampleRepo["Service"]
  readonly trace: TraceRepo["Service"]
  readonly retention: RetentionRepo["Service"]
  readonly ingestKey: IngestKeyRepo["Service"]
  readonly templateProposal: TemplateProposalRepo["Service"]
  readonly secret: WorkspaceSecretRepo["Service"]
  readonly apiKey: ApiKeyRepo["Service"]
}

/** The repositories as a context: what every storage layer (memory, SQL) provides. */
export const repositoriesContext = (s: RepositorySet) =>
  Context.make(WorkspaceRepo, s.workspace).pipe(
    Context.add(ScanRepo, s.scan),
    Context.add(ScanTraceRepo, s.scanTrace),
    Context.add(FailureClusterRepo, s.cluster),
    Context.add(ChangeSetRepo, s.changeSet),
    Context.add(SampleRepo, s.sample),
    Context.add(TraceRepo, s.trace),
    Context.add(RetentionRepo, s.retention),
    Context.add(IngestKeyRepo, s.ingestKey),
    Context.add(TemplateProposalRepo, s.templateProposal),
    Context.add(WorkspaceSecretRepo, s.secret),
    Context.add(ApiKeyRepo, s.apiKey)
  )

