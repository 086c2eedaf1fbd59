/**
 * Reading the JSON input file and writing the JSON output (to a file or stdout) for every
 * `spectral` command, and the one case runner of the commands that read `{"cases":[…]}`.
 * Input is read with a size cap (`--max-input-bytes`, `SPECTRAL_MAX_INPUT_BYTES`, default 64 MiB),
 * so an endless input (`/dev/zero`) fails fast. Commands own their schemas; this module owns only
 * the file edges. How a failure is printed is `CliFailure`'s.
 */
import { Config, Console, Effect, FileSystem, Option, PlatformError, Predicate, Result, Schema, SchemaIssue, Stream } from "effect"
import { Flag, GlobalFlag } from "effect/cli"

/** A problem with what the user gave the command (a file, a flag): exit code 2. `file` names the file or flag. */
export class CliInputError extends Schema.TaggedError<CliInputError>()("CliInputError", {
  file: Schema.String,
  message: Schema.String
}) {}

const MIB = 1024 * 1024

/** The default cap on an input file: 64 MiB. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * MIB

/** `--max-input-bytes N` (any command; also `SPECTRAL_MAX_INPUT_BYTES`): the largest input file read. */
export const MaxInputBytes = GlobalFlag.Setting("max-input-bytes")({
  flag: Flag.Int("max-input-bytes").pipe(
    Flag.withDescription(`Largest input file read, in bytes (default ${DEFAULT_MAX_INPUT_BYTES}, 64 MiB; env SPECTRAL_MAX_INPUT_BYTES)`),
    Flag.withFallbackConfig(Config.Int("SPECTRAL_MAX_INPUT_BYTES")),
    Flag.withDefault(DEFAULT_MAX_INPUT_BYTES),
    Flag.filter((bytes) => bytes >= 1, (bytes) => `--max-input-bytes is ${bytes}: it must be a positive number of bytes`)
  )
})

const bytesLabel = (bytes: number) => (bytes % MIB === 0 ? `${bytes} bytes (${bytes / MIB} MiB)` : `${bytes} bytes`)

const platformProblem = (error: PlatformError.PlatformError): string => {
  const reason = error.reason
  if (reason._tag === "NotFound") return "no such file"
  if (reason._tag === "PermissionDenied") return "permission denied"
  const cause = reason.cause instanceof Error ? reason.cause.message : undefined
  return reason.description ?? cause ?? reason._tag
}

const tooLarge = (file: string, limit: number, size?: number) =>
  new CliInputError({
    file,
    message: `${size === undefined ? "is larger" : `is ${size} bytes, more`} than the input limit of ${bytesLabel(limit)}; raise it with --max-input-bytes or SPECTRAL_MAX_INPUT_BYTES`
  })

/**
 * Read a file (at most the `--max-input-bytes` cap) and parse it as JSON. A missing, unreadable,
 * oversized, endless, empty or non-JSON file is a CliInputError naming the file and the problem.
 */
export const readJsonFile = Effect.fn("CliIo.readJsonFile")(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const limit = Option.getOrElse(yield* Effect.serviceOption(MaxInputBytes), () => DEFAULT_MAX_INPUT_BYTES)
  const cannotRead = (error: PlatformError.PlatformError) => new CliInputError({ file, message: `cannot read: ${platformProblem(error)}` })
  const info = yield* fs.stat(file).pipe(Effect.mapError(cannotRead))
  if (info.type === "Directory") return yield* new CliInputError({ file, message: "is a directory, not a JSON file" })
  if (info.type === "FIFO" || info.type === "Socket") {
    return yield* new CliInputError({ file, message: "is a pipe or a socket: write the input to a file and pass that" })
  }
  if (info.type === "File" && Number(info.size) > limit) return yield* tooLarge(file, limit, Number(info.size))
  // Not every input has a size (a pipe, /dev/zero): read one byte past the cap to know it is over.
  const chunks = yield* fs.stream(file, { bytesToRead: limit + 1 }).pipe(Stream.runCollect, Effect.mapError(cannotRead))
  const length = chunks.reduce((total, chunk) => total + chunk.length, 0)
  if (length > limit) return yield* tooLarge(file, limit)
  const bytes = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  const text = yield* Effect.try({
    try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    catch: () => new CliInputError({ file, message: "is not UTF-8 text (expected JSON)" })
  })
  if (text.trim() === "") return yield* new CliInputError({ file, message: "is empty (expected JSON)" })
  return yield* Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (error) => new CliInputError({ file, message: `is not valid JSON: ${error instanceof Error ? error.message : String(error)}` })
  })
})

/** Write a value as JSON to `output` when given, otherwise to stdout. */
export const writeJsonOutput = Effect.fn("CliIo.writeJsonOutput")(function*(
  output: Option.Option<string>,
  value: unknown
) {
  yield* writeTextOutput(output, JSON.stringify(value, null, 2) + "\n")
})

/** Write text to `output` when given (a failure names that file), otherwise to stdout. */
export const writeTextOutput = Effect.fn("CliIo.writeTextOutput")(function*(output: Option.Option<string>, text: string) {
  if (Option.isNone(output)) return yield* Console.log(text.trimEnd())
  const fs = yield* FileSystem.FileSystem
  yield* fs.writeFileString(output.value, text).pipe(
    Effect.mapError((error) => new CliInputError({ file: output.value, message: `cannot write: ${platformProblem(error)}` }))
  )
})

const formatIssue = SchemaIssue.makeFormatterDefault()

/** A schema issue on one line (`Missing key at ["facts"]`). */
export const issueLine = (issue: SchemaIssue.Issue): string => formatIssue(issue).replace(/\s*\n\s*/g, " ")

/** The id a raw case names, or its position when it names none. */
export const caseIdOf = (raw: unknown, index: number): string =>
  Predicate.isObject(raw) && "id" in raw && typeof raw.id === "string" ? raw.id : `#${index}`

const CasesFile = Schema.Struct({ cases: Schema.Array(Schema.Unknown) })

/**
 * Decode a file's `{"cases":[…]}` (a file of another shape is a CliInputError naming `source`) and
 * run every case; a case that does not decode gets `{"id","error"}` naming the problem (`id` is
 * `#index` when the case names none), and the other cases still run.
 */
export const runCases = <C, O, E, R>(
  caseSchema: Schema.Decoder<C>,
  run: (decoded: C) => Effect.Effect<O, E, R>
) =>
  Effect.fnUntraced(function*(document: unknown, source: string = "the input") {
    const file = Schema.decodeUnknownResult(CasesFile)(document)
    if (Result.isFailure(file)) {
      return yield* new CliInputError({ file: source, message: `expected {"cases":[…]}: ${issueLine(file.failure.issue)}` })
    }
    const results: Array<O | { readonly id: string; readonly error: string }> = []
    for (const [index, raw] of file.success.cases.entries()) {
      const decoded = Schema.decodeUnknownResult(caseSchema)(raw)
      if (Result.isFailure(decoded)) {
        results.push({ id: caseIdOf(raw, index), error: `invalid case: ${issueLine(decoded.failure.issue)}` })
        continue
      }
      results.push(yield* run(decoded.success))
    }
    return { results }
  })
