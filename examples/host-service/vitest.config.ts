import { defineProject } from "vitest/config"

// No source condition here: this project tests what a host installs, the packed tarballs.
export default defineProject({
  test: { name: "host-service", include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 240_000 }
})
