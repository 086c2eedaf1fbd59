/**
 * The SQL store's one entry point: a PostgreSQL server given by URL, or embedded PGlite under a
 * local folder (the zero-setup default). Each `layer…` migrates (where it may), checks the tenancy
 * guarantees, and provides every repository port; its scope closes every connection it opened.
 * Configuration is read through effect's `Config` (see `StorageConfig`). The `…WithEvents` layers
 * also provide the engine's `UnitOfWork` (one transaction per unit, repository calls join it), the
 * durable `EventBus` (outbox, see events/DurableEventBus.ts) and the SQL `ResponseCache`, all on the
 * same connection pool; the `…NoDeps` layers put the same parts on a `PgClient` the caller opened.
 * `migrate…` apply the migrations. The parts (repository queries, migrations, PGlite and its
 * in-process connection, the workspace transaction) are in `internal/`; this module owns no queries.
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { EventBus, repositoriesContext, UnitOfWork } from "@spectral/engine"
import * as DurableEventBus from "../events/DurableEventBus.ts"
import { ResponseCache } from "../llm/ResponseCache.ts"
import * as Migrations from "./internal/Migrations.ts"
import * as PgliteClient from "./internal/PgliteClient.ts"
import {
  type EvolutionStore,
  layerNoDeps as repositoriesOnClient,
  makeEvolutionStore,
  makeRepositories,
  type Repositories
} from "./internal/SqlRepositories.ts"
import { makeSqlResponseCache } from "./internal/SqlResponseCache.ts"
import { makeSqlUnitOfWork, makeWorkspaceTransaction } from "./internal/WorkspaceTransaction.ts"

export type { EvolutionStore, Repositories, RepositoryOptions } from "./internal/SqlRepositories.ts"
export { type PgliteOptions, PgliteUnavailable } from "./internal/PgliteClient.ts"
export { type AppliedMigration, appRole, currentMigrationId, latestMigrationId, MigrationFailed } from "./internal/Migrations.ts"

/** Why a store could not be opened. */
export class StorageSetupError extends Schema.TaggedError<StorageSetupError>()("StorageSetupError", {
  reason: Schema.Literals(["Connect", "Migrate", "SchemaOutdated", "PrivilegedRole"]),
  message: Schema.String
}) {}

const setupError = (reason: StorageSetupError["reason"]) => (error: { readonly message: string }) =>
  new StorageSetupError({ reason, message: error.message })

const describeSqlError = (error: SqlError): string => {
  const cause = error.reason.cause
  if (!(cause instanceof Error) || error.message.includes(cause.message)) return error.message
  return cause.message.includes(error.message) ? cause.message : `${error.message}: ${cause.message}`
}

export interface PgOptions {
  /** The connection the engine uses: a role that is not the owner, not a superuser, no BYPASSRLS. */
  readonly url: string | Redacted.Redacted<string>
  /** The owner's connection: when given, pending migrations are applied through it first. */
  readonly ownerUrl?: string | Redacted.Redacted<string> | undefined
  /** Pool size of the engine's connection (default 10). */
  readonly maxConnections?: number | undefined
}

/** Where PGlite keeps its files (`dataDir`, created 0700 when missing). */
export type PgliteStoreOptions = PgliteClient.PgliteOptions

/** Run an effect on one client, as both PgClient and SqlClient. */
const onClient = (client: PgClient.PgClient) =>
  Effect.provideContext(Context.make(PgClient.PgClient, client).pipe(Context.add(SqlClient.SqlClient, client)))

const redacted = (value: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  typeof value === "string" ? Redacted.make(value) : value

const connectPg = (url: Redacted.Redacted<string>, maxConnections: number) =>
  PgClient.make({ url, maxConnections, applicationName: "spectral" }).pipe(
    Effect.mapError((error) => new StorageSetupError({ reason: "Connect", message: describeSqlError(error) }))
  )

/** Apply pending migrations through a short-lived owner connection. */
export const migratePg = (ownerUrl: string | Redacted.Redacted<string>) =>
  Effect.scoped(
    Effect.gen(function*() {
      const owner = yield* connectPg(redacted(ownerUrl), 1)
      return yield* Migrations.migrate.pipe(
        onClient(owner),
        Effect.mapError(setupError("Migrate"))
      )
    })
  ).pipe(Effect.provide(Reactivity.layer))


interface RolePrivileges {
  readonly role: string
  readonly superuser: boolean
  readonly bypassRls: boolean
  readonly ownsTables: boolean
}

/** What the connected role could do around row-level security. */
const rolePrivileges = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const rows = yield* sql<{ role: string; superuser: boolean; bypassRls: boolean; ownsTables: boolean }>`
    SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolbypassrls AS "bypassRls",
      EXISTS (
        SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${Migrations.schemaName} AND pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
      ) AS "ownsTables"
    FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`.withoutTransform
  return rows[0] as RolePrivileges
})

