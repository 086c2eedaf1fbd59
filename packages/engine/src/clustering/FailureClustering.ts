/**
 * Diagnosis clustering: failing traces, described only by their rubric explanations and
 * scores, grouped by root cause into `FailureCluster` reports — label, members, severity
 * variants, frequency, effect size, actionability and representative explanations.
 *
 * Two-authority opacity: the input type carries rubric outputs only. World-model outputs
 * (scores, verdicts, rule hits, authority refs) cannot be expressed in it — the known field
 * names are typed `never`, object literals get excess-property checks, and the function copies
 * only the whitelisted fields, so nothing else can reach a report.
 *
 * `clusterFailures` is pure (offline hashed TF-IDF); `clusterFailuresWith` takes vectors from
 * `effect/ai`'s `EmbeddingModel`. Both are deterministic for a seed. Both screen the explanations
 * first (`ExplanationScreen.ts`): empty, whitespace-only and content-free ones are skipped with
 * their reason, over-long and ill-formed ones cleaned and truncated with the adjustment recorded;
 * when every one is skipped the result has no clusters (k = 0), never an error or an empty label.
 */
import { Effect, Result } from "effect"
import type * as AiError from "effect/ai/AiError"
import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import { hashHex32 } from "../random/Deterministic.ts"
import { type ClusterLabel, clusterLabels, severitySummary } from "./ClusterLabel.ts"
import { clusteringError, type ClusteringError, EmptyInput, InvalidArgument, NonFiniteValue, RaggedDimensions } from "./ClusteringError.ts"
import { type AdjustedExplanation, screenFailures, type ScreenedFailures, type SkippedExplanation } from "./ExplanationScreen.ts"
import { cleanExplanation } from "./ExplanationText.ts"
import { embedCorpus } from "./HashedTfIdfEmbedding.ts"
import type { PointMatrix } from "./PointMatrix.ts"
import { squaredDistanceAt } from "./PointMatrix.ts"
import {
  clusterPreparedTexts,
  type PreparedTexts,
  prepareTexts,
  type TextClustering,
  type TextClusteringOptions
} from "./TextClustering.ts"

/** World-model outputs, named so that a value carrying any of them does not type-check as a RubricFailure. */
interface NoWorldModelOutputs {
  readonly worldModel?: never
  readonly worldModelScore?: never
  readonly worldModelVerdict?: never
  readonly worldModelExplanation?: never
  readonly ruleIds?: never
  readonly ruleViolations?: never
  readonly ruleHits?: never
  readonly authorityRef?: never
  readonly verdict?: never
}

/** One failing trace as the rubric judged it. */
export interface RubricFailure extends NoWorldModelOutputs {
  readonly traceId: string
  readonly agent?: string
  /** The rubric judge's explanation of the failure. */
  readonly explanation: string
  /** The trace's rubric score in [0, 1]. */
  readonly rubricScore: number
  /** Per-dimension rubric scores in [0, 1]. */
  readonly dimensionScores?: Readonly<Record<string, number>>
}

export interface FailureClusteringInput {
  readonly failures: ReadonlyArray<RubricFailure>
  /** Every trace evaluated in the run, failing or not: the denominator of `frequencyPct`. */
  readonly evaluatedCount: number
  /** Mean rubric score (in [0, 1]) of the evaluated traces that did not fail: the reference of `effectSize`. */
  readonly passingMeanScore: number
}

export interface FailureClusteringOptions extends Omit<TextClusteringOptions, "weights"> {
  /** Representative explanations per cluster. Default 3. */
  readonly representatives?: number
}

export interface FailureVariant {
  /** The severity template: the explanation with quantities as `<num>` and ids as `<id>`. */
  readonly pattern: string
  /** The concrete quantities of this variant, as written ("30s"). */
  readonly values: ReadonlyArray<string>
  readonly memberIds: ReadonlyArray<string>
  /** Mean rubric score of this variant's members, in [0, 1]. */
  readonly meanRubricScore: number
}

