/**
 * Embedded PostgreSQL: PGlite persisted under a private folder and reached only from inside this
 * process. There is no listener: @effect/sql-pg's PgClient speaks the wire protocol over an
 * in-memory duplex stream whose other end feeds PGlite's protocol handler (`execProtocolRawStream`),
 * so no other process can connect, whatever its user. The folder is 0700 and its files 0600
 * (PGlite's initdb writes world-writable files; they are tightened on every open and close). PGlite
 * has one backend session, authenticated as its bootstrap superuser `postgres`; it serves one
 * connection at a time, and each new connection starts from a reset session (`DISCARD ALL`) under
 * the role it asked for: the owner's connection runs migrations as `postgres`, the engine's runs its
 * whole session as `spectral_app` (`SET ROLE`), so row-level security applies to every statement it
 * sends, as on a server. The scope owns everything: closing it closes the client and PGlite and
 * releases the folder's lock, so a process that used it exits on its own.
 */
import { PGlite } from "@electric-sql/pglite"
import { PgClient } from "@effect/sql-pg"
import { Effect, type Layer, Schema, type Scope } from "effect"
import type * as Reactivity from "effect/reactivity/Reactivity"
import type { SqlClient } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join, resolve } from "node:path"
import { Duplex } from "node:stream"

export interface PgliteOptions {
  /** The folder PGlite keeps its files in; created (0700) when missing. */
  readonly dataDir: string
}

export class PgliteUnavailable extends Schema.TaggedError<PgliteUnavailable>()("PgliteUnavailable", {
  dataDir: Schema.String,
  message: Schema.String
}) {}

const unavailable = (dataDir: string) => (cause: unknown) =>
  new PgliteUnavailable({ dataDir, message: cause instanceof Error ? cause.message : String(cause) })

/** Folder and file modes of the data directory: the owner only. */
const privateDirMode = 0o700
const privateFileMode = 0o600

/** Tighten `dir` and everything under it to the owner only (symbolic links are left alone). */
const restrictToOwner = (dir: string): void => {
  if ((lstatSync(dir).mode & 0o777) !== privateDirMode) chmodSync(dir, privateDirMode)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) restrictToOwner(path)
    else if (entry.isFile() && (lstatSync(path).mode & 0o777) !== privateFileMode) chmodSync(path, privateFileMode)
  }
}

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
          const fd = openSync(lockFile, "wx", privateFileMode)
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

// Frames a client may send before its StartupMessage (all: int32 length, int32 code).
const protocolVersion3 = 196608
const sslRequestCode = 80877103
const gssEncRequestCode = 80877104
const cancelRequestCode = 80877102
const terminate = 0x58 // 'X'

const quoteIdentifier = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

/**
 * One in-process connection: the bytes the client writes are split into protocol messages and run
 * through PGlite in order, its answers pushed back to the client. Before the StartupMessage is
 * passed on, the session is reset and switched to `role` (`undefined`: the bootstrap superuser).
 * SSL and GSS encryption requests are declined; a CancelRequest (sent on a side connection when a
 * query is interrupted) is ignored, since PGlite runs one statement at a time to completion.
 */
