import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"
import { maxWorkers, sharedModules, sourceResolve } from "../../vitest.shared.ts"

// Scans take about a second each; the end-to-end tests run several. The files share their worker's
// modules (nothing here may mock a module: see `sharedModules`).
export default defineProject({
  ...sourceResolve, test: { name: "tax-prep", include: ["test/**/*.test.ts"], ...sharedModules(fileURLToPath(new URL(".", import.meta.url))), maxWorkers, testTimeout: 60_000 } })
