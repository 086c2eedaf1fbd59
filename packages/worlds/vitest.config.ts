import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "worlds", include: ["test/**/*.test.ts"] } })