/** Refuse a connection on which row-level security would not apply. */
const checkUnprivileged = Effect.gen(function*() {
  const role = yield* rolePrivileges
  const problems = [
    role.superuser ? "is a superuser" : undefined,
    role.bypassRls ? "has BYPASSRLS" : undefined,
    role.ownsTables ? `owns the ${Migrations.schemaName} tables` : undefined
  ].filter((problem) => problem !== undefined)
  if (problems.length > 0) {
    return yield* new StorageSetupError({
      reason: "PrivilegedRole",
      message: `the engine's connection uses role "${role.role}", which ${problems.join(" and ")}: row-level ` +
        `security would not isolate workspaces. Connect as "${Migrations.appRole}" (see the README) and give the owner's ` +
        `URL as SPECTRAL_DATABASE_OWNER_URL for migrations.`
    })
  }
})

const checkSchemaCurrent = Effect.gen(function*() {
  const current = yield* Migrations.currentMigrationId.pipe(Effect.orElseSucceed(() => 0))
  if (current < Migrations.latestMigrationId) {
    return yield* new StorageSetupError({
      reason: "SchemaOutdated",
      message: `the database is at migration ${current}, this build needs ${Migrations.latestMigrationId}: run ` +
        "`spectral db migrate` (as the owner) or set SPECTRAL_DATABASE_OWNER_URL"
    })
  }
})

const sqlFailure = (reason: StorageSetupError["reason"]) =>
  Effect.mapError((error: SqlError | StorageSetupError) =>
    error._tag === "SqlError" ? new StorageSetupError({ reason, message: describeSqlError(error) }) : error
  )

/** Connect the engine to a server (migrating first through `ownerUrl`), checked unprivileged and current. */
const openPg = (options: PgOptions) =>
  Effect.gen(function*() {
    if (options.ownerUrl !== undefined) yield* migratePg(options.ownerUrl)
    const client = yield* connectPg(redacted(options.url), options.maxConnections ?? 10)
    yield* Effect.all([checkUnprivileged, checkSchemaCurrent]).pipe(
      onClient(client),
      sqlFailure("Connect")
    )
    return { client, assumeRole: undefined }
  })

const pgliteFailure = (error: SqlError | PgliteClient.PgliteUnavailable | StorageSetupError | Migrations.MigrationFailed) => {
  switch (error._tag) {
    case "StorageSetupError":
      return error
    case "MigrationFailed":
      return new StorageSetupError({ reason: "Migrate", message: error.message })
    case "SqlError":
      return new StorageSetupError({ reason: "Connect", message: describeSqlError(error) })
    case "PgliteUnavailable":
      return new StorageSetupError({ reason: "Connect", message: error.message })
  }
}

/** Embedded PGlite's owner connection (its bootstrap superuser). */
const connectPglite = (options: PgliteStoreOptions) =>
  PgliteClient.makePgliteClient(options).pipe(Effect.mapError(pgliteFailure))

/**
 * Open embedded PGlite, migrate it through a short-lived owner connection, then connect as the app
 * role for the whole session, checked unprivileged and current exactly like a server connection.
 */
const openPgliteAsApp = (options: PgliteStoreOptions) =>
  Effect.gen(function*() {
    const db = yield* PgliteClient.open(options)
    yield* Effect.scoped(Effect.flatMap(db.connect(undefined), (owner) => Migrations.migrate.pipe(onClient(owner))))
    const client = yield* db.connect(Migrations.appRole)
    yield* Effect.all([checkUnprivileged, checkSchemaCurrent]).pipe(onClient(client))
    return client
  }).pipe(Effect.mapError(pgliteFailure))

