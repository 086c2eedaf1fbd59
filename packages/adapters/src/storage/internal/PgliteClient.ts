/**
 * Embedded PostgreSQL: PGlite persisted under a folder, served on a free loopback port by
 * @electric-sql/pglite-socket so that @effect/sql-pg's PgClient talks to it like to any server.
 * The scope owns everything: closing it closes the client, the socket server and PGlite, so a
 * process that used it exits on its own. PGlite is single-session and single-user (the superuser
 * `postgres`), so the client keeps one connection; row-level security is applied by switching to
 * the app role per transaction (see SqlRepositories' `assumeRole`).
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import { Effect, type Layer, Schema, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
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

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * PGlite has no lock of its own: two instances on one folder corrupt it. Hold `spectral.lock` (our
 * pid) while open; a lock left by a process that no longer runs is taken over.
 */
const lockDataDir = (dataDir: string) => {
  const lockFile = resolve(dataDir, "spectral.lock")
  const take = Effect.try({
    try: () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fd = openSync(lockFile, "wx")
          writeSync(fd, String(process.pid))
          closeSync(fd)
          return
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
          const holder = Number(readFileSync(lockFile, "utf8").trim())
          if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
            throw new Error(`${dataDir} is in use by process ${holder}${holder === process.pid ? " (this one)" : ""}`)
          }
          rmSync(lockFile, { force: true })
        }
      }
      throw new Error(`could not lock ${dataDir}`)
    },
    catch: unavailable(dataDir)
  })
  return Effect.acquireRelease(take, () => Effect.sync(() => rmSync(lockFile, { force: true })))
}

const portOf = (server: PGLiteSocketServer): number => Number(server.getServerConn().split(":").at(-1))

/** PGlite on `dataDir`, listening on 127.0.0.1 at a port the OS picks; stopped with the scope. */
export const servePglite = (options: PgliteOptions): Effect.Effect<Served, PgliteUnavailable, Scope.Scope> => {
  const dataDir = resolve(options.dataDir)
  const fail = unavailable(dataDir)
  const open = Effect.gen(function*() {
    const db = yield* Effect.tryPromise({ try: () => PGlite.create({ dataDir }), catch: fail })
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 })
    yield* Effect.tryPromise({ try: () => server.start(), catch: fail }).pipe(
      Effect.onError(() => Effect.promise(() => db.close()))
    )
    return { db, server, host: "127.0.0.1", port: portOf(server) }
  })
  return Effect.gen(function*() {
    yield* Effect.try({ try: () => mkdirSync(dataDir, { recursive: true }), catch: fail })
    yield* lockDataDir(dataDir)
    return yield* Effect.acquireRelease(open, ({ db, server }) =>
      Effect.promise(() => server.stop()).pipe(
        Effect.andThen(Effect.promise(() => db.close())),
        Effect.ignore
      ))
  })
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

/** The PgClient (and SqlClient) on embedded PGlite, as its superuser. */
export const layer = (options: PgliteOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgliteUnavailable | SqlError> =>
  PgClient.layerFrom(makePgliteClient(options))
