/**
 * The SQL store on embedded PGlite (temporary folders): the repository contract through the public
 * `Storage.layerPglite`, the row-level-security probe on the store's own session (the app role, as on
 * a server), corrupt rows, persistence across reopenings, a process that exits on its own after use,
 * and the store probed from outside: another process finds nothing to connect to, and the folder is
 * the owner's alone (0700, files 0600).
 */
import { describe, expect, it } from "@effect/vitest"
import { inject } from "vitest"
import "./PgServer.ts"
import { PgClient } from "@effect/sql-pg"
import { ScanRepo } from "@spectral/engine"
import { Effect, Layer, Option } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { chmodSync, cpSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Storage } from "../../src/storage/index.ts"
import { sqlState } from "../../src/storage/internal/SqlFailure.ts"
import * as F from "./fixtures.ts"
import { repositoryContract } from "./RepositoryContract.ts"
import { AppSession, rlsProbe } from "./RlsProbe.ts"
import { sqlStoreSpecifics } from "./SqlStoreSpecifics.ts"

/** An empty folder: PGlite initialises it (seconds). */
const emptyDir = () => mkdtempSync(join(tmpdir(), "spectral-pglite-"))
/** A copy of a folder PGlite already initialised (not migrated). */
const freshDir = () => {
  const dir = emptyDir()
  cpSync(inject("spectralPgliteTemplate"), dir, { recursive: true })
  return dir
}

repositoryContract("embedded PGlite", Storage.layerPglite({ dataDir: freshDir() }))

/**
 * Repositories and raw SQL on the embedded store's own session (the one `Storage.layerPglite` runs
 * on): as `spectral_app` for the whole session, nothing switched per transaction, like a server.
 */
const sqlFixture = (dataDir: string) => {
  const session = Layer.effect(AppSession, Effect.gen(function*() {
    return AppSession.connected(yield* PgClient.PgClient)
  }))
  return Layer.mergeAll(Storage.layerNoDeps(), session).pipe(Layer.provide(Storage.layerPgliteAppClient({ dataDir })))
}

rlsProbe("embedded PGlite (the store's own session, as spectral_app)", sqlFixture(freshDir()))
sqlStoreSpecifics("embedded PGlite", sqlFixture(freshDir()))

it.live("embedded PGlite keeps its data across reopenings, and migrating again applies nothing", () =>
  Effect.gen(function*() {
    const dataDir = emptyDir()
    const ws = F.freshWorkspaceId()
    yield* Effect.gen(function*() {
      yield* (yield* ScanRepo).insert(F.scan(ws, "scan-kept", 3))
    }).pipe(
      Effect.provide(Storage.layerPglite({ dataDir }))
    )
    const kept = yield* Effect.gen(function*() {
      return yield* (yield* ScanRepo).get(ws, "scan-kept")
    }).pipe(
      Effect.provide(Storage.layerPglite({ dataDir }))
    )
    expect(kept).toEqual(F.scan(ws, "scan-kept", 3))
    const config = { databaseUrl: Option.none(), ownerUrl: Option.none(), dataDir, maxConnections: 1 }
    expect(yield* Storage.migrate(config)).toEqual([])
    expect(yield* Storage.migrate({ ...config, dataDir: freshDir() })).toEqual([{ id: 1, name: "workspace_tables" }, { id: 2, name: "retention_and_ingest_keys" }, { id: 3, name: "events_and_response_cache" }, { id: 4, name: "empty_workspace_id" }, { id: 5, name: "lifecycle" }, { id: 6, name: "workspace_secrets" }, { id: 7, name: "api_keys" }, { id: 8, name: "evolution_candidates" }, { id: 9, name: "scan_phase_parts" }, { id: 10, name: "scan_summaries" }])
  }), 60_000)

it.live("a folder already open (here or in another live process) is refused, not corrupted", () =>
  Effect.gen(function*() {
    const dataDir = freshDir()
    yield* Layer.build(Storage.layerPglite({ dataDir }))
    const second = yield* Effect.flip(Layer.build(Storage.layerPglite({ dataDir })))
    expect(second).toMatchObject({ _tag: "StorageSetupError", reason: "Connect" })
    expect(second.message).toContain("in use by process")
    // A lock left behind by a process that died is taken over.
    const staleDir = freshDir()
    const dead = spawnSync(process.execPath, ["-e", ""]).pid
    writeFileSync(join(staleDir, "spectral.lock"), String(dead))
    yield* Layer.build(Storage.layerPglite({ dataDir: staleDir }))
  }).pipe(Effect.scoped), 60_000)

it("a process that opened the embedded store exits on its own once its scope closes", () => {
  const dataDir = freshDir()
  const started = performance.now()
  const result = spawnSync(process.execPath, [join(import.meta.dirname, "openAndExit.ts"), dataDir], {
    encoding: "utf8",
    timeout: 30_000
  })
  expect(result.error).toBeUndefined()
  expect(result.stderr).toBe("")
  expect(result.stdout.trim()).toBe("stored 1 scan")
  expect(result.status).toBe(0)
  expect(performance.now() - started).toBeLessThan(30_000)
}, 40_000)

