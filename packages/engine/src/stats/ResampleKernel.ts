/**
 * The hot loops: fill a slice of the bootstrap distribution for a `ResamplePlan`. Resamples are
 * cut into fixed blocks of `RESAMPLES_PER_BLOCK`, block b drawing from its own stream
 * `streamState(seed, b)` (sample 0's rows, then sample 1's), so any split of the blocks across
 * threads gives bit-identical values. Memory: O(block) scratch, nothing proportional to n × B.
 * The xoshiro128** step and Lemire's bounded draw are inlined by hand in the row loops.
 */
import { drawMultinomial } from "./Binomial.ts"
import { combine, type ResamplePlan, type ResampleSample } from "./ResamplePlan.ts"
import { SeededStream, streamState } from "./SeededStream.ts"

export const RESAMPLES_PER_BLOCK = 64

/** 2^-32 (a local copy: an imported binding costs a load per use in the hot loop). */
const TWO_POW_MINUS_32 = 2.3283064365386963e-10

/** Below this many rows the bounded draw is one exact double multiply (n·2³² < 2⁵³). */
const FAST_BOUND = 2097152

/*
 * One resample per call, on purpose: V8 fully optimizes a function called many times, while a
 * single long call only gets on-stack-replaced code, measured ~40% slower on these loops.
 */

/** Σ values over one resample of n rows; advances `state`. Requires n < 2²¹. */
const resampleSum = (state: Uint32Array, values: Float64Array, threshold: number): number => {
  const n = values.length
  let s0 = state[0] | 0, s1 = state[1] | 0, s2 = state[2] | 0, s3 = state[3] | 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    let t = Math.imul(s1, 5)
    t = (t << 7) | (t >>> 25)
    const random = Math.imul(t, 9) >>> 0
    const shifted = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= shifted
    s3 = (s3 << 11) | (s3 >>> 21)
    if ((Math.imul(random, n) >>> 0) < threshold) {
      i--
      continue
    }
    sum += values[(random * n * TWO_POW_MINUS_32) | 0]
  }
  state[0] = s0
  state[1] = s1
  state[2] = s2
  state[3] = s3
  return sum
}

/** Σ numerators over one resample, with Σ denominators written to `sums[1]`. Requires n < 2²¹. */
const resamplePairSums = (
  state: Uint32Array,
  numerators: Float64Array,
  denominators: Float64Array,
  threshold: number,
  sums: Float64Array
): void => {
  const n = numerators.length
  let s0 = state[0] | 0, s1 = state[1] | 0, s2 = state[2] | 0, s3 = state[3] | 0
  let numerator = 0
  let denominator = 0
  for (let i = 0; i < n; i++) {
    let t = Math.imul(s1, 5)
    t = (t << 7) | (t >>> 25)
    const random = Math.imul(t, 9) >>> 0
    const shifted = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= shifted
    s3 = (s3 << 11) | (s3 >>> 21)
    if ((Math.imul(random, n) >>> 0) < threshold) {
      i--
      continue
    }
    const index = (random * n * TWO_POW_MINUS_32) | 0
    numerator += numerators[index]
    denominator += denominators[index]
  }
  state[0] = s0
  state[1] = s1
  state[2] = s2
  state[3] = s3
  sums[0] = numerator
  sums[1] = denominator
}

/** Means of `count` row resamples of `values` into `into[0..count)`; zero means redrawn when required. */
const resampleMeans = (
  state: Uint32Array,
  values: Float64Array,
  count: number,
  into: Float64Array,
  requireNonzero: boolean
): void => {
  const n = values.length
  if (n >= FAST_BOUND) return resampleRatiosWide(state, values, null, count, into, requireNonzero)
  const threshold = 4294967296 % n
  for (let r = 0; r < count; r++) {
    const sum = resampleSum(state, values, threshold)
    if (requireNonzero && sum === 0) r--
    else into[r] = sum / n
  }
}

