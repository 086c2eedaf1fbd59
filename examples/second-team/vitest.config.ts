import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "second-team", include: ["test/**/*.test.ts"] } })
