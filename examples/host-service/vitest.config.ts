import { defineProject } from "vitest/config"
import { maxWorkers } from "../../vitest.shared.ts"

// No source condition here: this project tests what a host installs, the packed tarballs.
export default defineProject({
  test: { name: "host-service", include: ["test/**/*.test.ts"], maxWorkers, testTimeout: 60_000, hookTimeout: 240_000 }
})
