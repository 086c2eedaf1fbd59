/**
 * The durable event bus on a PostgreSQL server (the throwaway cluster from the global setup, or
 * SPECTRAL_TEST_DATABASE_URL), the engine connected as `spectral_app` through a pool of several
 * connections, so concurrent dispatchers really race. Skips without a server (fails on CI).
 */
import { describe, expect, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { inject } from "vitest"
import { Storage } from "../../src/storage/index.ts"
import { serverRequired } from "../storage/PgServer.ts"
import { AppSession } from "../storage/RlsProbe.ts"
import { durableEventsSuite } from "./DurableEventsSuite.ts"

const server = inject("spectralPgServer")

if (server === null) {
  describe("durable events: PostgreSQL server", () => {
    it("has a server to run on", () => {
      expect(serverRequired(), inject("spectralPgServerSkipReason")).toBe(false)
    })
  })
} else {
  const app = PgClient.layer({ url: Redacted.make(server.appUrl), maxConnections: 8 }).pipe(
    Layer.provide(Layer.effectDiscard(Storage.migratePg(server.ownerUrl)))
  )
  const session = Layer.effect(AppSession, Effect.gen(function*() {
    return AppSession.connected(yield* PgClient.PgClient)
  }))
  durableEventsSuite(`PostgreSQL server (${server.source})`, Layer.provideMerge(session, app), undefined)
}
