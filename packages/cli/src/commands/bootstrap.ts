/**
 * `spectral bootstrap --input FILE [--output FILE]`: a bootstrap confidence interval for each
 * case of a JSON file (statistic, samples, level, method, resamples, seed), so anyone can check
 * the engine's numbers on their own data. An invalid case gets `{"id","error"}` naming the
 * problem; the other cases still run.
 */
import { Clock, Effect, Result, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { bootstrapCIEffect, BootstrapMethod, BootstrapStatistic } from "@spectral/engine/stats"
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


const toNumbers = (values: ReadonlyArray<number | "NaN" | "Infinity" | "-Infinity">): Array<number> =>
  values.map((value) =>
    typeof value === "number" ? value : value === "NaN" ? NaN : value === "Infinity" ? Infinity : -Infinity
  )

/** Run one decoded case; an invalid one becomes `{id, error}`. */
const runCase = Effect.fnUntraced(function*(input: BootstrapCase) {
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
export const runBootstrapFile = runCases(BootstrapCase, runCase)

export const bootstrap = Command.make(
  "bootstrap",
  {
    input: Flag.String("input").pipe(
      Flag.withDescription(
        "JSON file: {\"cases\":[{\"id\",\"statistic\",\"x\",\"y\"?,\"weights\"?,\"groups\"?,\"paired\"?,\"level\",\"method\",\"resamples\",\"seed\"}]}"
      )
    ),
    output: Flag.String("output").pipe(Flag.withDescription("Write the results here instead of stdout"), Flag.optional)
  },
  Effect.fn("bootstrap")(function*({ input, output }) {
    const file = yield* readJsonFile(input)
    const results = yield* runBootstrapFile(file)
    yield* writeJsonOutput(output, results)
  })
).pipe(
  Command.withDescription(
    "Bootstrap confidence intervals (percentile, basic, BCa) for means, weighted means, paired/independent differences and ratios of means"
  ),
  Command.withExamples([
    { command: "spectral bootstrap --input cases.json --output results.json", description: "Interval for every case in a file" }
  ])
)
