/** The durable event bus on embedded PGlite (a copy of the template folder), as the app role per transaction. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import "../storage/PgServer.ts"
import { Migrations, PgliteClient } from "../../src/storage/index.ts"
import { AppSession } from "../storage/RlsProbe.ts"
import { durableEventsSuite } from "./DurableEventsSuite.ts"

const dataDir = mkdtempSync(join(tmpdir(), "spectral-pglite-events-"))
cpSync(inject("spectralPgliteTemplate"), dataDir, { recursive: true })

const migrated = Layer.effectDiscard(Migrations.migrate).pipe(Layer.provideMerge(PgliteClient.layer({ dataDir })))
const session = Layer.effect(AppSession, Effect.gen(function*() {
  return AppSession.assumed(yield* PgClient.PgClient)
}))

durableEventsSuite("embedded PGlite", Layer.provideMerge(session, migrated), Migrations.appRole)
