import { defineProject } from "vitest/config"
import { maxWorkers } from "../vitest.shared.ts"

// Rules about the repository as a whole: imports, cycles, declared dependencies.
export default defineProject({ test: { name: "repository", include: ["*.test.ts"], maxWorkers, testTimeout: 60_000 } })
