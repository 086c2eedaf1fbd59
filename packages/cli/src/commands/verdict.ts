/**
 * `spectral verdict --input FILE [--output FILE]`: the engine's verdict (every built-in gate and
 * the fold) on two runs that a scan did not necessarily make, so a team can gate its own CI on it.
 * FILE is `{"cases":[{"id","framework"?,"stimuli":[{"id","holdout"?,"weight"?,"group"?,
 * "baseline":{"score",…},"candidate":{"score",…}}]}]}`; the output is
 * `{"results":[{"id","verdict","checksPassed","checksTotal","delta","gates":[{"gate","status","reason"}]}]}`.
 * An invalid case (a threshold outside its domain, an unknown framework key) gives `{"id","error"}`. With a single case the exit code is 0 for go, 1 for
 * no_go, 3 for caution (2 when the case is invalid). The rules live in the engine.
 */
import { Effect, Runtime, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { builtinGates, verdictExitCode, verdictFile } from "@spectral/engine"
import { readJsonFile, writeJsonOutput } from "../CliIo.ts"

const VerdictFileShape = Schema.Struct({ cases: Schema.Array(Schema.Unknown) })

/** A single case that is not a go: the process exits with its code (the result is already written). */
export class VerdictNotGo extends Schema.TaggedError<VerdictNotGo>()("VerdictNotGo", {
  id: Schema.String,
  code: Schema.Number
}) {
  override readonly [Runtime.errorExitCode]: number = this.code
  override readonly [Runtime.errorReported] = false
}

export const runVerdictFile = Effect.fn("verdict.runVerdictFile")(function*(file: unknown) {
  const { cases } = yield* Schema.decodeUnknownEffect(VerdictFileShape)(file)
  return { results: verdictFile(cases, builtinGates) }
})

export const verdict = Command.make(
  "verdict",
  {
    input: Flag.String("input").pipe(
      Flag.withDescription("JSON file {\"cases\":[{\"id\",\"framework\"?:{\"alpha\",\"minDelta\",…},\"stimuli\":[{\"id\",\"holdout\"?,\"weight\"?,\"group\"?,\"baseline\":{\"score\",…},\"candidate\":{\"score\",…}}]}]}")
    ),
    output: Flag.String("output").pipe(Flag.withDescription("Write the results here instead of stdout"), Flag.optional)
  },
  Effect.fn("verdict")(function*({ input, output }) {
    const file = yield* readJsonFile(input)
    const result = yield* runVerdictFile(file)
    yield* writeJsonOutput(output, result)
    const only = result.results.length === 1 ? result.results[0]! : undefined
    if (only !== undefined && verdictExitCode(only) !== 0) {
      return yield* new VerdictNotGo({ id: only.id, code: verdictExitCode(only) })
    }
  })
).pipe(
  Command.withDescription("Verdict (go / caution / no_go) with every gate's check on a baseline and a candidate run; exit 0 go, 1 no_go, 3 caution for a single case"),
  Command.withExamples([
    { command: "spectral verdict --input runs.json", description: "Gate a CI job on the candidate's runs against the baseline's" }
  ])
)