export interface FailureCluster {
  /** Stable for the same members: `fc-` + hash of the sorted member ids. */
  readonly id: string
  /**
   * The root cause in a phrase from what the members say (see `ClusterLabel.ts`): the clause that
   * best names what sets the cluster apart, quantities as their range ("timeout after 5–60s calling tax_lookup").
   */
  readonly label: string
  /** The label's severity variants: its varying quantity across the members that say it, most frequent first. */
  readonly severities: ReadonlyArray<{ readonly value: string; readonly count: number }>
  /** `severities` as a line ("15s ×12, 30s ×4"), or "" when the label has no varying quantity. */
  readonly severitySummary: string
  readonly topTerms: ReadonlyArray<string>
  readonly memberIds: ReadonlyArray<string>
  readonly agents: ReadonlyArray<string>
  /** Severity variants: members grouped by template, then by concrete values; most frequent first within a template. */
  readonly variants: ReadonlyArray<FailureVariant>
  /** Members as a share of all evaluated traces, 0–100. */
  readonly frequencyPct: number
  /**
   * Mean rubric-score gap in points (0–100 scale): 100 × (passingMeanScore − mean rubric score of
   * the members). A cluster whose members score 0.55 against passing traces at 0.85 has effect size 30.
   * Comparable with the world model's promotion threshold (`PromotionEffectSizeThreshold`).
   */
  readonly effectSize: number
  readonly meanRubricScore: number
  /** Mean per-dimension rubric score of the members (dimensions any member reported). */
  readonly dimensionMeans: Readonly<Record<string, number>>
  /** See `actionableReason`: ≥ 2 members, a concrete label, and not dominated (≥ 50%) by infrastructure noise. */
  readonly actionable: boolean
  readonly actionableReason: string
  /** Closest to the centroid first, then diverse (maximal marginal relevance over distinct templates). */
  readonly representativeExplanations: ReadonlyArray<{ readonly traceId: string; readonly explanation: string }>
}

export interface FailureClustering {
  /** Largest cluster first. */
  readonly clusters: ReadonlyArray<FailureCluster>
  /** Clusters formed; 0 when every explanation was skipped. */
  readonly k: number
  readonly inertia: number
  readonly silhouettes?: ReadonlyArray<{ readonly k: number; readonly silhouette: number }>
  readonly evaluatedCount: number
  /** Failures given, skipped ones included. */
  readonly failureCount: number
  /** Failures left out of every cluster, with the reason (`ExplanationScreen.ts`). */
  readonly skipped: ReadonlyArray<SkippedExplanation>
  /** Failures clustered on a cleaned or truncated explanation, with what was done. */
  readonly adjusted: ReadonlyArray<AdjustedExplanation>
}

/** The world model promotes a failure mode when its effect size is at least this. */
export const PromotionEffectSizeThreshold = 15

/**
 * Explanations blaming infrastructure rather than the agent's configuration: rate limits, 5xx,
 * dropped connections, provider outages, quota. (Tool-call *timeouts* are not on the list:
 * timeout budgets, retries and fallbacks are configuration an optimizer can change.)
 */
export const infrastructureNoise =
  /rate.?limit|\b429\b|\b50[0234]\b|service unavailable|internal server error|connection (?:reset|refused|closed)|econn\w*|socket hang up|network (?:error|failure)|provider (?:error|outage)|overloaded|quota exceeded|\bdns\b/iu

/** Terms too generic to make a label concrete. */
const genericTerms = new Set(["error", "errors", "failed", "failure", "fail", "fails", "issue", "problem", "wrong", "incorrect", "bad", "invalid", "unknown", "agent", "response", "output"])

/** Validate the input and prepare the explanations (templates, distinct patterns), unscreened. */
export const prepareFailures = (input: FailureClusteringInput): Result.Result<PreparedTexts, ClusteringError> =>
  Result.map(validateFailures(input), () => prepareTexts(input.failures.map((failure) => failure.explanation)))