/** Open (and migrate) embedded PGlite; the engine's session is the app role, so nothing needs assuming. */
const openPglite = (options: PgliteStoreOptions) =>
  Effect.map(openPgliteAsApp(options), (client): Opened => ({ client, assumeRole: undefined }))

interface Opened {
  readonly client: PgClient.PgClient
  readonly assumeRole: string | undefined
}

const repositoriesOn = ({ client, assumeRole }: Opened) =>
  Effect.map(makeRepositories({ assumeRole }).pipe(onClient(client)), repositoriesContext)

/** Everything the SQL store offers a host: the repositories, UnitOfWork, the durable bus, the response cache, the evolution store. */
export type SqlStore = Repositories | EventBus | ResponseCache | EvolutionStore

export interface EventOptions {
  /** Settings of the durable bus (poll interval, attempts before dead-lettering, …). */
  readonly events?: Omit<DurableEventBus.DurableEventBusOptions, "assumeRole"> | undefined
}

const storeOn = (opened: Opened, options: EventOptions) =>
  Effect.gen(function*() {
    const repositories = yield* repositoriesOn(opened)
    const { client, assumeRole } = opened
    const bus = yield* DurableEventBus.make({ ...options.events, assumeRole }).pipe(onClient(client))
    const evolution = yield* makeEvolutionStore({ assumeRole }).pipe(onClient(client))
    return repositories.pipe(
      Context.merge(evolution),
      Context.add(UnitOfWork, makeSqlUnitOfWork(makeWorkspaceTransaction(client, { assumeRole }))),
      Context.add(EventBus, bus),
      Context.add(ResponseCache, makeSqlResponseCache(client, { assumeRole }))
    )
  })

/** The store on a PostgreSQL server. */
export const layerPg = (options: PgOptions): Layer.Layer<Repositories, StorageSetupError> =>
  Layer.effectContext(Effect.flatMap(openPg(options), repositoriesOn)).pipe(Layer.provide(Reactivity.layer))

/** The store on embedded PGlite under `dataDir`, reachable only in-process, as the app role; migrations run at startup. */
export const layerPglite = (options: PgliteStoreOptions): Layer.Layer<Repositories, StorageSetupError> =>
  Layer.effectContext(Effect.flatMap(openPglite(options), repositoriesOn)).pipe(Layer.provide(Reactivity.layer))

/** `layerPg` plus UnitOfWork, the durable EventBus and the SQL ResponseCache on the same pool. */
export const layerPgWithEvents = (options: PgOptions & EventOptions): Layer.Layer<SqlStore, StorageSetupError> =>
  Layer.effectContext(Effect.flatMap(openPg(options), (opened) => storeOn(opened, options))).pipe(Layer.provide(Reactivity.layer))

/** `layerPglite` plus UnitOfWork, the durable EventBus and the SQL ResponseCache. */
export const layerPgliteWithEvents = (options: PgliteStoreOptions & EventOptions): Layer.Layer<SqlStore, StorageSetupError> =>
  Layer.effectContext(Effect.flatMap(openPglite(options), (opened) => storeOn(opened, options))).pipe(Layer.provide(Reactivity.layer))

/** Storage settings, read from the environment (or any ConfigProvider). */
export const StorageConfig = Config.all({
  /** The engine's connection to a PostgreSQL server; absent: embedded PGlite. */
  databaseUrl: Config.option(Config.Redacted("SPECTRAL_DATABASE_URL")),
  /** The owner's connection, for migrations (at startup and in `spectral db migrate`). */
  ownerUrl: Config.option(Config.Redacted("SPECTRAL_DATABASE_OWNER_URL")),
  /** Where embedded PGlite keeps its files. */
  dataDir: Config.String("SPECTRAL_DATA_DIR").pipe(Config.withDefault(".spectral/db")),
  maxConnections: Config.Int("SPECTRAL_DATABASE_MAX_CONNECTIONS").pipe(Config.withDefault(10))
})
export type StorageConfig = Config.Success<typeof StorageConfig>

/** Which store a configuration selects, said in words (for logs and the CLI). */
export const describeStore = (config: StorageConfig): string =>
  Option.isSome(config.databaseUrl) ? "postgres" : `pglite:${config.dataDir}`

