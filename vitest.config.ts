import { enableCompileCache } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { maxWorkers, mockingTestFiles, sourceResolve } from "./vitest.shared.ts"

// Node's on-disk compile cache (V8 code and type-stripped TypeScript) for every Node process of the
// run: the test workers and the `node packages/cli/src/bin.ts …` children the cli suites spawn (each
// loads some two thousand modules at start-up). Children inherit it through NODE_COMPILE_CACHE.
process.env["NODE_COMPILE_CACHE"] ??= join(tmpdir(), "spectral-test-compile-cache")
enableCompileCache(process.env["NODE_COMPILE_CACHE"])

const engineRoot = fileURLToPath(new URL("./packages/engine/", import.meta.url))
const engineMocking = mockingTestFiles(engineRoot)

export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "examples/*",
      "test",
      // The engine's files that mock a module, each in a fresh module cache (the "engine" project shares one).
      ...(engineMocking.length === 0 ? [] : [{
        ...sourceResolve,
        root: engineRoot,
        test: { name: "engine-isolated", include: engineMocking, isolate: true, maxWorkers, testTimeout: 60_000 }
      }])
    ],
    maxWorkers,
    reporters: ["default", "./vitest.summary.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
