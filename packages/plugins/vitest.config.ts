import { defineProject } from "vitest/config"
import { maxWorkers, sourceResolve } from "../../vitest.shared.ts"

export default defineProject({
  ...sourceResolve, test: { name: "plugins", include: ["test/**/*.test.ts"], maxWorkers, testTimeout: 60_000 } })
