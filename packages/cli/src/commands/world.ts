/**
 * `spectral world decide --world ID[@VERSION] --input FILE [--output FILE]`: apply a published
 * world model to structured cases and print each expected outcome with the rules that fired.
 * FILE is `{"cases":[{"id":"…","facts":{…}}]}`; a case whose facts are invalid yields
 * `{"id":"…","error":"…"}`. `spectral world card --world ID[@VERSION] [--format markdown|html|json]`
 * renders the WorldModelCard. The rules live in `@spectral/worlds`; this module only wires files.
 */
import { Console, Effect, FileSystem, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { decideCases, parseWorldRef, renderWorldModelCard, worldModelCardFor, WorldRegistry } from "@spectral/worlds"
import { readJsonFile, writeJsonOutput } from "../CliIo.ts"

const decide = Command.make(
  "decide",
  {
    world: Flag.String("world").pipe(Flag.withDescription("World model as id@version (version optional: the current one), e.g. us-federal-individual-tax@0.1.0")),
    input: Flag.String("input").pipe(Flag.withDescription("JSON file {\"cases\":[{\"id\":\"…\",\"facts\":{…}}]}")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the JSON result here instead of stdout"), Flag.optional)
  },
  Effect.fn("world.decide")(function*({ world, input, output }) {
    const cases = yield* readJsonFile(input)
    const result = yield* decideCases(world, cases).pipe(Effect.provide(WorldRegistry.layer))
    yield* writeJsonOutput(output, result)
  }, Effect.tapError((error) => Console.error(`spectral world decide: ${error._tag}: ${JSON.stringify(error)}`)))
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
    const rendered = renderWorldModelCard(yield* worldModelCardFor(worldModelId, version).pipe(Effect.provide(WorldRegistry.layer)), format)
    if (Option.isSome(output)) {
      const fs = yield* FileSystem.FileSystem
      yield* fs.writeFileString(output.value, rendered)
    } else {
      yield* Console.log(rendered.trimEnd())
    }
  })
).pipe(Command.withDescription("Render the WorldModelCard (rules by tier, version, authority ref, coverage by segment)"))

export const worldCommand = Command.make("world").pipe(
  Command.withDescription("World models: apply rules to worked cases, render their cards"),
  Command.withSubcommands([decide, card])
)
