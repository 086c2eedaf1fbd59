import { defineProject } from "vitest/config"
import { sourceResolve } from "../../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  test: {
    name: "adapters",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Starts a throwaway PostgreSQL cluster for the server suites (or uses SPECTRAL_TEST_DATABASE_URL)
    // and initialises one embedded PGlite folder that the embedded suites copy.
    globalSetup: ["test/storage/storage.globalSetup.ts"]
  }
})
