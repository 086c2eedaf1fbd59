/**
 * `spectral bootstrap --input FILE [--output FILE] [--allow-large]`: a bootstrap confidence
 * interval for each case of a JSON file (statistic, samples, level, method, resamples, seed), so
 * anyone can check the engine's numbers on their own data. An invalid case gets `{"id","error"}`
 * naming the problem; the other cases still run. A case above the documented cost (n × resamples
 * over `MAX_BOOTSTRAP_DRAWS`, or more than `MAX_BOOTSTRAP_WORKERS` workers) is refused the same
 * way unless `--allow-large`.
 */
import { Clock, Effect, Result, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { bootstrapCIEffect, BootstrapMethod, BootstrapStatistic } from "@spectral/engine/stats"
import { reportFailures } from "../CliFailure.ts"
import { readJsonFile, runCases, writeJsonOutput } from "../CliIo.ts"

/** A JSON number, or "NaN" / "Infinity" / "-Infinity" as some tools write them (rejected by the engine, by position). */
const Value = Schema.Union([Schema.Number, Schema.Literals(["NaN", "Infinity", "-Infinity"])])

export const BootstrapCase = Schema.Struct({
  id: Schema.String,
  statistic: BootstrapStatistic,
  x: Schema.Array(Value),
  y: Schema.optionalKey(Schema.Array(Value)),
  weights: Schema.optionalKey(Schema.Array(Value)),
  groups: Schema.optionalKey(Schema.Array(Schema.Union([Schema.String, Schema.Number]))),
  paired: Schema.optionalKey(Schema.Boolean),
  level: Schema.optionalKey(Schema.Number),
  method: Schema.optionalKey(BootstrapMethod),
  resamples: Schema.optionalKey(Schema.Number),
  seed: Schema.optionalKey(Schema.Number),
  workers: Schema.optionalKey(Schema.Union([Schema.Number, Schema.Literal("auto")]))
})
export type BootstrapCase = typeof BootstrapCase.Type


export interface BootstrapCaseResult {
  readonly id: string
  readonly estimate: number
  readonly low: number
  readonly high: number
  readonly method: BootstrapMethod
  readonly resamples: number
  readonly degenerate: boolean
  readonly ms: number
  readonly statistic: BootstrapStatistic
  readonly level: number
  readonly standardError: number
  readonly reason?: string
}

export type BootstrapCaseOutcome = BootstrapCaseResult | { readonly id: string; readonly error: string }

/** Row draws per case (n × resamples, n = the values of x and y) refused without `--allow-large` (about 3 s on one core). */
export const MAX_BOOTSTRAP_DRAWS = 1_000_000_000
/** Worker threads a case may ask for without `--allow-large` (`"auto"`, the default, uses the machine's cores). */
export const MAX_BOOTSTRAP_WORKERS = 16
/** Resamples when a case gives none (the engine's default). */
const DEFAULT_RESAMPLES = 9999

export interface BootstrapFileOptions {
  /** Run cases above `MAX_BOOTSTRAP_DRAWS` / `MAX_BOOTSTRAP_WORKERS`. */
  readonly allowLarge?: boolean | undefined
  /** The file the document came from, named when it is not `{"cases":[…]}`. */
  readonly source?: string | undefined
}

/** Why a case is refused without `--allow-large`, or null when it is within the limits. */
export const costRefusal = (input: BootstrapCase): string | null => {
  const n = input.x.length + (input.y?.length ?? 0)
  const resamples = input.resamples ?? DEFAULT_RESAMPLES
  const draws = n * resamples
  if (draws > MAX_BOOTSTRAP_DRAWS) {
    return `TooLarge: n × resamples = ${n} × ${resamples} = ${draws} row draws, above the limit of ${MAX_BOOTSTRAP_DRAWS}; pass --allow-large to run it`
  }
  if (typeof input.workers === "number" && input.workers > MAX_BOOTSTRAP_WORKERS) {
    return `TooManyWorkers: workers is ${input.workers}, above the limit of ${MAX_BOOTSTRAP_WORKERS}; pass --allow-large to run it`
  }
  return null
}


const toNumbers = (values: ReadonlyArray<number | "NaN" | "Infinity" | "-Infinity">): Array<number> =>
  values.map((value) =>
    typeof value === "number" ? value : value === "NaN" ? NaN : value === "Infinity" ? Infinity : -Infinity
  )

/** Run one decoded case; an invalid one (or one above the cost limits without `allowLarge`) becomes `{id, error}`. */
const runCase = Effect.fnUntraced(function*(input: BootstrapCase, allowLarge: boolean) {
  const refusal = allowLarge ? null : costRefusal(input)
  if (refusal !== null) return { id: input.id, error: refusal } satisfies BootstrapCaseOutcome
  const started = yield* Clock.currentTimeNanos
  const outcome = yield* bootstrapCIEffect({
    statistic: input.statistic,
    x: toNumbers(input.x),
    y: input.y === undefined ? undefined : toNumbers(input.y),
    weights: input.weights === undefined ? undefined : toNumbers(input.weights),
    groups: input.groups,
    paired: input.paired,
    level: input.level,
    method: input.method,
    resamples: input.resamples,
    seed: input.seed,
    workers: input.workers
  }).pipe(Effect.result)
  const finished = yield* Clock.currentTimeNanos
  if (Result.isFailure(outcome)) {
    return { id: input.id, error: `${outcome.failure.reason}: ${outcome.failure.message}` } satisfies BootstrapCaseOutcome
  }
  const result = outcome.success
  return {
    id: input.id,
    estimate: result.estimate,
    low: result.low,
    high: result.high,
    method: result.method,
    resamples: result.resamples,
    degenerate: result.degenerate,
    ms: Number(finished - started) / 1e6,
    statistic: result.statistic,
    level: result.level,
    standardError: result.standardError,
    ...(result.reason === undefined ? {} : { reason: result.reason })
  } satisfies BootstrapCaseOutcome
})

/** Decode and run every case of a parsed input file; a case that does not decode is reported, not fatal. */
export const runBootstrapFile = (document: unknown, options: BootstrapFileOptions = {}) =>
  runCases(BootstrapCase, (input: BootstrapCase) => runCase(input, options.allowLarge === true))(document, options.source)

export const bootstrap = Command.make(
  "bootstrap",
  {
    input: Flag.String("input").pipe(
      Flag.withDescription(
        "JSON file: {\"cases\":[{\"id\",\"statistic\",\"x\",\"y\"?,\"weights\"?,\"groups\"?,\"paired\"?,\"level\",\"method\",\"resamples\",\"seed\"}]}"
      )
    ),
    output: Flag.String("output").pipe(Flag.withDescription("Write the results here instead of stdout"), Flag.optional),
    allowLarge: Flag.Boolean("allow-large").pipe(
      Flag.withDescription(`Run cases above the cost limits (n × resamples > ${MAX_BOOTSTRAP_DRAWS}, workers > ${MAX_BOOTSTRAP_WORKERS})`),
      Flag.withDefault(false)
    )
  },
  Effect.fn("bootstrap")(function*({ input, output, allowLarge }) {
    const file = yield* readJsonFile(input)
    const results = yield* runBootstrapFile(file, { allowLarge, source: input })
    yield* writeJsonOutput(output, results)
  }, reportFailures)
).pipe(
  Command.withDescription(
    "Bootstrap confidence intervals (percentile, basic, BCa) for means, weighted means, paired/independent differences and ratios of means"
  ),
  Command.withExamples([
    { command: "spectral bootstrap --input cases.json --output results.json", description: "Interval for every case in a file" }
  ])
)
