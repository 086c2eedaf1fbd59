import { defineProject } from "vitest/config"
import { sourceResolve } from "../../vitest.shared.ts"

// Scans take about a second each; the end-to-end tests run several.
export default defineProject({
  ...sourceResolve, test: { name: "tax-prep", include: ["test/**/*.test.ts"], testTimeout: 60_000 } })
