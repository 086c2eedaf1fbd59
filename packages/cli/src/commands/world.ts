/**
 * `spectral world decide --world ID[@VERSION] --input FILE [--output FILE]`: apply a published
 * world model to structured cases and print each expected outcome with the rules that fired.
 * FILE is `{"cases":[{"id":"…","facts":{…}}]}`; a case that is not `{"id","facts"}` or whose facts
 * are invalid yields `{"id":"…","error":"…"}` and the other cases still run (`runCases`).
 * `spectral world card --world ID[@VERSION] [--format markdown|html|json]` renders the
 * WorldModelCard. The rules live in `@spectral/worlds`; this module only wires files.
 */
import { Effect, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { decideCase, parseWorldRef, renderWorldModelCard, type WorldNotFound, worldModelCardFor, WorldRegistry } from "@spectral/worlds"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, readJsonFile, runCases, writeJsonOutput, writeTextOutput } from "../CliIo.ts"

const DecideCase = Schema.Struct({ id: Schema.String, facts: Schema.Unknown })

/** `--world` names no published world (or version): a CliInputError listing the ones there are. */
const unknownWorld = (ref: string) => (error: WorldNotFound) =>
  Effect.gen(function*() {
    const worlds = yield* (yield* WorldRegistry).list
    const known = worlds.map((w) => `${w.worldModelId}@${w.versions.join("|")}`).join(", ")
    const what = error.version === null ? `no world model "${error.worldModelId}"` : `world model "${error.worldModelId}" has no version ${error.version}`
    return yield* new CliInputError({ file: "--world", message: `${ref}: ${what} (published: ${known})` })
  })

const resolveWorld = Effect.fnUntraced(function*(ref: string) {
  const registry = yield* WorldRegistry
  const { worldModelId, version } = parseWorldRef(ref)
  return yield* (version === null ? registry.current(worldModelId) : registry.version(worldModelId, version)).pipe(
    Effect.catchTag("WorldNotFound", unknownWorld(ref))
  )
})

/** Decide every case of a parsed input file against a world (`id@version`); a bad case is reported, not fatal. */
export const decideFile = Effect.fnUntraced(function*(world: string, document: unknown, source?: string) {
  const model = yield* resolveWorld(world)
  return yield* runCases(DecideCase, (c: typeof DecideCase.Type) => Effect.succeed(decideCase(model, c.id, c.facts)))(document, source)
})

const decide = Command.make(
  "decide",
  {
    world: Flag.String("world").pipe(Flag.withDescription("World model as id@version (version optional: the current one), e.g. us-federal-individual-tax@0.1.0")),
    input: Flag.String("input").pipe(Flag.withDescription("JSON file {\"cases\":[{\"id\":\"…\",\"facts\":{…}}]}")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the JSON result here instead of stdout"), Flag.optional)
  },
  Effect.fn("world.decide")(function*({ world, input, output }) {
    const document = yield* readJsonFile(input)
    const result = yield* decideFile(world, document, input).pipe(Effect.provide(WorldRegistry.layer))
    yield* writeJsonOutput(output, result)
  }, reportFailures)
).pipe(
  Command.withDescription("Apply a world model's rules to structured facts and print the expected outcomes with the rules that fired"),
  Command.withExamples([
    { command: "spectral world decide --world us-federal-individual-tax@0.1.0 --input cases.json", description: "Filing status and 2025 standard deduction for each case" }
  ])
)

const card = Command.make(
  "card",
  {
    world: Flag.String("world").pipe(Flag.withDescription("World model as id@version (version optional: the current one)")),
    format: Flag.Literals("format", ["markdown", "html", "json"]).pipe(Flag.withDefault("markdown")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the card here instead of stdout"), Flag.optional)
  },
  Effect.fn("world.card")(function*({ world, format, output }) {
    const { worldModelId, version } = parseWorldRef(world)
    const worldCard = yield* worldModelCardFor(worldModelId, version).pipe(
      Effect.catchTag("WorldNotFound", unknownWorld(world)),
      Effect.provide(WorldRegistry.layer)
    )
    yield* writeTextOutput(output, renderWorldModelCard(worldCard, format))
  }, reportFailures)
).pipe(Command.withDescription("Render the WorldModelCard (rules by tier, version, authority ref, coverage by segment)"))

export const worldCommand = Command.make("world").pipe(
  Command.withDescription("World models: apply rules to worked cases, render their cards"),
  Command.withSubcommands([decide, card])
)
