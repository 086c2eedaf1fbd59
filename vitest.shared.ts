/**
 * What every project's Vitest config shares: workspace packages resolve to their TypeScript
 * sources (the `@spectral/source` export condition), so tests never need a build first. Node
 * children the tests spawn get the same condition through NODE_OPTIONS (set by `npm test`).
 */
import { readdirSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join, relative } from "node:path"

export const SOURCE_CONDITION = "@spectral/source"

const conditions = [SOURCE_CONDITION, "module", "node", "import", "default"]

export const sourceResolve = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [SOURCE_CONDITION] } }
}

/**
 * How many test files run at once, in every project (a project's config does not inherit the
 * root's, and projects run together must agree). Vitest's default is one per core but one: a
 * single worker on CI's two cores, idle while its tests wait on the processes, servers and
 * browsers they start.
 */
export const maxWorkers: number = Math.max(2, availableParallelism() - 1)

/**
 * The test files under `root/dir` that replace a module (`vi.mock`, `vi.doMock`), relative to
 * `root`. A project whose files share a worker's module cache (`isolate: false`: each file does not
 * pay for importing Effect and the engine again) runs these in an isolated project of their own:
 * a mocked module would leak into the files after them, or miss the modules already loaded.
 */
export const mockingTestFiles = (root: string, dir = "test"): Array<string> => {
  const found: Array<string> = []
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith(".test.ts") && /\bvi\.(?:mock|doMock)\(/.test(readFileSync(path, "utf8"))) found.push(relative(root, path))
    }
  }
  walk(join(root, dir))
  return found.sort()
}

/**
 * `isolate: false` for a project with no test file that mocks a module; a config load error naming
 * the files otherwise (run them isolated, as the engine's "engine-isolated" project does).
 */
export const sharedModules = (root: string): { readonly isolate: false } => {
  const mocking = mockingTestFiles(root)
  if (mocking.length > 0) {
    throw new Error(`${root}: ${mocking.join(", ")} mock a module, but the project's files share one module cache (isolate: false)`)
  }
  return { isolate: false }
}
