/**
 * Vitest global setup of the cli project: one initialised, unmigrated embedded PGlite folder (PGlite's
 * initdb is seconds of work per folder) that suites copy into a `SPECTRAL_DATA_DIR` with
 * `initialisedDataDir` (see `PgliteTemplate.ts`), removed after the run.
 */
import type { TestProject } from "vitest/node"
import { makePgliteTemplate } from "../../adapters/test/storage/storage.globalSetup.ts"

export default async function setup(project: TestProject) {
  const template = await makePgliteTemplate()
  project.provide("spectralPgliteTemplate", template.dataDir)
  return template.remove
}
