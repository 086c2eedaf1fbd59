/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32) for the numeric hot
 * loops: k-means++ seeding and row samples in clustering, and the synthetic test data built on
 * them (Gaussian blobs, failure explanations). Owns reproducibility only: the same seed gives the
 * same stream on every machine. Not the orchestration generator (`seededGenerator` in
 * `Deterministic.ts`, mulberry32), whose numbers differ; not cryptographic; not Effect's `Random`
 * service (which the hot loops cannot afford to call per draw).
 */

export interface SeededRandom {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, bound). */
  readonly nextInt: (bound: number) => number
  /** A standard normal draw (Box–Muller). */
  readonly nextGaussian: () => number
}

const splitmix32 = (state: number): [number, number] => {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return [next, (z ^ (z >>> 16)) >>> 0]
}

/** A generator for `seed` (any finite number; fractional parts and sign are folded in). */
export const makeSeededRandom = (seed: number): SeededRandom => {
  let state = (Math.trunc(seed) ^ Math.trunc((seed % 1) * 0x100000000)) | 0
  let a: number, b: number, c: number, d: number
  ;[state, a] = splitmix32(state)
  ;[state, b] = splitmix32(state)
  ;[state, c] = splitmix32(state)
  ;[state, d] = splitmix32(state)
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) nextUint32()
  const next = (): number => nextUint32() / 4294967296
  const nextInt = (bound: number): number => Math.floor(next() * bound)
  let spare: number | undefined
  const nextGaussian = (): number => {
    if (spare !== undefined) {
      const value = spare
      spare = undefined
      return value
    }
    let u = 0
    while (u === 0) u = next()
    const v = next()
    const radius = Math.sqrt(-2 * Math.log(u))
    spare = radius * Math.sin(2 * Math.PI * v)
    return radius * Math.cos(2 * Math.PI * v)
  }
  return { next, nextInt, nextGaussian }
}

/** Derive an independent seed for sub-stream `index` of `seed` (restart r, candidate k, …). */
export const deriveSeed = (seed: number, index: number): number => {
  const [, mixed] = splitmix32((Math.trunc(seed) * 0x27d4eb2d + index * 0x165667b1) | 0)
  return mixed
}