/** The input's failures must be non-empty, with unique ids, scores in [0, 1] and a consistent evaluated count. */
const validateFailures = (input: FailureClusteringInput): Result.Result<void, ClusteringError> => {
  const { failures, evaluatedCount, passingMeanScore } = input
  const invalid = (argument: string, detail: string) => Result.fail(clusteringError(new InvalidArgument({ argument, detail })))
  if (failures.length === 0) return Result.fail(clusteringError(new EmptyInput({ what: "failures" })))
  if (!Number.isInteger(evaluatedCount) || evaluatedCount < failures.length) {
    return invalid("evaluatedCount", `must be an integer >= the ${failures.length} failures, got ${evaluatedCount}`)
  }
  if (!(passingMeanScore >= 0 && passingMeanScore <= 1)) return invalid("passingMeanScore", `must be in [0, 1], got ${passingMeanScore}`)
  const seen = new Set<string>()
  for (let row = 0; row < failures.length; row++) {
    const failure = failures[row]
    if (seen.has(failure.traceId)) return invalid("traceId", `duplicate trace id ${failure.traceId}`)
    seen.add(failure.traceId)
    if (!Number.isFinite(failure.rubricScore)) {
      return Result.fail(clusteringError(new NonFiniteValue({ row, column: 0, value: String(failure.rubricScore) })))
    }
    if (failure.rubricScore < 0 || failure.rubricScore > 1) {
      return invalid("rubricScore", `trace ${failure.traceId} scores ${failure.rubricScore}, outside [0, 1]`)
    }
    for (const [dimension, score] of Object.entries(failure.dimensionScores ?? {})) {
      if (!(score >= 0 && score <= 1)) return invalid("dimensionScores", `trace ${failure.traceId} ${dimension} = ${score}, outside [0, 1]`)
    }
  }
  return Result.void
}

/** What is left to cluster after validation and the screen (`kept` undefined when nothing is). */
interface Screened {
  readonly screen: ScreenedFailures<RubricFailure>
  readonly kept: { readonly input: FailureClusteringInput; readonly prepared: PreparedTexts } | undefined
}

const screenInput = (input: FailureClusteringInput): Result.Result<Screened, ClusteringError> =>
  Result.map(validateFailures(input), () => {
    const screen = screenFailures(input.failures)
    return {
      screen,
      kept: screen.kept.length === 0
        ? undefined
        : { input: { ...input, failures: screen.kept }, prepared: prepareTexts(screen.kept.map((failure) => failure.explanation)) }
    }
  })

/** The clustering of the kept failures, counting every failure given and listing the skipped and adjusted ones. */
const withScreen = (input: FailureClusteringInput, screen: ScreenedFailures<RubricFailure>) => (clustering: FailureClustering): FailureClustering => ({
  ...clustering,
  failureCount: input.failures.length,
  skipped: screen.skipped,
  adjusted: screen.adjusted
})

const noClusters = (input: FailureClusteringInput, screen: ScreenedFailures<RubricFailure>): FailureClustering => ({
  clusters: [],
  k: 0,
  inertia: 0,
  evaluatedCount: input.evaluatedCount,
  failureCount: input.failures.length,
  skipped: screen.skipped,
  adjusted: screen.adjusted
})

/** Pure: cluster failures with vectors already computed for `prepared.patterns`. */
export const clusterFailureVectors = (
  input: FailureClusteringInput,
  prepared: PreparedTexts,
  vectors: PointMatrix,
  options: FailureClusteringOptions = {}
): Result.Result<FailureClustering, ClusteringError> =>
  Result.map(clusterPreparedTexts(prepared, vectors, options), (clustering) => ({
    clusters: reportsOf(input, clustering, options.representatives ?? 3),
    k: clustering.k,
    inertia: clustering.inertia,
    ...(clustering.silhouettes === undefined ? {} : { silhouettes: clustering.silhouettes }),
    evaluatedCount: input.evaluatedCount,
    failureCount: input.failures.length,
    skipped: [],
    adjusted: []
  }))

/** Pure: cluster failures with the offline hashed TF-IDF embedding. */
export const clusterFailures = (
  input: FailureClusteringInput,
  options: FailureClusteringOptions = {}
): Result.Result<FailureClustering, ClusteringError> =>
  Result.flatMap(screenInput(input), ({ kept, screen }) =>
    kept === undefined
      ? Result.succeed(noClusters(input, screen))
      : Result.map(
        clusterFailureVectors(kept.input, kept.prepared, embedCorpus(kept.prepared.patterns, options.embedding), options),
        withScreen(input, screen)
      ))

/** Cluster failures with vectors from the `EmbeddingModel` in context (one `embedMany` over the distinct templates). */
export const clusterFailuresWith = Effect.fn("FailureClustering.clusterFailuresWith")(function*(
  input: FailureClusteringInput,
  options: FailureClusteringOptions = {}
): Effect.fn.Return<FailureClustering, ClusteringError | AiError.AiError, EmbeddingModel.EmbeddingModel> {
  const { kept, screen } = yield* Effect.fromResult(screenInput(input))
  if (kept === undefined) return noClusters(input, screen)
  return withScreen(input, screen)(yield* embedAndCluster(kept.input, kept.prepared, options))
})

