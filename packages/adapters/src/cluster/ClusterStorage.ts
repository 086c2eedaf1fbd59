/**
 * The SQL connection `effect/cluster` keeps its own state on (shard locks, runners, workflow
 * messages and activity results: `cluster_*` tables it creates itself) when scans run on runner
 * processes (`spectral runner`). It is a PostgreSQL server's: embedded PGlite serves one process,
 * so runners need `SPECTRAL_DATABASE_URL`. The connection must be allowed to create tables — by
 * default the owner's (`SPECTRAL_DATABASE_OWNER_URL`), or `SPECTRAL_CLUSTER_DATABASE_URL`. The
 * cluster tables hold scan payloads and phase outputs across workspaces: they are platform state,
 * outside row-level security, reached only by runners.
 *
 * Before a runner joins, the engine's schema is checked: a database behind the engine's
 * migrations is refused with the numbers (`ClusterUnavailable`), never joined.
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Context, Effect, Layer, Option, type Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { currentMigrationId, latestMigrationId } from "../storage/internal/Migrations.ts"

export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()("ClusterUnavailable", {
  reason: Schema.Literals(["NoServer", "Connect", "SchemaBehind"]),
  message: Schema.String
}) {}

/** Where the cluster's state lives, read from the environment. */
export const ClusterStorageConfig = Config.all({
  clusterUrl: Config.option(Config.Redacted("SPECTRAL_CLUSTER_DATABASE_URL")),
  ownerUrl: Config.option(Config.Redacted("SPECTRAL_DATABASE_OWNER_URL")),
  databaseUrl: Config.option(Config.Redacted("SPECTRAL_DATABASE_URL"))
})

const describe = (error: SqlError): string => {
  const cause = error.reason.cause
  return cause instanceof Error && !error.message.includes(cause.message) ? `${error.message}: ${cause.message}` : error.message
}

/** The engine's schema on `url` is at its latest migration, or a ClusterUnavailable naming both numbers. */
const checkSchema = Effect.gen(function*() {
  const current = yield* currentMigrationId
  if (current < latestMigrationId) {
    return yield* new ClusterUnavailable({
      reason: "SchemaBehind",
      message: `the database is at migration ${current}, this engine needs ${latestMigrationId}: run \`spectral db migrate\` before starting runners`
    })
  }
})

/** A SqlClient for the cluster on `url`, after checking the engine's schema there. */
export const layerUrl = (url: Redacted.Redacted<string>): Layer.Layer<SqlClient.SqlClient, ClusterUnavailable> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const client = yield* PgClient.make({ url, maxConnections: 8, applicationName: "spectral-cluster" }).pipe(
        Effect.mapError((error) => new ClusterUnavailable({ reason: "Connect", message: `cannot reach the cluster's database: ${describe(error)}` }))
      )
      yield* checkSchema.pipe(
        Effect.provideService(SqlClient.SqlClient, client),
        Effect.catchTag("SqlError", (error) => Effect.fail(new ClusterUnavailable({ reason: "Connect", message: describe(error) })))
      )
      return Context.make(SqlClient.SqlClient, client)
    })
  ).pipe(Layer.provide(Reactivity.layer))

/** The cluster's SqlClient from the environment: the cluster URL, else the owner's, else the engine's. */
export const layerConfig: Layer.Layer<SqlClient.SqlClient, ClusterUnavailable | Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    const config = yield* ClusterStorageConfig
    if (Option.isNone(config.databaseUrl)) {
      return yield* new ClusterUnavailable({
        reason: "NoServer",
        message: "runners need a PostgreSQL server: set SPECTRAL_DATABASE_URL (embedded PGlite serves one process)"
      })
    }
    return layerUrl(Option.getOrElse(config.clusterUrl, () => Option.getOrElse(config.ownerUrl, () => config.databaseUrl.pipe(Option.getOrThrow))))
  })
)
