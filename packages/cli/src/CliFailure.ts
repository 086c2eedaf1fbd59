/**
 * How every `spectral` command fails. A failure prints exactly one line `{"error":"…"}` on stdout
 * (where the JSON result would have been) and never a stack trace; `--verbose` adds the full cause
 * on stderr. Exit code 2 for bad input (a `CliInputError`: a file or flag the user gave; an invalid
 * invocation; a bad configuration value), 1 for anything else (an internal error). A command's own
 * outcome codes (`spectral verdict`'s `VerdictNotGo`, which reports itself) pass through unchanged.
 * Commands attach `reportFailures` to their handler; `bin.ts` applies `reportUnhandled` to the run.
 */
import { Cause, Console, Effect, Option, Predicate, Runtime, Schema } from "effect"
import { CliError, CliOutput, Flag, GlobalFlag } from "effect/cli"
import { fileURLToPath } from "node:url"
import { CliInputError } from "./CliIo.ts"

/** `--verbose` (any command): on failure, also print the full cause with its stack trace on stderr. */
export const Verbose = GlobalFlag.Setting("verbose")({
  flag: Flag.Boolean("verbose").pipe(
    Flag.withDescription("On failure, also print the full cause (with its stack trace) on stderr"),
    Flag.withDefault(false)
  )
})

/** A failure already printed as `{"error"}`: the process exits with `code`. */
export class CliFailed extends Schema.TaggedError<CliFailed>()("CliFailed", {
  code: Schema.Number,
  message: Schema.String
}) {
  override readonly [Runtime.errorExitCode]: number = this.code
  override readonly [Runtime.errorReported] = false
}

/** Exit code of a failure caused by what the user gave the command. */
export const EXIT_BAD_INPUT = 2
/** Exit code of any other failure. */
export const EXIT_INTERNAL = 1

// The folder holding our packages' sources (or the installed packages): never named in a message.
const sourceRoot = fileURLToPath(new URL("../../../", import.meta.url))
const sourceRootUrl = new URL("../../../", import.meta.url).href

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim()
const withoutSourcePaths = (text: string) => text.split(sourceRootUrl).join("").split(sourceRoot).join("")

const messageOf = (u: unknown): string =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" && u.message !== "" ? u.message : String(u)

const tagOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" ? u._tag : undefined

/** A failure the command already reported (its code is the exit code): left as it is. */
const isReported = (u: unknown): boolean => Predicate.hasProperty(u, Runtime.errorReported) && u[Runtime.errorReported] === false

/** The exit code and the one-line message of a failed run. */
export const describeFailure = (cause: Cause.Cause<unknown>): { readonly code: number; readonly message: string } => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const error = failure.error
    if (error instanceof CliInputError) return { code: EXIT_BAD_INPUT, message: oneLine(`${error.file}: ${error.message}`) }
    if (CliError.isCliError(error)) {
      const errors = error._tag === "ShowHelp" ? error.errors : [error]
      const command = error._tag === "ShowHelp" ? error.commandPath.join(" ") : "spectral"
      return { code: EXIT_BAD_INPUT, message: oneLine(`${errors.map(messageOf).join("; ")} (see ${command} --help)`) }
    }
    const tag = tagOf(error)
    if (tag === "SecretError" && Predicate.hasProperty(error, "reason") && error.reason !== "Storage") {
      return { code: EXIT_BAD_INPUT, message: oneLine(messageOf(error)) }
    }
    if (tag === "ConfigError") return { code: EXIT_BAD_INPUT, message: oneLine(`configuration: ${messageOf(error)}`) }
    if (tag === "UnknownContentClass" || tag === "MalformedContentClassSetting") return { code: EXIT_BAD_INPUT, message: oneLine(`configuration: ${messageOf(error)}`) }
    const message = withoutSourcePaths(oneLine(messageOf(error)))
    return { code: EXIT_INTERNAL, message: tag === undefined || message.startsWith(tag) ? message : `${tag}: ${message}` }
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  return { code: EXIT_INTERNAL, message: `internal error: ${withoutSourcePaths(oneLine(defect === undefined ? "the command was interrupted" : messageOf(defect.defect)))}` }
}

const report = (cause: Cause.Cause<unknown>, verbose: boolean) =>
  Effect.gen(function*() {
    const { code, message } = describeFailure(cause)
    yield* Console.log(JSON.stringify({ error: message }))
    if (verbose) yield* Console.error(Cause.pretty(cause))
    return yield* new CliFailed({ code, message })
  })

const passThrough = (cause: Cause.Cause<unknown>) =>
  Cause.hasInterruptsOnly(cause) || isReported(Cause.squash(cause))

/**
 * A command handler's failure as one `{"error"}` line on stdout (with `--verbose`, the cause on
 * stderr), then `CliFailed` with the exit code. Interruption and self-reported failures pass through.
 */
export const reportFailures = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CliFailed, R> =>
  Effect.catchCause(self, (cause): Effect.Effect<never, E | CliFailed> =>
    passThrough(cause)
      ? Effect.failCause(cause)
      : Effect.flatMap(Effect.serviceOption(Verbose), (verbose) => report(cause, Option.getOrElse(verbose, () => false))))

/** The whole run's last word (`bin.ts`): an invalid invocation or anything a handler did not report. */
export const reportUnhandled = (cause: Cause.Cause<unknown>): Effect.Effect<never, unknown> => {
  const squashed = Cause.squash(cause)
  // An invalid invocation (help with errors) is reported here; help without errors (`--help`, a
  // command group run without its subcommand) is not a failure, and reported failures keep their code.
  const invalidInvocation = squashed instanceof CliError.ShowHelp && squashed.errors.length > 0
  return passThrough(cause) && !invalidInvocation ? Effect.failCause(cause) : report(cause, false)
}

/**
 * Help and version on stdout as usual; an invalid invocation prints nothing here (its one-line
 * `{"error"}` comes from `reportUnhandled`), so stdout stays one JSON line.
 */
export const presenterLayer = CliOutput.layerPresenter({
  present: (event) => (event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event))
})
