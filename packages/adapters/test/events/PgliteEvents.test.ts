/**
 * The durable event bus on embedded PGlite (a copy of the template folder) on the store's own
 * session (the app role, as on a server); and the whole store (repositories, unit of work, bus,
 * response cache) on a client the caller opened (PGlite's superuser, switching role per transaction).
 */
import { expect, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { CallContext, EventBus, UnitOfWork, WorkspaceRepo } from "@spectral/engine"
import { Effect, Layer, Option } from "effect"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import "../storage/PgServer.ts"
import { ResponseCache } from "../../src/llm/ResponseCache.ts"
import { Storage } from "../../src/storage/index.ts"
import * as F from "../storage/fixtures.ts"
import { AppSession } from "../storage/RlsProbe.ts"
import { convergenceEvent, durableEventsSuite } from "./DurableEventsSuite.ts"

const dataDir = mkdtempSync(join(tmpdir(), "spectral-pglite-events-"))
cpSync(inject("spectralPgliteTemplate"), dataDir, { recursive: true })

const session = Layer.effect(AppSession, Effect.gen(function*() {
  return AppSession.connected(yield* PgClient.PgClient)
}))

durableEventsSuite("embedded PGlite", Layer.provideMerge(session, Storage.layerPgliteAppClient({ dataDir })), undefined)

/** `Storage.layerWithEventsNoDeps`: every part of the store on a client the caller opened (here PGlite's superuser). */
const ownClientDir = mkdtempSync(join(tmpdir(), "spectral-pglite-nodeps-"))
cpSync(inject("spectralPgliteTemplate"), ownClientDir, { recursive: true })
const onOwnClient = Storage.layerWithEventsNoDeps({ assumeRole: Storage.appRole, events: { poll: false } }).pipe(
  Layer.provideMerge(Layer.effectDiscard(Storage.migrateNoDeps).pipe(Layer.provideMerge(Storage.layerPgliteClient({ dataDir: ownClientDir }))))
)

layer(onOwnClient, { timeout: "120 seconds", excludeTestServices: true })("the store on a client the caller opened", (it) => {
  it.effect("a unit of work commits a repository write with its event or neither; the cache is the workspace's", () =>
    Effect.gen(function*() {
      const unitOfWork = yield* UnitOfWork
      const bus = yield* EventBus
      const workspaces = yield* WorkspaceRepo
      const cache = yield* ResponseCache
      const ws = F.freshWorkspaceId("own-client")
      const delivered: Array<string> = []
      yield* bus.subscribe("recorder", (event) => Effect.sync(() => delivered.push(event.id)))

      yield* unitOfWork.transactional(ws, Effect.andThen(workspaces.upsert(F.workspace(ws)), bus.publish(convergenceEvent(ws, "e-kept"))))
      const failed = yield* Effect.flip(unitOfWork.transactional(ws, Effect.andThen(
        Effect.andThen(workspaces.upsert(F.workspace(ws, "Renamed")), bus.publish(convergenceEvent(ws, "e-rolled-back"))),
        Effect.fail("abort" as const)
      )))
      yield* bus.drain(ws)
      expect(failed).toBe("abort")
      expect(delivered).toEqual(["e-kept"])
      expect((yield* workspaces.get(ws)).name).toBe("Tax prep")

      const inWorkspace = (id: string) => Effect.provideService(CallContext, { workspaceId: id, phase: "evaluate", purpose: "judge" })
      yield* cache.put("request-hash", "{\"answer\":1}").pipe(inWorkspace(ws))
      expect(yield* cache.get("request-hash").pipe(inWorkspace(ws))).toEqual(Option.some("{\"answer\":1}"))
      expect(yield* cache.get("request-hash").pipe(inWorkspace(F.freshWorkspaceId("other")))).toEqual(Option.none())
      // Outside any workspace (the context's default, the empty id) nothing is stored or found.
      yield* cache.put("no-workspace-hash", "{\"answer\":2}")
      expect(yield* cache.get("no-workspace-hash")).toEqual(Option.none())
    }))
})
