import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { maxWorkers, sharedModules, sourceResolve } from "../../vitest.shared.ts"

// The files share their worker's modules (nothing here may mock a module: see `sharedModules`).
export default defineProject({
  ...sourceResolve, test: { name: "worlds", include: ["test/**/*.test.ts"], ...sharedModules(fileURLToPath(new URL(".", import.meta.url))), maxWorkers, testTimeout: 60_000 } })
