/**
 * The SQL driver for every repository port, on effect/sql with @effect/sql-pg's PgClient: composes
 * one repository module per port (`repositories/`) over one shared SqlRepoContext, and provides them
 * as a context and a layer (`Storage.layerNoDeps`). Each row is a JSONB document encoded through its contract Schema, plus
 * the columns the queries filter and sort by; a row that no longer decodes is a `Corrupt`
 * StorageError, never a crash. Every call is one transaction that first sets
 * `spectral.workspace_id` for that transaction only (`set_config(..., true)`), so row-level security
 * scopes it; with `assumeRole` it also switches to that role for the transaction (`SET LOCAL ROLE`),
 * for connections whose own role is privileged. Behaves like the engine's MemoryStorage. Does not own
 * connections (Storage.ts), migrations or any query (those are in the repository modules).
 */
import {
  ChangeSetRepo,
  FailureClusterRepo,
  IngestKeyRepo,
  WorkspaceSecretRepo,
  ApiKeyRepo,
  RetentionRepo,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo,
  repositoriesContext,
  TemplateProposalRepo,
  TraceRepo,
  WorkspaceRepo
} from "@spectral/engine"
import { Context, Effect, Layer } from "effect"
import { PgClient } from "@effect/sql-pg"
import { EvolutionCandidateRepo, EvolutionEventLog } from "@spectral/worlds"
import { makeSqlChangeSetRepo } from "./repositories/SqlChangeSetRepo.ts"
import { makeSqlEvolutionCandidateRepo, makeSqlEvolutionEventLog } from "./repositories/SqlEvolutionCandidateRepo.ts"
import { makeSqlFailureClusterRepo } from "./repositories/SqlFailureClusterRepo.ts"
import { makeSqlIngestKeyRepo } from "./repositories/SqlIngestKeyRepo.ts"
import { makeSqlWorkspaceSecretRepo } from "./repositories/SqlWorkspaceSecretRepo.ts"
import { makeSqlApiKeyRepo } from "./repositories/SqlApiKeyRepo.ts"
import { makeSqlRepoContext } from "./repositories/SqlRepoContext.ts"
import { makeSqlRetentionRepo } from "./repositories/SqlRetentionRepo.ts"
import { makeSqlSampleRepo } from "./repositories/SqlSampleRepo.ts"
import { makeSqlScanRepo } from "./repositories/SqlScanRepo.ts"
import { makeSqlScanTraceRepo } from "./repositories/SqlScanTraceRepo.ts"
import { makeSqlTemplateProposalRepo } from "./repositories/SqlTemplateProposalRepo.ts"
import { makeSqlTraceRepo } from "./repositories/SqlTraceRepo.ts"
import { makeSqlWorkspaceRepo } from "./repositories/SqlWorkspaceRepo.ts"

/** Every repository port; what the storage layers provide. */
export type Repositories =
  | WorkspaceRepo
  | ScanRepo
  | ScanTraceRepo
  | FailureClusterRepo
  | ChangeSetRepo
  | SampleRepo
  | TraceRepo
  | RetentionRepo
  | IngestKeyRepo
  | TemplateProposalRepo
  | WorkspaceSecretRepo
  | ApiKeyRepo

export interface RepositoryOptions {
  /**
   * A role to switch to inside every transaction. Needed when the connection's own role bypasses
   * row-level security (a client on embedded PGlite's owner session, `Storage.layerPgliteClient`).
   */
  readonly assumeRole?: string | undefined
  /** Rows per INSERT when writing a batch (default 500). */
  readonly batchSize?: number | undefined
}

/** Every repository on the PgClient in context. */
export const makeRepositories = Effect.fnUntraced(function*(options: RepositoryOptions = {}) {
  const sql = yield* PgClient.PgClient
  const context = makeSqlRepoContext(sql, { batchSize: options.batchSize ?? 500, assumeRole: options.assumeRole })
  return {
    workspace: makeSqlWorkspaceRepo(context),
    scan: makeSqlScanRepo(context),
    scanTrace: makeSqlScanTraceRepo(context),
    cluster: makeSqlFailureClusterRepo(context),
    changeSet: makeSqlChangeSetRepo(context),
    sample: makeSqlSampleRepo(context),
    trace: makeSqlTraceRepo(context),
    retention: makeSqlRetentionRepo(context),
    ingestKey: makeSqlIngestKeyRepo(context),
    templateProposal: makeSqlTemplateProposalRepo(context),
    secret: makeSqlWorkspaceSecretRepo(context),
    apiKey: makeSqlApiKeyRepo(context)
  }
})

/** Every repository port on the PgClient in context (migrations must have run). */
export const layerNoDeps = (options: RepositoryOptions = {}): Layer.Layer<Repositories, never, PgClient.PgClient> =>
  Layer.effectContext(Effect.map(makeRepositories(options), repositoriesContext))

/** The world-evolution loop's store (`@spectral/worlds` ports): candidates, evidence, cursors, the outbox read. */
export type EvolutionStore = EvolutionCandidateRepo | EvolutionEventLog

/** The evolution store on the PgClient in context (migration 8 must have run). */
export const makeEvolutionStore = Effect.fnUntraced(function*(options: RepositoryOptions = {}) {
  const sql = yield* PgClient.PgClient
  const context = makeSqlRepoContext(sql, { batchSize: options.batchSize ?? 500, assumeRole: options.assumeRole })
  return Context.make(EvolutionCandidateRepo, makeSqlEvolutionCandidateRepo(context)).pipe(
    Context.add(EvolutionEventLog, makeSqlEvolutionEventLog(context))
  )
})
