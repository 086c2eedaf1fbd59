import { defineProject } from "vitest/config"
import { sourceResolve } from "../../vitest.shared.ts"

export default defineProject({
  ...sourceResolve, test: { name: "plugins", include: ["test/**/*.test.ts"], testTimeout: 60_000 } })
