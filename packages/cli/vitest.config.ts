import { defineProject } from "vitest/config"
import { maxWorkers, sourceResolve } from "../../vitest.shared.ts"

export default defineProject({
  ...sourceResolve,
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    maxWorkers,
    testTimeout: 120_000,
    // One initialised PGlite folder the suites copy into a new SPECTRAL_DATA_DIR (`PgliteTemplate.ts`).
    globalSetup: ["test/pglite.globalSetup.ts"]
  }
})