const inProcessStream = (db: PGlite, role: string | undefined) => (): Duplex => {
  let pending: Buffer = Buffer.alloc(0)
  let started = false
  let work: Promise<void> = Promise.resolve()

  // Whatever the previous connection left (an open transaction, prepared statements, settings, a
  // role) is undone; a ROLLBACK with no transaction open only warns.
  const resetSession = async () => {
    await db.exec("ROLLBACK")
    await db.exec("DISCARD ALL")
    if (role !== undefined) await db.exec(`SET ROLE ${quoteIdentifier(role)}`)
  }
  const forward = (message: Uint8Array) =>
    db.runExclusive(() =>
      db.execProtocolRawStream(message, {
        onRawData: (data) => {
          if (data.length > 0) stream.push(Buffer.from(data))
        }
      })
    )

  /** Whole frames off `pending`: the first ones (up to the StartupMessage) have no type byte. */
  const takeFrames = (): Array<{ readonly typed: boolean; readonly bytes: Uint8Array }> => {
    const frames: Array<{ readonly typed: boolean; readonly bytes: Uint8Array }> = []
    for (;;) {
      const typed = started
      const header = typed ? 5 : 8
      if (pending.length < header) break
      const length = typed ? 1 + pending.readInt32BE(1) : pending.readInt32BE(0)
      if (length < header) throw new Error(`malformed protocol frame of length ${length}`)
      if (pending.length < length) break
      if (!typed && pending.readInt32BE(4) === protocolVersion3) started = true
      frames.push({ typed, bytes: new Uint8Array(pending.subarray(0, length)) })
      pending = pending.subarray(length)
    }
    return frames
  }

  const handle = async ({ bytes, typed }: { readonly typed: boolean; readonly bytes: Uint8Array }) => {
    if (typed) {
      if (bytes[0] === terminate) stream.push(null)
      else await forward(bytes)
      return
    }
    const code = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readInt32BE(4)
    if (code === sslRequestCode || code === gssEncRequestCode) stream.push(Buffer.from("N"))
    else if (code === cancelRequestCode) stream.push(null)
    else if (code === protocolVersion3) {
      await resetSession()
      await forward(bytes)
    } else throw new Error(`unsupported startup frame (code ${code})`)
  }

  const stream: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      work = work.then(async () => {
        for (const frame of takeFrames()) await handle(frame)
      })
      work.then(() => callback(), (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))))
    },
    final(callback) {
      stream.push(null)
      callback()
    }
  })
  return stream
}

/** An open PGlite database: its folder locked and private, one in-process connection at a time. */
export interface PgliteDatabase {
  readonly dataDir: string
  /**
   * A PgClient on the database's one session, as `role` for the whole session (`undefined`: the
   * bootstrap superuser, for migrations). Fails while another connection is open; closing the
   * scope closes the connection (an open transaction is rolled back by the next connection).
   */
  readonly connect: (
    role: string | undefined
  ) => Effect.Effect<PgClient.PgClient, SqlError | PgliteUnavailable, Scope.Scope | Reactivity.Reactivity>
}

/** Open PGlite on `dataDir` (created when missing), private to this user and this process; closed with the scope. */
export const open = (options: PgliteOptions): Effect.Effect<PgliteDatabase, PgliteUnavailable, Scope.Scope> => {
  const dataDir = resolve(options.dataDir)
  const fail = unavailable(dataDir)
  const restrict = Effect.try({ try: () => restrictToOwner(dataDir), catch: fail })
  return Effect.gen(function*() {
    yield* Effect.try({ try: () => mkdirSync(dataDir, { recursive: true, mode: privateDirMode }), catch: fail })
    yield* restrict
    yield* lockDataDir(dataDir)
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => PGlite.create({ dataDir }), catch: fail }),
      (db) => Effect.promise(() => db.close()).pipe(Effect.ignore, Effect.andThen(Effect.ignore(restrict)))
    )
    // initdb (a new folder) leaves world-writable files behind; PostgreSQL itself creates 0600 ones.
    yield* restrict
    let connected = false
    const claim = Effect.acquireRelease(
      Effect.suspend(() => {
        if (connected) return Effect.fail(fail(new Error("embedded PGlite has one session and it is already connected")))
        connected = true
        return Effect.void
      }),
      () => Effect.sync(() => void (connected = false))
    )
    const connect: PgliteDatabase["connect"] = (role) =>
      Effect.andThen(
        claim,
        PgClient.makeClient({
          stream: inProcessStream(db, role),
          ssl: false,
          username: role ?? "postgres",
          database: "postgres",
          applicationName: "spectral"
        })
      )
    return { dataDir, connect }
  })
}

/** A PgClient on embedded PGlite as its bootstrap superuser (migrations run through it); nothing migrated. */
export const makePgliteClient = (options: PgliteOptions) => Effect.flatMap(open(options), (db) => db.connect(undefined))

/** The PgClient (and SqlClient) on embedded PGlite, as its superuser. */
export const layer = (options: PgliteOptions): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, PgliteUnavailable | SqlError> =>
  PgClient.layerFrom(makePgliteClient(options))
