/**
 * `spectral ingest FILE…`: ingest OTLP/JSON trace files (Langfuse trace exports are converted) into
 * an in-memory workspace and print `{"spans","rejected","agents":[{name, dependsOn, hyperparameters}]}`
 * — what the engine inferred from them. A file that cannot be read or parsed fails the command
 * naming the file; a file that is not an OTLP request is reported the same way.
 */
import { Console, Effect, Layer } from "effect"
import { Argument, Command } from "effect/cli"
import { MemoryStorage } from "@spectral/engine"
import { ingestDocuments, OtlpIngest } from "@spectral/adapters"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, readJsonFile } from "../CliIo.ts"

export const ingest = Command.make(
  "ingest",
  { files: Argument.String("files").pipe(Argument.withDescription("OTLP/JSON trace files"), Argument.variadic({ min: 1 })) },
  Effect.fn("ingest")(function*({ files }) {
    const documents: Array<unknown> = []
    for (const file of files) documents.push(yield* readJsonFile(file))
    const summary = yield* ingestDocuments("cli", documents).pipe(
      Effect.catchTag("OtlpDecodeError", (error) => Effect.fail(new CliInputError({ file: files.join(", "), message: error.message }))),
      Effect.provide(OtlpIngest.layer().pipe(Layer.provideMerge(MemoryStorage.layer)))
    )
    yield* Console.log(JSON.stringify(summary))
  }, reportFailures)
).pipe(
  Command.withDescription("Ingest OTLP/JSON trace files and print the spans stored and the agents inferred from them"),
  Command.withExamples([{ command: "spectral ingest traces.json", description: "Spans, rejected spans and inferred agents" }])
)
