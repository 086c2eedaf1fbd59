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
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { findPostgresBinaries, startThrowawayPostgres, useExternalPostgres } from "../../src/testing/ThrowawayPostgres.ts"
import { serverRequired } from "./PgServer.ts"

/** An initialised (unmigrated) PGlite folder; suites copy it rather than run PGlite's initdb each (the cli project's setup too). */
export const makePgliteTemplate = async () => {
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
      project.provide("spectralPgServer", await useExternalPostgres(external))
      project.provide("spectralPgServerSkipReason", "")
      return undefined
    } catch (error) {
      return fail(`SPECTRAL_TEST_DATABASE_URL is unusable: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const bin = findPostgresBinaries()
  if (bin === undefined) return fail("no SPECTRAL_TEST_DATABASE_URL and no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
  let server: Awaited<ReturnType<typeof startThrowawayPostgres>>
  try {
    server = await startThrowawayPostgres(bin)
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
