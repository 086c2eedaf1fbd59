import { defineProject } from "vitest/config"

export default defineProject({ test: { name: "tax-prep", include: ["test/**/*.test.ts"] } })