const embedAndCluster = Effect.fnUntraced(function*(
  input: FailureClusteringInput,
  prepared: PreparedTexts,
  options: FailureClusteringOptions
): Effect.fn.Return<FailureClustering, ClusteringError | AiError.AiError, EmbeddingModel.EmbeddingModel> {
  const model = yield* EmbeddingModel.EmbeddingModel
  const response = yield* model.embedMany(prepared.patterns)
  const columns = response.embeddings[0]?.vector.length ?? 0
  const data = new Float64Array(prepared.patterns.length * columns)
  for (let row = 0; row < response.embeddings.length; row++) {
    const vector = response.embeddings[row].vector
    if (vector.length !== columns || columns === 0) {
      return yield* clusteringError(new RaggedDimensions({ row, expected: Math.max(columns, 1), actual: vector.length }))
    }
    data.set(vector, row * columns)
  }
  return yield* Effect.fromResult(clusterFailureVectors(input, prepared, { data, rows: prepared.patterns.length, columns }, options))
})

/** The first words of an explanation (up to 60 characters), as a last-resort label. */
const headOf = (explanation: string): string => {
  const clean = cleanExplanation(explanation)
  const head = clean.length <= 60 ? clean : `${clean.slice(0, 59).replace(/\s+\S*$/u, "")}…`
  return head === "" ? "failures with no shared words" : head
}

/** The sorted ids, each ended by a unit separator (U+001F), hashed. */
const hashIds = (ids: ReadonlyArray<string>): string => hashHex32([...ids].sort().map((id) => `${id}\u001f`).join(""))

const mean = (values: ReadonlyArray<number>): number => values.reduce((sum, value) => sum + value, 0) / values.length

/**
 * Each cluster's label and severities from what its members say: the clause most distinctive of the
 * cluster, starting from its most central explanation (ClusterLabel.ts); top terms only as a fallback.
 */
export const textClusterLabels = (texts: ReadonlyArray<string>, clustering: TextClustering): ReadonlyArray<ClusterLabel> => {
  const members = Array.from({ length: clustering.k }, () => [] as Array<number>)
  clustering.labels.forEach((cluster, i) => members[cluster].push(i))
  const central = members.map((rows, cluster) => {
    if (rows.length === 0) return 0
    const pattern = representativesOf(clustering, cluster, 1)[0]
    const row = rows.findIndex((i) => clustering.prepared.patternOf[i] === pattern)
    return row < 0 ? 0 : row
  })
  return clusterLabels(members.map((rows) => rows.map((i) => texts[i])), central, clustering.topTerms.map((terms) => terms.join(" ")))
}

