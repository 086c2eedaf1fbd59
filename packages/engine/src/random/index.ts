/**
 * `@spectral/engine/random`: the deterministic pieces every package shares — the FNV-1a hash and
 * the mulberry32 generator (`Deterministic.ts`), and the sfc32 generator the clustering uses.
 * Plain synchronous code, no global randomness: the same seed gives the same sequence.
 */
export * from "./Deterministic.ts"
export * from "./Sfc32.ts"
