/**
 * Reading the JSON input file and writing the JSON output (to a file or stdout) for every
 * `spectral` command. Commands own their schemas; this module owns only the file edges.
 */
import { Console, Effect, FileSystem, Option, Predicate, Result, Schema, SchemaIssue } from "effect"

export class CliInputError extends Schema.TaggedError<CliInputError>()("CliInputError", {
  file: Schema.String,
  message: Schema.String
}) {}

/** Read a file and parse it as JSON; a missing file or bad JSON is a CliInputError naming the file. */
export const readJsonFile = Effect.fn("CliIo.readJsonFile")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(
    Effect.mapError((error) => new CliInputError({ file, message: `cannot read: ${error.message}` }))
  )
  return yield* Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) => new CliInputError({ file, message: `not valid JSON: ${String(error)}` })
  })
})

/** Write a value as JSON to `output` when given, otherwise to stdout. */
export const writeJsonOutput = Effect.fn("CliIo.writeJsonOutput")(function*(
  output: Option.Option<string>,
  value: unknown
) {
  const text = JSON.stringify(value, null, 2) + "\n"
  if (Option.isSome(output)) {
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(output.value, text)
  } else {
    yield* Console.log(text.trimEnd())
  }
})

const formatIssue = SchemaIssue.makeFormatterDefault()

/** The id a raw case names, or its position when it names none. */
export const caseIdOf = (raw: unknown, index: number): string =>
  Predicate.isObject(raw) && "id" in raw && typeof raw.id === "string" ? raw.id : `#${index}`

/**
 * Decode a file's `{"cases":[…]}` and run every case; a case that does not decode gets
 * `{"id","error"}` naming the problem, and the other cases still run.
 */
export const runCases = <C, O, E, R>(
  caseSchema: Schema.Decoder<C>,
  run: (decoded: C) => Effect.Effect<O, E, R>
) =>
  Effect.fnUntraced(function*(file: unknown) {
    const { cases } = yield* Schema.decodeUnknownEffect(Schema.Struct({ cases: Schema.Array(Schema.Unknown) }))(file)
    const results: Array<O | { readonly id: string; readonly error: string }> = []
    for (const [index, raw] of cases.entries()) {
      const decoded = Schema.decodeUnknownResult(caseSchema)(raw)
      if (Result.isFailure(decoded)) {
        results.push({ id: caseIdOf(raw, index), error: `invalid case: ${formatIssue(decoded.failure.issue)}` })
        continue
      }
      results.push(yield* run(decoded.success))
    }
    return { results }
  })
