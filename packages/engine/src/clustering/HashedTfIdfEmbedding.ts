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
 * are not features: they would make unrelated explanations look alike. Words are Porter-stemmed and
 * the judge's bookkeeping dropped (`ExplanationText.ts`); identifiers (tool and field names) weigh
 * `identifierWeight` and give no character n-grams, since they say where a failure happened, not
 * what it was; and each kind of failure the explanation expresses (`FailureVocabulary.ts`: a
 * timeout, a rate limit, truncation, …) is one more word feature weighing `conceptWeight`, so that
 * paraphrases of one root cause share a feature their words do not.
 */
import { Effect, Layer } from "effect"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import { FnvOffsetBasis, hashString } from "../random/Deterministic.ts"
import { contentWords, stopWords } from "./ExplanationText.ts"
import { conceptsOf } from "./FailureVocabulary.ts"
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
  /** Factor on word n-grams that contain an identifier (a tool or field name). Default 0.5. */
  readonly identifierWeight?: number
  /** Added to ln((1 + N) / (1 + df)): 1 (default) keeps words every text has; 0 drops them. */
  readonly idfFloor?: number
  /** Factor on the failure-vocabulary concepts an explanation expresses (`FailureVocabulary.ts`); 0 leaves them out. Default 3. */
  readonly conceptWeight?: number
}

const wordPattern = /[\p{L}\p{N}_<>#%$]+/gu

/** Lower-cased word tokens of a text (placeholders like `<num>s` stay one token). */
export const wordTokens = (text: string): Array<string> => text.toLowerCase().match(wordPattern) ?? []

/** FNV-1a seeds of the word and character blocks (the offset basis with a salt folded in). */
const WordSeed = FnvOffsetBasis ^ 0x77
const CharSeed = FnvOffsetBasis ^ 0x63

/** Per bucket: occurrences, and the weight factor of what hashed there (identifiers count less). */
interface Counts {
  readonly counts: Map<number, number>
  readonly factors: Map<number, number>
}

export { stopWords }

const add = (block: Counts, bucket: number, factor: number) => {
  block.counts.set(bucket, (block.counts.get(bucket) ?? 0) + 1)
  block.factors.set(bucket, Math.max(block.factors.get(bucket) ?? 0, factor))
}

const countFeatures = (text: string, options: Required<HashedTfIdfOptions>): [Counts, Counts] => {
  const mask = options.dimensions - 1
  const { identifiers, stems, words } = contentWords(text)
  const wordBlock: Counts = { counts: new Map(), factors: new Map() }
  const charBlock: Counts = { counts: new Map(), factors: new Map() }
  const [wordMin, wordMax] = options.wordNgrams
  for (let length = wordMin; length <= wordMax; length++) {
    for (let start = 0; start + length <= stems.length; start++) {
      const bucket = hashString(stems.slice(start, start + length).join(" "), WordSeed) & mask
      add(wordBlock, bucket, identifiers.slice(start, start + length).includes(true) ? options.identifierWeight : 1)
    }
  }
  if (options.conceptWeight > 0) {
    for (const name of conceptsOf(text)) add(wordBlock, hashString(`concept:${name}`, WordSeed) & mask, options.conceptWeight)
  }
  const [charMin, charMax] = options.charNgrams
  words.forEach((word, i) => {
    if (identifiers[i]) return
    const padded = ` ${word} `
    for (let length = charMin; length <= charMax; length++) {
      for (let start = 0; start + length <= padded.length; start++) add(charBlock, hashString(padded.slice(start, start + length), CharSeed) & mask, 1)
    }
  })
  return [wordBlock, charBlock]
}

const resolveOptions = (options: HashedTfIdfOptions): Required<HashedTfIdfOptions> => ({
  dimensions: options.dimensions ?? 4096,
  wordNgrams: options.wordNgrams ?? [1, 2],
  charNgrams: options.charNgrams ?? [3, 5],
  wordWeight: options.wordWeight ?? 0.5,
  identifierWeight: options.identifierWeight ?? 0.5,
  idfFloor: options.idfFloor ?? 1,
  conceptWeight: options.conceptWeight ?? 3
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
    for (const counts of counted) for (const bucket of counts[block].counts.keys()) documentFrequency[bucket]++
    for (let row = 0; row < n; row++) {
      const { counts, factors } = counted[row][block]
      let norm = 0
      const weights: Array<[number, number]> = []
      for (const [bucket, tf] of counts) {
        const weight = factors.get(bucket)! * (1 + Math.log(tf)) * (Math.log((1 + n) / (1 + documentFrequency[bucket])) + resolved.idfFloor)
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
