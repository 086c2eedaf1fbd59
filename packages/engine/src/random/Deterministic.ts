/**
 * Deterministic helpers for the pipeline: a string hash (FNV-1a) and a small seeded generator
 * (mulberry32) for choices that must repeat exactly for a seed (tournament sampling, tie-breaks,
 * ids). The statistics core has its own faster streams; this is for orchestration only.
 */
export const hashString = (text: string, seed = 0x811c9dc5): number => {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export const hashHex = (text: string): string =>
  hashString(text).toString(16).padStart(8, "0") + hashString(text, 0x9e3779b9).toString(16).padStart(8, "0")

export interface SeededGenerator {
  /** Uniform in [0, 1). */
  readonly next: () => number
  readonly int: (maxExclusive: number) => number
}

export const seededGenerator = (seed: number): SeededGenerator => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (maxExclusive) => Math.floor(next() * maxExclusive) }
}
