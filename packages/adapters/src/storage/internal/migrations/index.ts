/**
 * Every schema migration, as code, keyed `<id>_<name>` for effect/sql's Migrator. Add a migration by
 * adding a module and a line here; never edit one that has shipped.
 */
import workspaceTables from "./0001_workspace_tables.ts"
import retentionAndIngestKeys from "./0002_retention_and_ingest_keys.ts"
import eventsAndResponseCache from "./0003_events_and_response_cache.ts"
import emptyWorkspaceId from "./0004_empty_workspace_id.ts"
import lifecycle from "./0005_lifecycle.ts"
import workspaceSecrets from "./0006_workspace_secrets.ts"
import apiKeys from "./0007_api_keys.ts"
import evolutionCandidates from "./0008_evolution_candidates.ts"
import scanPhaseParts from "./0009_scan_phase_parts.ts"
import scanSummaries from "./0010_scan_summaries.ts"

export const migrations = {
  "0001_workspace_tables": workspaceTables,
  "0002_retention_and_ingest_keys": retentionAndIngestKeys,
  "0003_events_and_response_cache": eventsAndResponseCache,
  "0004_empty_workspace_id": emptyWorkspaceId,
  "0005_lifecycle": lifecycle,
  "0006_workspace_secrets": workspaceSecrets,
  "0007_api_keys": apiKeys,
  "0008_evolution_candidates": evolutionCandidates,
  "0009_scan_phase_parts": scanPhaseParts,
  "0010_scan_summaries": scanSummaries
} as const
