/**
 * Applying the storage migrations (effect/sql's Migrator over whichever SqlClient is provided, run as
 * the schema owner) and checking, as the unprivileged app role, that a database is up to date.
 * Owns the names a host must know: the `spectral` schema, its `spectral.migrations` table and the
 * `spectral_app` role. Does not own connections.
 */
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import * as Migrator from "effect/sql/Migrator"
import type { SqlError } from "effect/sql/SqlError"
import { migrations } from "./migrations/index.ts"

import * as WorkspaceTables0001 from "./migrations/0001_workspace_tables.ts"
import * as RetentionAndIngestKeys0002 from "./migrations/0002_retention_and_ingest_keys.ts"
import * as EventsAndResponseCache0003 from "./migrations/0003_events_and_response_cache.ts"
import * as Lifecycle0005 from "./migrations/0005_lifecycle.ts"
import * as WorkspaceSecrets0006 from "./migrations/0006_workspace_secrets.ts"
import * as ApiKeys0007 from "./migrations/0007_api_keys.ts"
import * as EvolutionCandidates0008 from "./migrations/0008_evolution_candidates.ts"
import * as ScanPhaseParts0009 from "./migrations/0009_scan_phase_parts.ts"
import * as ScanSummaries0010 from "./migrations/0010_scan_summaries.ts"

/**
 * Every workspace-scoped table, across all migrations (each migration keeps its own frozen list).
 * A migration that adds such a table appends it here; the RLS probe fails for any table that has a
 * `workspace_id` column and is missing from this list or from the probe's table specs.
 */
export const workspaceTables: ReadonlyArray<string> = [
  ...WorkspaceTables0001.workspaceTables,
  ...RetentionAndIngestKeys0002.workspaceTables,
  ...EventsAndResponseCache0003.workspaceTables,
  ...Lifecycle0005.workspaceTables,
  ...WorkspaceSecrets0006.workspaceTables,
  ...ApiKeys0007.workspaceTables,
  ...EvolutionCandidates0008.workspaceTables,
  ...ScanPhaseParts0009.workspaceTables,
  ...ScanSummaries0010.workspaceTables
]
/** Tables the app role may only read and insert into. */
export const appendOnlyTables: ReadonlyArray<string> = [
  ...WorkspaceTables0001.appendOnlyTables,
  ...RetentionAndIngestKeys0002.appendOnlyTables,
  ...EventsAndResponseCache0003.appendOnlyTables,
  ...Lifecycle0005.appendOnlyTables,
  ...WorkspaceSecrets0006.appendOnlyTables,
  ...ApiKeys0007.appendOnlyTables,
  ...EvolutionCandidates0008.appendOnlyTables,
  ...ScanPhaseParts0009.appendOnlyTables,
  ...ScanSummaries0010.appendOnlyTables
]

/** The schema every table lives in. */
export const schemaName = "spectral"
/** The role the engine connects as: not the owner, not a superuser, no BYPASSRLS. */
export const appRole = "spectral_app"
/** Where the Migrator records what it applied. */
export const migrationsTable = `${schemaName}.migrations`

export const migrationLoader = Migrator.fromRecord(migrations)

/** The highest migration id this build knows. */
export const latestMigrationId: number = Math.max(
  ...Object.keys(migrations).map((key) => Number(key.split("_")[0]))
)

export interface AppliedMigration {
  readonly id: number
  readonly name: string
}

export class MigrationFailed extends Schema.TaggedError<MigrationFailed>()("MigrationFailed", {
  message: Schema.String
}) {}

const runMigrator = Migrator.make({})

/** Apply every pending migration (as the owner); returns what was applied, oldest first. */
export const migrate: Effect.Effect<ReadonlyArray<AppliedMigration>, MigrationFailed, SqlClient.SqlClient> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const schemaExists = Effect.map(
      sql<{ readonly found: boolean }>`SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ${schemaName}) AS found`.withoutTransform,
      (rows) => rows[0]?.found === true
    )
    // Checked first: CREATE SCHEMA needs CREATE on the database even when the schema exists. Two
    // processes migrating a new database at once may race here; the loser finds the schema made.
    if (!(yield* schemaExists)) {
      yield* sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schemaName}`).pipe(
        Effect.catch((error) => Effect.flatMap(schemaExists, (found) => found ? Effect.void : Effect.fail(error)))
      )
    }
    const applied = yield* runMigrator({ loader: migrationLoader, table: migrationsTable })
    return applied.map(([id, name]) => ({ id, name }))
  }
).pipe(
  Effect.mapError((error: SqlError | Migrator.MigrationError) =>
    new MigrationFailed({ message: describeMigrationError(error) })
  ),
  Effect.withSpan("Migrations.migrate")
)

const describeMigrationError = (error: SqlError | Migrator.MigrationError): string => {
  const cause = "cause" in error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
  const reasonCause = error._tag === "SqlError" && error.reason.cause instanceof Error
    ? `: ${error.reason.cause.message}`
    : ""
  return `${error.message}${cause}${reasonCause}`
}

/** The newest applied migration id (0 when none), read by any role that may select the table. */
export const currentMigrationId: Effect.Effect<number, SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const exists = yield* sql<{ readonly found: boolean }>`SELECT to_regclass(${migrationsTable}) IS NOT NULL AS found`
  if (exists[0]?.found !== true) return 0
  const rows = yield* sql<{ readonly id: number | null }>`SELECT max(migration_id) AS id FROM ${sql(migrationsTable)}`
  return rows[0]?.id ?? 0
})
