/**
 * Seeded pseudo-random streams for resampling: xoshiro128** (32-bit words, so every step is
 * integer arithmetic V8 keeps in registers), seeded through a splitmix32-style mixer from a user
 * seed and a stream index, so block `b` of a bootstrap always draws the same numbers whatever
 * thread runs it. Owns the generator and unbiased bounded draws (Lemire's multiply-and-reject);
 * the hot resampling loops inline the same step rather than calling `nextUint32` per element.
 */

/** 2^-32 and 2^-53, exact powers of two. */
export const TWO_POW_MINUS_32 = 2.3283064365386963e-10
const TWO_POW_MINUS_53 = 1.1102230246251565e-16

const mix32 = (value: number): number => {
  let z = value | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** Split a seed (any safe integer, negative allowed) into two 32-bit words. */
const seedWords = (seed: number): readonly [number, number] => {
  const low = seed % 4294967296
  const high = Math.floor((seed - low) / 4294967296)
  return [low >>> 0, high >>> 0]
}

/**
 * The four state words of stream `streamIndex` for `seed`. Distinct (seed, stream) pairs give
 * unrelated states; the all-zero state (a fixed point of xoshiro) is never returned.
 */
export const streamState = (seed: number, streamIndex: number): Uint32Array => {
  const [low, high] = seedWords(seed)
  const state = new Uint32Array(4)
  let counter = mix32(low ^ 0x9e3779b9) ^ mix32(high + 0x7f4a7c15) ^ mix32(Math.imul(streamIndex, 0x632be5ab) + 0x1b873593)
  for (let i = 0; i < 4; i++) {
    counter = (counter + 0x9e3779b9) | 0
    state[i] = mix32(counter ^ mix32(streamIndex + i * 0x3c6ef372))
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1
  return state
}

/** A xoshiro128** generator over a four-word state (mutated in place). */
export class SeededStream {
  readonly state: Uint32Array
  constructor(state: Uint32Array) {
    this.state = state
  }

  static make(seed: number, streamIndex: number): SeededStream {
    return new SeededStream(streamState(seed, streamIndex))
  }

  nextUint32(): number {
    const s = this.state
    const s0 = s[0] | 0, s1 = s[1] | 0, s2 = s[2] | 0, s3 = s[3] | 0
    let t = Math.imul(s1, 5)
    t = (t << 7) | (t >>> 25)
    const result = Math.imul(t, 9) >>> 0
    const shifted = s1 << 9
    const n2 = s2 ^ s0, n3 = s3 ^ s1
    const n1 = s1 ^ n2, n0 = s0 ^ n3
    s[0] = n0
    s[1] = n1
    s[2] = n2 ^ shifted
    s[3] = (n3 << 11) | (n3 >>> 21)
    return result
  }

  /** Uniform in (0, 1) with 53 random bits; never exactly 0 or 1. */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5
    const low = this.nextUint32() >>> 6
    return (high * 67108864 + low + 0.5) * TWO_POW_MINUS_53
  }

  /** Uniform integer in [0, bound), bound in [1, 2^32], unbiased (Lemire 2019). */
  nextBelow(bound: number): number {
    const threshold = 4294967296 % bound
    for (;;) {
      const x = this.nextUint32()
      const low = Math.imul(x, bound) >>> 0
      if (low >= threshold) return multiplyHigh32(x, bound)
    }
  }
}

/** floor(x * bound / 2^32) exactly, for 32-bit x and bound ≤ 2^32. */
export const multiplyHigh32 = (x: number, bound: number): number => {
  if (bound < 2097152) return Math.floor(x * bound * TWO_POW_MINUS_32)
  const upper = (x >>> 16) * bound
  const lower = (x & 0xffff) * bound
  return Math.floor((upper + Math.floor(lower / 65536)) / 65536)
}
