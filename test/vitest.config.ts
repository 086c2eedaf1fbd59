import { defineProject } from "vitest/config"

// Rules about the repository as a whole: imports, cycles, declared dependencies.
export default defineProject({ test: { name: "repository", include: ["*.test.ts"], testTimeout: 60_000 } })
