/**
 * An embedded store folder as `spectral` leaves it after PGlite's initdb on a new `SPECTRAL_DATA_DIR`,
 * copied from the project's template (`pglite.globalSetup.ts`) instead of paying initdb (seconds) in
 * every process a suite starts. Nothing is migrated: the first `spectral` process on it migrates it,
 * as on a new folder. Suites about a new, empty folder (nothing stored yet) do not use it.
 */
import { cpSync } from "node:fs"
import { inject } from "vitest"
import "../../adapters/test/storage/PgServer.ts"

/** Copy the initialised template to `dataDir` (which must not exist yet); returns `dataDir`. */
export const initialisedDataDir = (dataDir: string): string => {
  cpSync(inject("spectralPgliteTemplate"), dataDir, { recursive: true, errorOnExist: true, force: false })
  return dataDir
}
