/**
 * Embedded PostgreSQL: PGlite persisted under a folder, served on a free loopback port by
 * @electric-sql/pglite-socket so that @effect/sql-pg's PgClient talks to it like to any server.
 * The scope owns everything: closing it closes the client, the socket server and PGlite, so a
 * process that used it exits on its own. PGlite is single-session and single-user (the superuser
 * `postgres`), so the client keeps one connection; row-level security is applied by switching to
 * the app role per transaction (see SqlStorage's `assumeRole`).
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import { Effect, type Layer, Schema, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"

export interface PgliteOptions {
  /** The folder PGlite keeps its files in; created when missing. */
  readonly dataDir: string
}

export class PgliteUnavailable extends Schema.TaggedError<PgliteUnavailable>()("PgliteUnavailable", {
  dataDir: Schema.String,
  message: Schema.String
}) {}

interface Served {
  readonly db: PGlite
  readonly server: PGLiteSocketServer
  readonly host: string
  readonly port: number
}

const unavailable = (dataDir: string) => (cause: unknown) =>
  new PgliteUnavailable({ dataDir, message: cause instanceof Error ? cause.message : String(cause) })

const portOf = (server: PGLiteSocketServer): number => Number(server.getServerConn().split(":").at(-1))

/** PGlite on `dataDir`, listening on 127.0.0.1 at a port the OS picks; stopped with the scope. */
export const servePglite = (options: PgliteOptions): Effect.Effect<Served, PgliteUnavailable, Scope.Scope> => {
  const dataDir = resolve(options.dataDir)
  const fail = unavailable(dataDir)
  const open = Effect.gen(function*() {
    yield* Effect.try({ try: () => mkdirSync(dataDir, { recursive: true }), catch: fail })
    const db = yield* Effect.tryPromise({ try: () => PGlite.create({ dataDir }), catch: fail })
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 })
    yield* Effect.tryPromise({ try: () => server.start(), catch: fail }).pipe(
      Effect.onError(() => Effect.promise(() => db.close()))
    )
    return { db, server, host: "127.0.0.1", port: portOf(server) }
  })
  return Effect.acquireRelease(open, ({ db, server }) =>
    Effect.promise(() => server.stop()).pipe(
      Effect.andThen(Effect.promise(() => db.close())),
      Effect.ignore
    ))
}

/** A PgClient on embedded PGlite, connected as its superuser (migrations run through it). */
export const makePgliteClient = (options: PgliteOptions) =>
  Effect.gen(function*() {
    const served = yield* servePglite(options)
    return yield* PgClient.make({
      host: served.host,
      port: served.port,
      username: "postgres",
      database: "postgres",
      applicationName: "spectral",
      maxConnections: 1,
      minConnections: 1
    })
  })

export const PgliteClient = {
  layer: (options: PgliteOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgliteUnavailable | SqlError> =>
    PgClient.layerFrom(makePgliteClient(options))
}
