/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` + `pg_ctl` (as the `postgres`
 * user when run as root, since initdb refuses root) in a temporary folder on a free loopback port,
 * with the owner role `spectral_owner`, the engine's role `spectral_app` (not a superuser, no
 * BYPASSRLS) and a database; or an existing server given by URL. Not part of the engine: test
 * infrastructure, exported as `@spectral/adapters/testing`.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Three connection URLs to one database. */
export interface PgServerInfo {
  /** `throwaway`: a cluster started for this run; `external`: an existing server. */
  readonly source: "throwaway" | "external"
  /** A superuser (or the external URL): creates roles and databases, terminates backends. */
  readonly adminUrl: string
  /** The role that owns the schema and runs migrations (not a superuser on the throwaway cluster). */
  readonly ownerUrl: string
  /** The engine's role, `spectral_app`: not the owner, not a superuser, no BYPASSRLS. */
  readonly appUrl: string
}

const appPassword = "spectral_app"
const ownerPassword = "spectral_owner"
const databaseName = "spectral_test"

/** Run statements on a connection (one at a time, outside a transaction). */
export const runSql = (url: string, statements: ReadonlyArray<string>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const sql = yield* PgClient.make({ url: Redacted.make(url), maxConnections: 1 })
        for (const statement of statements) yield* sql.unsafe(statement)
      })
    ).pipe(Effect.provide(Reactivity.layer))
  )

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** The newest PostgreSQL binaries under /usr/lib/postgresql, if any. */
export const findPostgresBinaries = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, "bin", "initdb")) && existsSync(join(root, version, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin")
}

const isRoot = () => process.getuid?.() === 0

const uidOf = (user: string): { uid: number; gid: number } | undefined => {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith(`${user}:`))
  if (line === undefined) return undefined
  const [, , uid, gid] = line.split(":")
  return { uid: Number(uid), gid: Number(gid) }
}

/** Run a PostgreSQL binary, as `postgres` when we are root. */
const runBinary = (binary: string, args: ReadonlyArray<string>) => {
  const [command, commandArgs] = isRoot()
    ? ["runuser", ["-u", "postgres", "--", binary, ...args]] as const
    : [binary, args] as const
  const result = spawnSync(command, commandArgs, { encoding: "utf8", timeout: 60_000 })
  if (result.status !== 0) {
    throw new Error(`${binary} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout || result.error}`)
  }
}

/** Start a throwaway cluster; `stop` shuts it down and deletes its folder. */
export const startThrowawayPostgres = async (bin: string): Promise<{ readonly info: PgServerInfo; readonly stop: () => void }> => {
  if (isRoot() && uidOf("postgres") === undefined) throw new Error("running as root and there is no `postgres` user for initdb")
  const folder = mkdtempSync(join(tmpdir(), "spectral-pg-"))
  const owner = uidOf("postgres")
  if (isRoot() && owner !== undefined) chownSync(folder, owner.uid, owner.gid)
  const data = join(folder, "data")
  runBinary(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
  let port = 0
  let lastError: unknown
  for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
    const candidate = await freePort()
    try {
      runBinary(join(bin, "pg_ctl"), [
        "-D", data, "-l", join(folder, "server.log"), "-w", "-t", "30", "-o",
        `-p ${candidate} -c listen_addresses=127.0.0.1 -k ${folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
        "start"
      ])
      port = candidate
    } catch (error) {
      lastError = error
    }
  }
  if (port === 0) throw lastError
  const stop = () => {
    try {
      runBinary(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  }
  try {
    const base = `postgres://postgres@127.0.0.1:${port}`
    await runSql(`${base}/postgres`, [
      `CREATE ROLE spectral_owner LOGIN PASSWORD '${ownerPassword}' NOSUPERUSER NOCREATEROLE`,
      // The owner may see and terminate the app's backends (the fault test), nothing more.
      `GRANT pg_signal_backend, pg_read_all_stats TO spectral_owner`,
      `CREATE ROLE spectral_app LOGIN PASSWORD '${appPassword}' NOSUPERUSER NOBYPASSRLS`,
      `CREATE DATABASE ${databaseName} OWNER spectral_owner`
    ])
    const info: PgServerInfo = {
      source: "throwaway",
      adminUrl: `${base}/${databaseName}`,
      ownerUrl: `postgres://spectral_owner:${ownerPassword}@127.0.0.1:${port}/${databaseName}`,
      appUrl: `postgres://spectral_app:${appPassword}@127.0.0.1:${port}/${databaseName}`
    }
    return { info, stop }
  } catch (error) {
    stop()
    throw error
  }
}

/** Use an existing server (creating or refreshing the `spectral_app` login role there). */
export const useExternalPostgres = async (url: string): Promise<PgServerInfo> => {
  await runSql(url, [
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spectral_app') THEN
        CREATE ROLE spectral_app LOGIN PASSWORD '${appPassword}' NOSUPERUSER NOBYPASSRLS;
      ELSE
        ALTER ROLE spectral_app LOGIN PASSWORD '${appPassword}';
      END IF;
    END $$`
  ])
  const appUrl = new URL(url)
  appUrl.username = "spectral_app"
  appUrl.password = appPassword
  return { source: "external", adminUrl: url, ownerUrl: url, appUrl: process.env["SPECTRAL_TEST_APP_DATABASE_URL"] ?? appUrl.toString() }
}

