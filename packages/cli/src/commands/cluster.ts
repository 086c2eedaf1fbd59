/**
 * `spectral cluster --input FILE [--output FILE]`: k-means (fixed k or "auto") on each case's
 * points, or failure-style text clustering with severity variants on its texts. An invalid
 * case gets `{"id","error"}` naming the problem; the other cases still run. Texts are screened
 * first (`screenExplanation`): empty, whitespace-only and content-free ones are `skipped` with
 * their reason (label -1), long or ill-formed ones are clustered cleaned and listed as `adjusted`.
 */
import { Clock, Effect, Result, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import {
  clusterMatrix,
  clusterTexts,
  fromRows,
  type ScreenedExplanation,
  screenExplanation,
  severitySummary,
  type SkipReason,
  textClusterLabels
} from "@spectral/engine/clustering"
import { reportFailures } from "../CliFailure.ts"
import { readJsonFile, runCases, writeJsonOutput } from "../CliIo.ts"

/** A coordinate: a JSON number, or "NaN" / "Infinity" / "-Infinity" as some tools write them (rejected by the engine, by position). */
const Coordinate = Schema.Union([Schema.Number, Schema.Literals(["NaN", "Infinity", "-Infinity"])])

export const ClusterCase = Schema.Struct({
  id: Schema.String,
  points: Schema.optionalKey(Schema.Array(Schema.Array(Coordinate))),
  texts: Schema.optionalKey(Schema.Array(Schema.String)),
  k: Schema.Union([Schema.Number, Schema.Literal("auto")]),
  seed: Schema.optionalKey(Schema.Finite),
  restarts: Schema.optionalKey(Schema.Int),
  kMin: Schema.optionalKey(Schema.Int),
  kMax: Schema.optionalKey(Schema.Int)
})
export type ClusterCase = typeof ClusterCase.Type


export interface ClusterCaseResult {
  readonly id: string
  readonly k: number
  readonly labels: ReadonlyArray<number>
  readonly inertia: number
  readonly ms: number
  readonly variants: ReadonlyArray<{
    readonly cluster: number
    readonly pattern: string
    readonly values: ReadonlyArray<string>
    readonly members: ReadonlyArray<number>
  }>
  /** Texts only: each cluster's label, a phrase from its members' own words (indexed by cluster). */
  readonly clusterLabels?: ReadonlyArray<string>
  /** Texts only: the label's varying quantity per value ("15s ×2, 30s ×1"), "" when none. */
  readonly severities?: ReadonlyArray<string>
  /** Texts only: each cluster's top terms (what the label falls back to). */
  readonly topTerms?: ReadonlyArray<string>
  /** Texts only: the texts left out, with why (their label is -1): empty, whitespace only, no content. */
  readonly skipped?: ReadonlyArray<{ readonly index: number; readonly reason: SkipReason; readonly detail: string }>
  /** Texts only: the texts clustered after cleaning (truncated, ill-formed or control characters), with what was done. */
  readonly adjusted?: ReadonlyArray<{ readonly index: number; readonly adjustments: ReadonlyArray<string>; readonly originalChars: number; readonly keptChars: number }>
}

export type ClusterCaseOutcome = ClusterCaseResult | { readonly id: string; readonly error: string }


const toNumber = (value: number | "NaN" | "Infinity" | "-Infinity"): number =>
  typeof value === "number" ? value : value === "NaN" ? NaN : value === "Infinity" ? Infinity : -Infinity

/** Run one decoded case (pure apart from timing). */
const runCase = Effect.fnUntraced(function*(input: ClusterCase) {
  const options = {
    k: input.k,
    ...(input.seed === undefined ? {} : { seed: input.seed }),
    ...(input.restarts === undefined ? {} : { restarts: input.restarts }),
    ...(input.kMin === undefined ? {} : { kMin: input.kMin }),
    ...(input.kMax === undefined ? {} : { kMax: input.kMax })
  }
  const started = yield* Clock.currentTimeNanos
  if ((input.points === undefined) === (input.texts === undefined)) {
    return { id: input.id, error: "a case needs exactly one of points or texts" }
  }
  let outcome: ClusterCaseOutcome
  if (input.points !== undefined) {
    const points = input.points.map((row) => row.map(toNumber))
    const result = Result.flatMap(fromRows(points), (matrix) => clusterMatrix(matrix, options))
    if (Result.isFailure(result)) return { id: input.id, error: result.failure.message }
    outcome = { id: input.id, k: result.success.k, labels: Array.from(result.success.labels), inertia: result.success.inertia, ms: 0, variants: [] }
  } else {
    // Every text gets a typed outcome: skipped with its reason, or clustered (cleaned where it had to be).
    const screened = input.texts!.map(screenExplanation)
    const keptAt = screened.flatMap((s, index) => (s._tag === "Kept" ? [index] : []))
    const kept = keptAt.map((index) => (screened[index] as Extract<ScreenedExplanation, { _tag: "Kept" }>).text)
    const skipped = screened.flatMap((s, index) => (s._tag === "Skipped" ? [{ index, reason: s.reason, detail: s.detail }] : []))
    const adjusted = screened.flatMap((s, index) =>
      s._tag === "Kept" && s.adjustments.length > 0 ? [{ index, adjustments: s.adjustments, originalChars: s.originalChars, keptChars: s.keptChars }] : [])
    const screen = { skipped, adjusted }
    if (kept.length === 0) {
      outcome = { id: input.id, k: 0, labels: input.texts!.map(() => -1), inertia: 0, ms: 0, variants: [], clusterLabels: [], severities: [], topTerms: [], ...screen }
    } else {
      const result = clusterTexts(kept, options)
      if (Result.isFailure(result)) return { id: input.id, error: result.failure.message }
      const clustering = result.success
      const labels = input.texts!.map(() => -1)
      keptAt.forEach((index, position) => void (labels[index] = clustering.labels[position]!))
      const named = textClusterLabels(kept, clustering)
      outcome = {
        id: input.id,
        k: clustering.k,
        labels,
        inertia: clustering.inertia,
        ms: 0,
        variants: clustering.variants.map((v) => ({ ...v, members: v.members.map((m) => keptAt[m]!) })),
        clusterLabels: named.map((l) => l.label),
        severities: named.map((l) => severitySummary(l.severities)),
        topTerms: clustering.topTerms.map((terms) => terms.join(" ")),
        ...screen
      }
    }
  }
  const finished = yield* Clock.currentTimeNanos
  return { ...outcome, ms: Number(finished - started) / 1e6 }
})

/** Decode and run every case of a parsed input file; a case that does not decode is reported, not fatal. */
export const runClusterFile = (document: unknown, source?: string) => runCases(ClusterCase, runCase)(document, source)

export const cluster = Command.make(
  "cluster",
  {
    input: Flag.String("input").pipe(Flag.withDescription("JSON file: {\"cases\":[{\"id\",\"points\"|\"texts\",\"k\":number|\"auto\",\"seed\"}]}")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the results here instead of stdout"), Flag.optional)
  },
  Effect.fn("cluster")(function*({ input, output }) {
    const file = yield* readJsonFile(input)
    const results = yield* runClusterFile(file, input)
    yield* writeJsonOutput(output, results)
  }, reportFailures)
).pipe(
  Command.withDescription("k-means (fixed k or auto) on points, or root-cause clustering with severity variants on texts"),
  Command.withExamples([{ command: "spectral cluster --input cases.json --output results.json", description: "Cluster every case in a file" }])
)
