/**
 * The embedded store with room for `effect/cluster`'s state: embedded PGlite (the zero-setup
 * default) opened, migrated and connected as the engine's role exactly as `Storage.layerPglite`
 * does, with the cluster's message tables (`cluster_messages`, `cluster_replies`, created by
 * `SqlMessageStorage`'s own migrations) made in the same database first. PGlite has one session,
 * so one connection serves both: the owner's short connection runs the engine's migrations and the
 * cluster's, grants the engine's role what the cluster's runtime statements need on those tables
 * (DML only, `SqlMessageStorage.layerStorage`), and closes; the engine's connection (`spectral_app`,
 * checked unprivileged and current) is then the SqlClient of both the store and the cluster. The
 * cluster tables sit in `public`, outside row-level security, as on a server (`ClusterStorage`).
 *
 * It owns opening that database; the repositories on it are `Storage.layerWithEventsNoDeps`, the
 * runner on it is the host's (`spectral scan`'s in-process runner).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import { SqlMessageStorage } from "effect/cluster"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { StorageSetupError } from "../storage/Storage.ts"
import * as Migrations from "../storage/internal/Migrations.ts"
import * as PgliteClient from "../storage/internal/PgliteClient.ts"

/** The prefix of the cluster's tables (`effect/cluster`'s default, as on a server). */
export const tablePrefix = "cluster"

const clusterTables = [`${tablePrefix}_messages`, `${tablePrefix}_replies`] as const

const setupFailed = (reason: StorageSetupError["reason"]) => (error: { readonly message: string }) =>
  new StorageSetupError({ reason, message: error.message })

const describe = (error: SqlError): string => {
  const cause = error.reason.cause
  return cause instanceof Error && !error.message.includes(cause.message) ? `${error.message}: ${cause.message}` : error.message
}

/** As the owner: the cluster's message tables (its migrations), and DML on them for the engine's role. */
const prepareCluster = (owner: PgClient.PgClient) =>
  Effect.gen(function*() {
    yield* Effect.scoped(Layer.build(SqlMessageStorage.layerMigrations({ prefix: tablePrefix })))
    const role = owner(Migrations.appRole)
    for (const table of clusterTables) {
      yield* owner`GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${owner(table)} TO ${role}`
      yield* owner`GRANT USAGE, SELECT ON SEQUENCE ${owner(`${table}_rowid_seq`)} TO ${role}`
    }
  }).pipe(Effect.provideService(SqlClient.SqlClient, owner))

/**
 * Open PGlite under `dataDir`, migrate the engine's schema and the cluster's tables as the owner,
 * then connect as the engine's role for the whole session, checked unprivileged and current.
 */
const openWithCluster = (options: PgliteClient.PgliteOptions) =>
  Effect.gen(function*() {
    const db = yield* PgliteClient.open(options).pipe(Effect.mapError(setupFailed("Connect")))
    yield* Effect.scoped(Effect.gen(function*() {
      const owner = yield* db.connect(undefined).pipe(Effect.mapError((error) => new StorageSetupError({ reason: "Connect", message: error._tag === "SqlError" ? describe(error) : error.message })))
      yield* Migrations.migrate.pipe(Effect.provideService(SqlClient.SqlClient, owner), Effect.mapError(setupFailed("Migrate")))
      yield* prepareCluster(owner).pipe(Effect.mapError((error) => new StorageSetupError({ reason: "Migrate", message: `the cluster's tables: ${describe(error)}` })))
    }))
    const client = yield* db.connect(Migrations.appRole).pipe(
      Effect.mapError((error) => new StorageSetupError({ reason: "Connect", message: error._tag === "SqlError" ? describe(error) : error.message }))
    )
    const current = yield* Migrations.currentMigrationId.pipe(
      Effect.provideService(SqlClient.SqlClient, client),
      Effect.mapError((error) => new StorageSetupError({ reason: "Connect", message: describe(error) }))
    )
    if (current < Migrations.latestMigrationId) {
      return yield* new StorageSetupError({
        reason: "SchemaOutdated",
        message: `the database is at migration ${current}, this build needs ${Migrations.latestMigrationId}`
      })
    }
    return client
  })

/**
 * The PgClient (and SqlClient) of embedded PGlite under `dataDir` with the cluster's tables in it:
 * migrated, the session as `spectral_app`. `Storage.layerWithEventsNoDeps()` on it is the store;
 * the same client is the cluster's (`SqlMessageStorage.layerStorage`).
 */
export const layerPglite = (options: PgliteClient.PgliteOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StorageSetupError> =>
  PgClient.layerFrom(openWithCluster(options))
