/**
 * The SQL store on embedded PGlite (temporary folders): the repository contract through the public
 * `Storage.layerPglite`, row-level security applied by switching to the app role per transaction,
 * corrupt rows, persistence across reopenings, and a process that exits on its own after use.
 */
import { expect, it } from "@effect/vitest"
import { inject } from "vitest"
import "./PgServer.ts"
import { PgClient } from "@effect/sql-pg"
import { ScanRepo } from "@spectral/engine"
import { Effect, Layer, Option } from "effect"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Storage } from "../../src/storage/index.ts"
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

/** Repositories and an app-role session on one embedded database (the layer the store itself uses). */
const sqlFixture = (dataDir: string) => {
  const migrated = Layer.effectDiscard(Storage.migrateNoDeps).pipe(Layer.provideMerge(Storage.layerPgliteClient({ dataDir })))
  const session = Layer.effect(AppSession, Effect.gen(function*() {
    return AppSession.assumed(yield* PgClient.PgClient)
  }))
  return Layer.mergeAll(Storage.layerNoDeps({ assumeRole: Storage.appRole }), session).pipe(Layer.provide(migrated))
}

rlsProbe("embedded PGlite (SET LOCAL ROLE spectral_app)", sqlFixture(freshDir()))
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
    expect(yield* Storage.migrate({ ...config, dataDir: freshDir() })).toEqual([{ id: 1, name: "workspace_tables" }, { id: 2, name: "retention_and_ingest_keys" }, { id: 3, name: "events_and_response_cache" }])
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
