/**
 * The offline default embedding: a deterministic hashed TF-IDF of word n-grams and character
 * n-grams (within word boundaries), feature-hashed (FNV-1a) into `dimensions` buckets, with
 * sublinear term frequency (1 + ln tf), smoothed IDF ln((1 + N) / (1 + df)) + 1 computed over
 * the corpus being embedded, each block L2-normalised, mixed by `wordWeight`, and the result
 * L2-normalised (so squared Euclidean distance is 2 − 2·cosine).
 *
 * `embedCorpus` is the pure function; `make` / `layer` provide it as `effect/ai`'s
 * `EmbeddingModel`, where the IDF corpus is the batch given to one `embedMany` call (a single
 * `embed` is its own corpus, so call `embedMany` with everything to be clustered).
 * Stop words and the `<num>` / `<id>` placeholders of severity templates (see `SeverityTemplate.ts`)
 * are not features: they would make unrelated explanations look alike.
 */
import { Effect, Layer } from "effect"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import { FnvOffsetBasis, hashString } from "../random/Deterministic.ts"
import type { PointMatrix } from "./PointMatrix.ts"

export interface HashedTfIdfOptions {
  /** Buckets; a power of two. Default 4,096. */
  readonly dimensions?: number
  /** Word n-gram lengths, inclusive. Default [1, 2]. */
  readonly wordNgrams?: readonly [number, number]
  /** Character n-gram lengths within padded words, inclusive. Default [3, 5]. */
  readonly charNgrams?: readonly [number, number]
  /** Share of the squared norm given to the word block (the rest to characters). Default 0.5. */
  readonly wordWeight?: number
}

const wordPattern = /[\p{L}\p{N}_<>#%$]+/gu

/** Lower-cased word tokens of a text (placeholders like `<num>s` stay one token). */
export const wordTokens = (text: string): Array<string> => text.toLowerCase().match(wordPattern) ?? []

/** FNV-1a seeds of the word and character blocks (the offset basis with a salt folded in). */
const WordSeed = FnvOffsetBasis ^ 0x77
const CharSeed = FnvOffsetBasis ^ 0x63

type Counts = Map<number, number>

/** English function words, which carry no root cause and only make unrelated texts look alike. */
export const stopWords: ReadonlySet<string> = new Set(
  ("a an and are as at be been but by for from had has have in into is it its of on or that the this to was were " +
    "with after before while when than then so such which who whom what where via per").split(" ")
)

/** Tokens that are features: not stop words, not placeholders of quantities or ids. */
const featureTokens = (text: string): Array<string> =>
  wordTokens(text).filter((word) => !stopWords.has(word) && !word.includes("<num>") && !word.includes("<id>"))

const countFeatures = (text: string, options: Required<HashedTfIdfOptions>): [Counts, Counts] => {
  const mask = options.dimensions - 1
  const words = featureTokens(text)
  const wordCounts: Counts = new Map()
  const charCounts: Counts = new Map()
  const [wordMin, wordMax] = options.wordNgrams
  for (let length = wordMin; length <= wordMax; length++) {
    for (let start = 0; start + length <= words.length; start++) {
      const bucket = hashString(words.slice(start, start + length).join(" "), WordSeed) & mask
      wordCounts.set(bucket, (wordCounts.get(bucket) ?? 0) + 1)
    }
  }
  const [charMin, charMax] = options.charNgrams
  for (const word of words) {
    const padded = ` ${word} `
    for (let length = charMin; length <= charMax; length++) {
      for (let start = 0; start + length <= padded.length; start++) {
        const bucket = hashString(padded.slice(start, start + length), CharSeed) & mask
        charCounts.set(bucket, (charCounts.get(bucket) ?? 0) + 1)
      }
    }
  }
  return [wordCounts, charCounts]
}

const resolveOptions = (options: HashedTfIdfOptions): Required<HashedTfIdfOptions> => ({
  dimensions: options.dimensions ?? 4096,
  wordNgrams: options.wordNgrams ?? [1, 2],
  charNgrams: options.charNgrams ?? [3, 5],
  wordWeight: options.wordWeight ?? 0.5
})

/** Embed a corpus: one L2-normalised row per text, IDF over these texts. Deterministic. */
export const embedCorpus = (texts: ReadonlyArray<string>, options: HashedTfIdfOptions = {}): PointMatrix => {
  const resolved = resolveOptions(options)
  const d = resolved.dimensions
  if (!Number.isInteger(Math.log2(d)) || d < 2) throw new RangeError(`dimensions must be a power of two, got ${d}`)
  const n = texts.length
  const counted = texts.map((text) => countFeatures(text, resolved))
  const data = new Float64Array(n * d)
  const blockWeights = [Math.sqrt(resolved.wordWeight), Math.sqrt(1 - resolved.wordWeight)]
  for (let block = 0; block < 2; block++) {
    const documentFrequency = new Float64Array(d)
    for (const counts of counted) for (const bucket of counts[block].keys()) documentFrequency[bucket]++
    for (let row = 0; row < n; row++) {
      const counts = counted[row][block]
      let norm = 0
      const weights: Array<[number, number]> = []
      for (const [bucket, tf] of counts) {
        const weight = (1 + Math.log(tf)) * (Math.log((1 + n) / (1 + documentFrequency[bucket])) + 1)
        weights.push([bucket, weight])
        norm += weight * weight
      }
      if (norm === 0) continue
      const scale = blockWeights[block] / Math.sqrt(norm)
      for (const [bucket, weight] of weights) data[row * d + bucket] += weight * scale
    }
  }
  for (let row = 0; row < n; row++) {
    let norm = 0
    for (let j = 0; j < d; j++) norm += data[row * d + j] * data[row * d + j]
    if (norm === 0) continue
    const inverse = 1 / Math.sqrt(norm)
    for (let j = 0; j < d; j++) data[row * d + j] *= inverse
  }
  return { data, rows: n, columns: d }
}

/** An `EmbeddingModel` over `embedCorpus` (IDF over each `embedMany` batch). */
export const make = (options: HashedTfIdfOptions = {}): Effect.Effect<EmbeddingModel.EmbeddingModel> =>
  EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      Effect.sync(() => {
        const matrix = embedCorpus(inputs, options)
        const results = Array.from({ length: matrix.rows }, (_, i) =>
          Array.from(matrix.data.subarray(i * matrix.columns, (i + 1) * matrix.columns)))
        return { results, usage: { inputTokens: undefined } }
      })
  })

/** `EmbeddingModel` and its `Dimensions` with the given options. */
export const layerWith = (
  options: HashedTfIdfOptions = {}
): Layer.Layer<EmbeddingModel.EmbeddingModel | EmbeddingModel.Dimensions> =>
  Layer.merge(
    Layer.effect(EmbeddingModel.EmbeddingModel, make(options)),
    Layer.succeed(EmbeddingModel.Dimensions, resolveOptions(options).dimensions)
  )

/** The default hashed TF-IDF `EmbeddingModel` (4,096 buckets, words 1–2, characters 3–5). */
export const layer: Layer.Layer<EmbeddingModel.EmbeddingModel | EmbeddingModel.Dimensions> = layerWith()
