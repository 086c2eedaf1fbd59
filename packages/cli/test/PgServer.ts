/**
 * The PostgreSQL server a cli suite runs against: `SPECTRAL_TEST_DATABASE_URL` when set, else a
 * throwaway cluster from the machine's binaries, migrated once per file and stopped after it. Call
 * `usePgServer()` at a file's top level; its getter returns the server, or undefined (the test is
 * skipped) — except under `SPECTRAL_REQUIRE_PG_SERVER=1` (CI), where a missing server fails.
 */
import { afterAll, assert, beforeAll } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { findPostgresBinaries, type PgServerInfo, startThrowawayPostgres, useExternalPostgres } from "@spectral/adapters/testing"
import { Effect, Redacted } from "effect"

export const usePgServer = (): (() => PgServerInfo | undefined) => {
  let server: PgServerInfo | undefined
  let skipReason = ""
  let stopServer: (() => void) | undefined
  beforeAll(async () => {
    const external = process.env["SPECTRAL_TEST_DATABASE_URL"]
    try {
      if (external !== undefined && external !== "") server = await useExternalPostgres(external)
      else {
        const found = findPostgresBinaries()
        if (found === undefined) skipReason = "no PostgreSQL binaries under /usr/lib/postgresql/*/bin"
        else {
          const started = await startThrowawayPostgres(found)
          server = started.info
          stopServer = started.stop
        }
      }
      if (server !== undefined) await Effect.runPromise(Storage.migratePg(Redacted.make(server.ownerUrl)))
    } catch (error) {
      skipReason = error instanceof Error ? error.message : String(error)
      server = undefined
    }
  }, 120_000)
  afterAll(() => stopServer?.())
  return () => {
    if (server === undefined) assert.notStrictEqual(process.env["SPECTRAL_REQUIRE_PG_SERVER"], "1", skipReason)
    return server
  }
}
