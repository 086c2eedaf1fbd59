/**
 * Deterministic helpers for the pipeline: a string hash (FNV-1a, 32-bit) and a small seeded
 * generator (mulberry32) for choices that must repeat exactly for a seed (tournament sampling,
 * tie-breaks, ids, seeded orders, feature hashing). The one definition of both in the engine and
 * its plugins. The numeric hot loops (k-means, synthetic test data) draw from `Sfc32.ts`; the
 * statistics core has its own faster streams.
 */

/** The FNV-1a 32-bit offset basis: the default seed of `hashString`. */
export const FnvOffsetBasis = 0x811c9dc5

const FnvPrime = 0x01000193

/** FNV-1a over the UTF-16 code units of `text`, from `seed` (default: the offset basis). Unsigned 32-bit. */
export const hashString = (text: string, seed = FnvOffsetBasis): number => {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, FnvPrime)
  }
  return h >>> 0
}

/** FNV-1a over the 32-bit words `words[start … end)` (for example the bits of a row of doubles). Unsigned 32-bit. */
export const hashWords = (words: ArrayLike<number>, start: number, end: number, seed = FnvOffsetBasis): number => {
  let h = seed >>> 0
  for (let i = start; i < end; i++) h = Math.imul(h ^ words[i], FnvPrime)
  return h >>> 0
}

/** `hashString` as 8 hex digits. */
export const hashHex32 = (text: string, seed = FnvOffsetBasis): string => hashString(text, seed).toString(16).padStart(8, "0")

/** Two `hashString`s of different seeds as 16 hex digits: ids where 32 bits could collide. */
export const hashHex = (text: string): string => hashHex32(text) + hashHex32(text, 0x9e3779b9)

export interface SeededGenerator {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, maxExclusive). */
  readonly int: (maxExclusive: number) => number
  /** Uniform integer in [min, max]. */
  readonly between: (min: number, max: number) => number
  readonly chance: (p: number) => boolean
  readonly pick: <A>(items: ReadonlyArray<A>) => A
  /** A Fisher–Yates shuffle (a new array). */
  readonly shuffle: <A>(items: ReadonlyArray<A>) => Array<A>
}

/** mulberry32: one 32-bit state, the same sequence for the same seed on every platform. */
export const seededGenerator = (seed: number): SeededGenerator => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (maxExclusive: number) => Math.floor(next() * maxExclusive)
  return {
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    chance: (p) => next() < p,
    pick: <A>(items: ReadonlyArray<A>) => items[int(items.length)]!,
    shuffle: <A>(items: ReadonlyArray<A>) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1)
        const tmp = out[i]!
        out[i] = out[j]!
        out[j] = tmp
      }
      return out
    }
  }
}