/** Apply pending migrations through the given store configuration; returns what was applied. */
export const migrate = (config: StorageConfig): Effect.Effect<ReadonlyArray<Migrations.AppliedMigration>, StorageSetupError> =>
  Option.isSome(config.databaseUrl)
    ? migratePg(Option.getOrElse(config.ownerUrl, () => config.databaseUrl.pipe(Option.getOrThrow)))
    : Effect.scoped(
      Effect.gen(function*() {
        const client = yield* connectPglite({ dataDir: config.dataDir })
        return yield* Migrations.migrate.pipe(onClient(client), Effect.mapError(setupError("Migrate")))
      })
    ).pipe(Effect.provide(Reactivity.layer))

/** Apply pending migrations to the store the environment selects (what `spectral db migrate` runs). */
export const migrateFromConfig: Effect.Effect<
  { readonly store: string; readonly applied: ReadonlyArray<Migrations.AppliedMigration>; readonly latest: number },
  StorageSetupError | Config.ConfigError
> = Effect.gen(function*() {
  const config = yield* StorageConfig
  const applied = yield* migrate(config)
  return { store: describeStore(config), applied, latest: Migrations.latestMigrationId }
})

/** Apply pending migrations on the SqlClient in context, as its role (the owner). */
export const migrateNoDeps: Effect.Effect<ReadonlyArray<Migrations.AppliedMigration>, Migrations.MigrationFailed, SqlClient.SqlClient> =
  Migrations.migrate

/** `SPECTRAL_DATABASE_URL` set: the server; otherwise embedded PGlite under `SPECTRAL_DATA_DIR`. */
export const layerConfig: Layer.Layer<Repositories, StorageSetupError | Config.ConfigError> = Layer.unwrap(
  Effect.map(StorageConfig, (config) =>
    Option.match(config.databaseUrl, {
      onSome: (url) => layerPg({ url, ownerUrl: Option.getOrUndefined(config.ownerUrl), maxConnections: config.maxConnections }),
      onNone: () => layerPglite({ dataDir: config.dataDir })
    }))
)

/**
 * `layerConfig` plus UnitOfWork, the durable EventBus (outbox) and the SQL ResponseCache: what a
 * host runs scans on. Use instead of `layerConfig` + `EventBus.layerMemory`.
 */
export const layerConfigWithEvents = (options: EventOptions = {}): Layer.Layer<SqlStore, StorageSetupError | Config.ConfigError> =>
  Layer.unwrap(
    Effect.map(StorageConfig, (config) =>
      Option.match(config.databaseUrl, {
        onSome: (url) =>
          layerPgWithEvents({ ...options, url, ownerUrl: Option.getOrUndefined(config.ownerUrl), maxConnections: config.maxConnections }),
        onNone: () => layerPgliteWithEvents({ ...options, dataDir: config.dataDir })
      }))
  )

/** A role switched to in every transaction, for a connection whose own role bypasses row-level security. */
export interface AssumeRoleOptions {
  readonly assumeRole?: string | undefined
}

/** Every repository port on the PgClient in context (migrations must have run; `assumeRole` as above). */
export const layerNoDeps = repositoriesOnClient

/** The repositories, UnitOfWork, the durable EventBus and the SQL ResponseCache on the PgClient in context (migrations must have run). */
export const layerWithEventsNoDeps = (options: AssumeRoleOptions & EventOptions = {}): Layer.Layer<SqlStore, never, PgClient.PgClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const client = yield* PgClient.PgClient
    return yield* storeOn({ client, assumeRole: options.assumeRole }, options)
  }))

/** Just the PgClient (and SqlClient) on embedded PGlite under `dataDir`, as its superuser; nothing migrated. */
export const layerPgliteClient: (options: PgliteStoreOptions) => Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgliteClient.PgliteUnavailable | SqlError> =
  PgliteClient.layer

/**
 * The PgClient (and SqlClient) the embedded store runs on: PGlite under `dataDir`, migrated, the
 * session as `spectral_app` (checked unprivileged). `layerNoDeps()` on it is `layerPglite`.
 */
export const layerPgliteAppClient = (options: PgliteStoreOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StorageSetupError> =>
  PgClient.layerFrom(openPgliteAsApp(options))