const reportsOf = (input: FailureClusteringInput, clustering: TextClustering, representativeCount: number): Array<FailureCluster> => {
  const { failures } = input
  const members = Array.from({ length: clustering.k }, () => [] as Array<number>)
  clustering.labels.forEach((cluster, i) => members[cluster].push(i))
  const reports: Array<FailureCluster> = []
  const labels = textClusterLabels(failures.map((f) => f.explanation), clustering)
  for (let cluster = 0; cluster < clustering.k; cluster++) {
    const rows = members[cluster]
    if (rows.length === 0) continue
    const memberIds = rows.map((i) => failures[i].traceId)
    const scores = rows.map((i) => failures[i].rubricScore)
    const meanRubricScore = mean(scores)
    const topTerms = clustering.topTerms[cluster]
    const { severities } = labels[cluster]!
    // Never empty: the phrase, else the top terms, else the cleaned central explanation's head.
    const label = labels[cluster]!.label.trim() !== "" ? labels[cluster]!.label : headOf(failures[rows[0]!]!.explanation)
    const variants = clustering.variants
      .filter((variant) => variant.cluster === cluster)
      .map((variant): FailureVariant => ({
        pattern: variant.pattern,
        values: variant.values,
        memberIds: variant.members.map((i) => failures[i].traceId),
        meanRubricScore: mean(variant.members.map((i) => failures[i].rubricScore))
      }))
    const dimensionSums = new Map<string, { sum: number; count: number }>()
    for (const i of rows) {
      for (const [dimension, score] of Object.entries(failures[i].dimensionScores ?? {})) {
        const entry = dimensionSums.get(dimension) ?? { sum: 0, count: 0 }
        entry.sum += score
        entry.count++
        dimensionSums.set(dimension, entry)
      }
    }
    const dimensionMeans = Object.fromEntries(
      [...dimensionSums].sort(([a], [b]) => a.localeCompare(b)).map(([dimension, { count, sum }]) => [dimension, sum / count])
    )
    const noisy = rows.filter((i) => infrastructureNoise.test(failures[i].explanation)).length
    const concrete = topTerms.some((term) => !genericTerms.has(term))
    const [actionable, actionableReason] = rows.length < 2
      ? [false, "a single failure: not a pattern yet"] as const
      : !concrete
      ? [false, `label "${label}" has no concrete term`] as const
      : noisy * 2 >= rows.length
      ? [false, `${noisy} of ${rows.length} explanations blame infrastructure (rate limits, 5xx, connections)`] as const
      : [true, `${rows.length} failures share "${label}"; ${noisy} blame infrastructure`] as const
    reports.push({
      id: `fc-${hashIds(memberIds)}`,
      label,
      severities,
      severitySummary: severitySummary(severities),
      topTerms,
      memberIds,
      agents: [...new Set(rows.flatMap((i) => failures[i].agent === undefined ? [] : [failures[i].agent!]))].sort(),
      variants,
      frequencyPct: (100 * rows.length) / input.evaluatedCount,
      effectSize: 100 * (input.passingMeanScore - meanRubricScore),
      meanRubricScore,
      dimensionMeans,
      actionable,
      actionableReason,
      representativeExplanations: representativeExplanationsOf(clustering, cluster, rows, variants, representativeCount, failures)
    })
  }
  return reports.sort((a, b) => b.memberIds.length - a.memberIds.length || a.label.localeCompare(b.label) || a.id.localeCompare(b.id))
}

/** Representative patterns first; when the cluster has fewer patterns than wanted, other severity variants (largest first). */
const representativeExplanationsOf = (
  clustering: TextClustering,
  cluster: number,
  rows: ReadonlyArray<number>,
  variants: ReadonlyArray<FailureVariant>,
  count: number,
  failures: ReadonlyArray<RubricFailure>
): Array<{ readonly traceId: string; readonly explanation: string }> => {
  const picked = representativesOf(clustering, cluster, count).map((pattern) => rows.find((row) => clustering.prepared.patternOf[row] === pattern)!)
  const shown = new Set(picked.map((i) => failures[i].explanation))
  const byId = new Map(rows.map((i) => [failures[i].traceId, i]))
  const bySize = [...variants].sort((a, b) => b.memberIds.length - a.memberIds.length)
  for (const variant of bySize) {
    if (picked.length >= count) break
    const i = byId.get(variant.memberIds[0])!
    if (shown.has(failures[i].explanation)) continue
    shown.add(failures[i].explanation)
    picked.push(i)
  }
  return picked.map((i) => ({ traceId: failures[i].traceId, explanation: failures[i].explanation }))
}

/**
 * Representative patterns of a cluster: the one closest to the centroid, then by maximal
 * marginal relevance (0.7 × closeness to the centroid − 0.3 × closeness to those already chosen).
 */
const representativesOf = (clustering: TextClustering, cluster: number, count: number): Array<number> => {
  const { vectors, centroids, patternLabels } = clustering
  const d = vectors.columns
  const candidates: Array<number> = []
  for (let pattern = 0; pattern < vectors.rows; pattern++) if (patternLabels[pattern] === cluster) candidates.push(pattern)
  const toCentroid = new Map(candidates.map((p) => [p, Math.sqrt(squaredDistanceAt(vectors.data, p * d, centroids, cluster * d, d))]))
  const chosen: Array<number> = []
  while (chosen.length < count && chosen.length < candidates.length) {
    let best = -1
    let bestScore = -Infinity
    for (const pattern of candidates) {
      if (chosen.includes(pattern)) continue
      let nearestChosen = Infinity
      for (const other of chosen) nearestChosen = Math.min(nearestChosen, Math.sqrt(squaredDistanceAt(vectors.data, pattern * d, vectors.data, other * d, d)))
      const score = chosen.length === 0 ? -toCentroid.get(pattern)! : -0.7 * toCentroid.get(pattern)! + 0.3 * nearestChosen
      if (score > bestScore) {
        bestScore = score
        best = pattern
      }
    }
    chosen.push(best)
  }
  return chosen
}
