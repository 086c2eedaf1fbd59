/**
 * What every project's Vitest config shares: workspace packages resolve to their TypeScript
 * sources (the `@spectral/source` export condition), so tests never need a build first. Node
 * children the tests spawn get the same condition through NODE_OPTIONS (set by `npm test`).
 */
export const SOURCE_CONDITION = "@spectral/source"

const conditions = [SOURCE_CONDITION, "module", "node", "import", "default"]

export const sourceResolve = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [SOURCE_CONDITION] } }
}
