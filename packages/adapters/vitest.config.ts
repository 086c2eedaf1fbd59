import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { maxWorkers, sharedModules, sourceResolve } from "../../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  test: {
    name: "adapters",
    include: ["test/**/*.test.ts"],
    maxWorkers,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The files share their worker's modules (nothing here may mock a module: see `sharedModules`).
    ...sharedModules(fileURLToPath(new URL(".", import.meta.url))),
    // Starts a throwaway PostgreSQL cluster for the server suites (or uses SPECTRAL_TEST_DATABASE_URL)
    // and initialises one embedded PGlite folder that the embedded suites copy.
    globalSetup: ["test/storage/storage.globalSetup.ts"]
  }
})
