import { fileURLToPath } from "node:url"
import { configDefaults, defineProject } from "vitest/config"
import { maxWorkers, mockingTestFiles, sourceResolve } from "../../vitest.shared.ts"

// The files share their worker's modules (no re-import of Effect and the engine per file); those
// that mock a module run isolated, in the root config's "engine-isolated" project.
export default defineProject({
  ...sourceResolve,
  test: {
    name: "engine",
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...mockingTestFiles(fileURLToPath(new URL(".", import.meta.url)))],
    isolate: false,
    maxWorkers,
    testTimeout: 60_000
  }
})
