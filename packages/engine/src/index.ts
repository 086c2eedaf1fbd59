/**
 * `@spectral/engine`: the scan pipeline, its services and ports. Contracts are re-exported from
 * `@spectral/engine/contracts`; statistics from `@spectral/engine/stats`.
 */
export * from "./ports/index.ts"