/** Σnum / Σden of `count` row resamples; a resample with Σden = 0 (or Σnum = 0 when required) is redrawn. */
const resampleRatios = (
  state: Uint32Array,
  numerators: Float64Array,
  denominators: Float64Array,
  count: number,
  into: Float64Array,
  requireNonzero: boolean
): void => {
  const n = numerators.length
  if (n >= FAST_BOUND) return resampleRatiosWide(state, numerators, denominators, count, into, requireNonzero)
  const threshold = 4294967296 % n
  const sums = new Float64Array(2)
  for (let r = 0; r < count; r++) {
    resamplePairSums(state, numerators, denominators, threshold, sums)
    if (sums[1] === 0 || (requireNonzero && sums[0] === 0)) r--
    else into[r] = sums[0] / sums[1]
  }
}

/** Either kind of sample with n ≥ 2²¹ rows, where the bounded draw needs the exact split product. */
const resampleRatiosWide = (
  state: Uint32Array,
  numerators: Float64Array,
  denominators: Float64Array | null,
  count: number,
  into: Float64Array,
  requireNonzero: boolean
): void => {
  const n = numerators.length
  const stream = new SeededStream(state)
  for (let r = 0; r < count; r++) {
    let numerator = 0
    let denominator = denominators === null ? n : 0
    for (let i = 0; i < n; i++) {
      const index = stream.nextBelow(n)
      numerator += numerators[index]
      if (denominators !== null) denominator += denominators[index]
    }
    if (denominator === 0 || (requireNonzero && numerator === 0)) {
      r--
      continue
    }
    into[r] = numerator / denominator
  }
}

/** The counts-based path: a multinomial draw of category counts stands for n row draws. */
const resampleCategories = (
  state: Uint32Array,
  sample: ResampleSample,
  count: number,
  into: Float64Array
): void => {
  const table = sample.categories!
  const stream = new SeededStream(state)
  const drawn = new Float64Array(table.counts.length)
  const { denominators, numerators } = table
  for (let r = 0; r < count; r++) {
    drawMultinomial(stream, sample.size, table.counts, drawn)
    let numerator = 0
    let denominator = 0
    for (let k = 0; k < drawn.length; k++) {
      numerator += drawn[k] * numerators[k]
      denominator += drawn[k] * (denominators === null ? 1 : denominators[k])
    }
    if (denominator === 0 || (sample.requireNonzero && numerator === 0)) {
      r--
      continue
    }
    into[r] = numerator / denominator
  }
}

const resampleSample = (state: Uint32Array, sample: ResampleSample, count: number, into: Float64Array): void => {
  if (sample.categories !== null) resampleCategories(state, sample, count, into)
  else if (sample.denominators === null) resampleMeans(state, sample.numerators, count, into, sample.requireNonzero)
  else resampleRatios(state, sample.numerators, sample.denominators, count, into, sample.requireNonzero)
}

export const blockCount = (resamples: number): number => Math.ceil(resamples / RESAMPLES_PER_BLOCK)

/**
 * Write resamples of blocks [firstBlock, endBlock) into `into`, block `firstBlock`'s first
 * resample at `into[0]`. `resamples` is the total B (the last block may be short).
 */
export const fillBootstrapBlocks = (
  plan: ResamplePlan,
  seed: number,
  resamples: number,
  firstBlock: number,
  endBlock: number,
  into: Float64Array
): void => {
  const scratch = plan.samples.map(() => new Float64Array(RESAMPLES_PER_BLOCK))
  for (let block = firstBlock; block < endBlock; block++) {
    const start = block * RESAMPLES_PER_BLOCK
    const count = Math.min(RESAMPLES_PER_BLOCK, resamples - start)
    const state = streamState(seed, block)
    for (let j = 0; j < plan.samples.length; j++) resampleSample(state, plan.samples[j], count, scratch[j])
    const offset = start - firstBlock * RESAMPLES_PER_BLOCK
    const first = scratch[0]
    if (plan.samples.length === 1) {
      for (let r = 0; r < count; r++) into[offset + r] = first[r]
    } else {
      const second = scratch[1]
      for (let r = 0; r < count; r++) into[offset + r] = combine(plan.combination, first[r], second[r])
    }
  }
}
