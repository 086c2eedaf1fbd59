/**
 * The paged read of scan traces on every backend: the engine's MemoryStorage (the reference),
 * embedded PGlite, and a PostgreSQL server when the global setup has one.
 */
import { MemoryStorage } from "@spectral/engine"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import "./PgServer.ts"
import { Storage } from "../../src/storage/index.ts"
import { scanTracePages } from "./ScanTracePages.ts"

/** A copy of a folder PGlite already initialised (not migrated). */
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-pglite-"))
  cpSync(inject("spectralPgliteTemplate"), dir, { recursive: true })
  return dir
}

scanTracePages("memory", MemoryStorage.layer)
scanTracePages("embedded PGlite", Storage.layerPglite({ dataDir: freshDir() }))

const server = inject("spectralPgServer")
if (server !== null) scanTracePages(`PostgreSQL server (${server.source})`, Storage.layerPg({ url: server.appUrl, ownerUrl: server.ownerUrl }))
