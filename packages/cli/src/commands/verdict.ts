/**
 * `spectral verdict --input FILE [--output FILE] [--plugin MODULE …]`: the engine's verdict (every
 * built-in gate, the gates of the given plugins, and the fold) on two runs that a scan did not
 * necessarily make, so a team can gate its own CI on it.
 * FILE is `{"cases":[{"id","framework"?,"stimuli":[{"id","holdout"?,"weight"?,"group"?,
 * "baseline":{"score",…},"candidate":{"score",…}}]}]}`; the output is
 * `{"results":[{"id","verdict","checksPassed","checksTotal","delta","gates":[{"gate","status","reason"}]}]}`.
 * An invalid case (a threshold outside its domain, an unknown framework key) gives `{"id","error"}`.
 * The exit code is the worst case's: 1 when any case is no_go, else 2 when any is invalid, else 3
 * when any is caution, else 0; stderr names the case that decided it. The rules live in the engine.
 */
import { Console, Effect, Result, Runtime, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { builtinGates, fileDecision, type Gate, namespaced, verdictFile } from "@spectral/engine"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, issueLine, readJsonFile, writeJsonOutput } from "../CliIo.ts"
import { loadPlugin } from "../PluginModules.ts"

const VerdictFileShape = Schema.Struct({ cases: Schema.Array(Schema.Unknown) })

/** The file's verdict is not go: the process exits with its code (the results are already written). */
export class VerdictNotGo extends Schema.TaggedError<VerdictNotGo>()("VerdictNotGo", {
  id: Schema.String,
  code: Schema.Number
}) {
  override readonly [Runtime.errorExitCode]: number = this.code
  override readonly [Runtime.errorReported] = false
}

/**
 * The gates of a plugin module (`PluginModules.loadPlugin`: its default or `plugin` export, a
 * `PluginDefinition`). Gate names are namespaced `<plugin>/<gate>`.
 */
export const loadPluginGates = Effect.fn("verdict.loadPluginGates")(function*(module: string) {
  const { definition } = yield* loadPlugin(module)
  return (definition.gates ?? []).map((g): Gate => ({ ...g, name: namespaced(definition.name, g.name) }))
})

export const runVerdictFile = Effect.fn("verdict.runVerdictFile")(function*(
  file: unknown,
  extraGates: ReadonlyArray<Gate> = [],
  source: string = "the input"
) {
  const decoded = Schema.decodeUnknownResult(VerdictFileShape)(file)
  if (Result.isFailure(decoded)) {
    return yield* new CliInputError({ file: source, message: `expected {"cases":[…]}: ${issueLine(decoded.failure.issue)}` })
  }
  return { results: verdictFile(decoded.success.cases, [...builtinGates, ...extraGates]) }
})

export const verdict = Command.make(
  "verdict",
  {
    input: Flag.String("input").pipe(
      Flag.withDescription("JSON file {\"cases\":[{\"id\",\"framework\"?:{\"alpha\",\"minDelta\",…},\"stimuli\":[{\"id\",\"holdout\"?,\"weight\"?,\"group\"?,\"baseline\":{\"score\",…},\"candidate\":{\"score\",…}}]}]}")
    ),
    output: Flag.String("output").pipe(Flag.withDescription("Write the results here instead of stdout"), Flag.optional),
    plugin: Flag.String("plugin").pipe(
      Flag.withDescription("A module whose default (or `plugin`) export is a plugin definition { name, gates }; its gates join the built-in ones (repeatable)"),
      Flag.atLeast(0)
    )
  },
  Effect.fn("verdict")(function*({ input, output, plugin }) {
    const file = yield* readJsonFile(input)
    const extra = (yield* Effect.forEach(plugin, loadPluginGates)).flat()
    const result = yield* runVerdictFile(file, extra, input)
    yield* writeJsonOutput(output, result)
    const decision = fileDecision(result.results)
    if (decision.code !== 0) {
      yield* Console.error(`spectral verdict: exit ${decision.code}: ${decision.summary}`)
      return yield* new VerdictNotGo({ id: decision.decidedBy ?? "", code: decision.code })
    }
  }, reportFailures)
).pipe(
  Command.withDescription("Verdict (go / caution / no_go) with every gate's check on a baseline and a candidate run; exits with the worst case: 0 go, 1 no_go, 2 invalid, 3 caution"),
  Command.withExamples([
    { command: "spectral verdict --input runs.json", description: "Gate a CI job on the candidate's runs against the baseline's" },
    { command: "spectral verdict --input runs.json --plugin ./gates/latency-budget.js", description: "Add a team's own gates" }
  ])
)
