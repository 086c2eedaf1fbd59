import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*", "test"],
    reporters: ["default", "./vitest.summary.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