/** Listening sockets (TCP on any address, and Unix) that process `pid` holds, read from /proc. */
const listeningSockets = (pid: number): ReadonlyArray<{ readonly kind: "tcp" | "unix"; readonly port?: number; readonly path?: string }> => {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
        return match === null ? [] : [match[1]!]
      } catch {
        return []
      }
    })
  )
  const tcp = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((table) =>
    readFileSync(table, "utf8").split("\n").slice(1).flatMap((line) => {
      const fields = line.trim().split(/\s+/)
      // state 0A is LISTEN; field 9 is the inode.
      return fields.length > 9 && fields[3] === "0A" && inodes.has(fields[9]!)
        ? [{ kind: "tcp" as const, port: Number.parseInt(fields[1]!.split(":")[1]!, 16) }]
        : []
    }))
  const unix = readFileSync("/proc/net/unix", "utf8").split("\n").slice(1).flatMap((line) => {
    const fields = line.trim().split(/\s+/)
    // Flags 00010000 is __SO_ACCEPTCON: a listening socket; field 6 is the inode.
    return fields.length > 6 && fields[3] === "00010000" && inodes.has(fields[6]!)
      ? [{ kind: "unix" as const, path: fields[7] ?? "" }]
      : []
  })
  return [...tcp, ...unix]
}

/** Every folder and file under `dir` (itself included) whose mode is not the owner's alone. */
const notPrivate = (dir: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const walk = (path: string) => {
    const stat = lstatSync(path)
    if (stat.isSymbolicLink()) return
    const mode = stat.mode & 0o777
    if (stat.isDirectory()) {
      if (mode !== 0o700) found.push(`${path} ${mode.toString(8)}`)
      for (const entry of readdirSync(path)) walk(join(path, entry))
    } else if (mode !== 0o600) found.push(`${path} ${mode.toString(8)}`)
  }
  walk(dir)
  return found
}

/** A child process holding the embedded store open (see openAndHold.ts) until the scope closes. */
const holdOpen = (dataDir: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess, Error>((resume) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, "openAndHold.ts"), dataDir], { stdio: ["pipe", "pipe", "pipe"] })
      let output = ""
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("ready\n")) resume(Effect.succeed(child))
      })
      child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()))
      child.on("exit", (code) => resume(Effect.fail(new Error(`the store's process exited (${code}) before it was ready: ${output}`))))
    }),
    (child) =>
      Effect.callback<void>((resume) => {
        child.on("exit", () => resume(Effect.void))
        child.stdin?.end()
      })
  )

describe.skipIf(process.platform !== "linux")("embedded PGlite, probed from outside its process", () => {
  it.live("another process finds no socket to connect to, so it reads no workspace; the folder is the owner's alone", () =>
    Effect.gen(function*() {
      const dataDir = freshDir()
      const child = yield* holdOpen(dataDir)
      const sockets = listeningSockets(child.pid!)
      // Whatever it listens on, a client without credentials tries to read every workspace through it.
      const readFromOutside = yield* Effect.forEach(sockets, (socket) =>
        Effect.scoped(Effect.gen(function*() {
          const outsider = yield* PgClient.makeClient({
            ...(socket.kind === "tcp" ? { host: "127.0.0.1", port: socket.port } : { path: socket.path }),
            username: "postgres",
            database: "postgres",
            ssl: false
          })
          return yield* outsider<{ workspace_id: string }>`SELECT workspace_id FROM spectral.scans`
        })).pipe(Effect.provide(Reactivity.layer), Effect.orElseSucceed(() => [])))
      expect({ sockets, readFromOutside: readFromOutside.flat() }).toEqual({ sockets: [], readFromOutside: [] })
      expect(notPrivate(dataDir)).toEqual([])
    }).pipe(Effect.scoped), 60_000)

  it.live("a folder as PGlite's initdb leaves it (world-writable files) is made private when the store opens, and stays so", () =>
    Effect.gen(function*() {
      const dataDir = freshDir()
      chmodSync(dataDir, 0o755)
      expect(notPrivate(dataDir)).toContain(`${join(dataDir, "PG_VERSION")} 666`)
      const ws = F.freshWorkspaceId()
      yield* Effect.flatMap(ScanRepo, (scans) => scans.insert(F.scan(ws, "scan-private", 1))).pipe(
        Effect.provide(Storage.layerPglite({ dataDir }))
      )
      expect(notPrivate(dataDir)).toEqual([])
    }), 60_000)

  it.live("the store's own session is spectral_app outside any transaction: not a superuser, RLS applies to every statement", () =>
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const [session] = yield* sql<{ role: string; superuser: boolean; bypass: boolean }>`
        SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass
        FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`.withoutTransform
      expect(session).toEqual({ role: Storage.appRole, superuser: false, bypass: false })
      // No workspace set: nothing is visible, nothing can be written.
      expect(yield* sql`SELECT 1 FROM spectral.scans`).toEqual([])
      const write = yield* Effect.flip(sql`INSERT INTO spectral.workspaces (workspace_id, doc) VALUES ('ws-x', '{}')`)
      expect(sqlState(write)).toBe("42501")
    }).pipe(Effect.provide(Storage.layerPgliteAppClient({ dataDir: freshDir() }))), 60_000)
})
