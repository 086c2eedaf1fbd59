/**
 * Vitest global setup for the PostgreSQL-server suites. With SPECTRAL_TEST_DATABASE_URL it uses that
 * database (creating the `spectral_app` login role there); otherwise, when PostgreSQL binaries exist
 * under /usr/lib/postgresql/<version>/bin, it starts a throwaway cluster (`initdb` + `pg_ctl`, as the
 * `postgres` user when run as root, since initdb refuses root) in a temporary folder on a free
 * loopback port, creates the owner and app roles and a database, and stops and deletes it all after
 * the run. With SPECTRAL_REQUIRE_PG_SERVER=1 (CI) a missing server fails the run instead of skipping.
 * It also initialises one embedded PGlite folder (several seconds of work) that the embedded suites
 * copy instead of each initialising their own.
 */
import { PGlite } from "@electric-sql/pglite"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { type PgServerInfo, serverRequired } from "./PgServer.ts"

const appPassword = "spectral_app"
const ownerPassword = "spectral_owner"
const databaseName = "spectral_test"

const runSql = (url: string, statements: ReadonlyArray<string>) =>
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

const findBinaries = (): string | undefined => {
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

const startThrowaway = async (bin: string) => {
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
        `-p ${candidate} -c listen_addresses=127.0.0.1 -k ${folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`,
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

const useExternal = async (url: string): Promise<PgServerInfo> => {
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

/** An initialised (unmigrated) PGlite folder; suites copy it rather than run PGlite's initdb each. */
const makePgliteTemplate = async () => {
  const folder = mkdtempSync(join(tmpdir(), "spectral-pglite-template-"))
  const dataDir = join(folder, "db")
  mkdirSync(dataDir)
  const db = await PGlite.create({ dataDir })
  await db.close()
  return { dataDir, remove: () => rmSync(folder, { recursive: true, force: true }) }
}

const provideServer = async (project: TestProject): Promise<(() => void) | undefined> => {
  const fail = (reason: string) => {
    if (serverRequired()) throw new Error(`SPECTRAL_REQUIRE_PG_SERVER=1 but no PostgreSQL server: ${reason}`)
    project.provide("spectralPgServer", null)
    project.provide("spectralPgServerSkipReason", reason)
    return undefined
  }
  const external = process.env["SPECTRAL_TEST_DATABASE_URL"]
  if (external !== undefined && external !== "") {
    try {
      project.provide("spectralPgServer", await useExternal(external))
      project.provide("spectralPgServerSkipReason", "")
      return undefined
    } catch (error) {
      return fail(`SPECTRAL_TEST_DATABASE_URL is unusable: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const bin = findBinaries()
  if (bin === undefined) return fail("no SPECTRAL_TEST_DATABASE_URL and no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
  let server: Awaited<ReturnType<typeof startThrowaway>>
  try {
    server = await startThrowaway(bin)
  } catch (error) {
    return fail(`could not start a throwaway cluster: ${error instanceof Error ? error.message : String(error)}`)
  }
  project.provide("spectralPgServer", server.info)
  project.provide("spectralPgServerSkipReason", "")
  return server.stop
}

export default async function setup(project: TestProject) {
  const [stopServer, template] = await Promise.all([provideServer(project), makePgliteTemplate()])
  project.provide("spectralPgliteTemplate", template.dataDir)
  return () => {
    template.remove()
    stopServer?.()
  }
}
