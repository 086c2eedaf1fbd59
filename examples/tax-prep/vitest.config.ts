import { defineProject } from "vitest/config"

// Scans take about a second each; the end-to-end tests run several.
export default defineProject({ test: { name: "tax-prep", include: ["test/**/*.test.ts"], testTimeout: 60_000 } })
