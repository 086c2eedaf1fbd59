/**
 * `spectral ingest [--workspace ID] FILE…`: ingest OTLP/JSON trace files (Langfuse trace exports are
 * converted) into a workspace of the configured store — `SPECTRAL_DATABASE_URL`, or embedded PGlite
 * under `SPECTRAL_DATA_DIR`, as `spectral scan` uses — where they are kept and tracked by retention
 * like traces the receiver took (their window starts now; `spectral serve`'s lifecycle curates and
 * sweeps them). Prints `{"workspaceId","store","spans","rejected","agents":[{name, dependsOn,
 * hyperparameters}]}`: what the engine inferred from everything the workspace has stored, agents
 * matched by name to the workspace's declared ones when it is declared. A file that cannot be read
 * or parsed fails the command naming the file; a file that is not an OTLP request is reported the
 * same way.
 */
import { Console, Effect, Layer } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { WorkspaceRepo } from "@spectral/engine"
import { WorkspaceId } from "@spectral/engine/contracts"
import { ingestDocuments, OtlpIngest, Storage } from "@spectral/adapters"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, readJsonFile } from "../CliIo.ts"

export const ingest = Command.make(
  "ingest",
  {
    workspace: Flag.String("workspace").pipe(
      Flag.withSchema(WorkspaceId),
      Flag.withDefault("default"),
      Flag.withDescription("Workspace the traces belong to (a non-empty id)")
    ),
    files: Argument.String("files").pipe(Argument.withDescription("OTLP/JSON trace files"), Argument.variadic({ min: 1 }))
  },
  Effect.fn("ingest")(function*({ workspace, files }) {
    const documents: Array<unknown> = []
    for (const file of files) documents.push(yield* readJsonFile(file))
    const store = Storage.describeStore(yield* Storage.StorageConfig)
    const summary = yield* Effect.gen(function*() {
      const declared = yield* (yield* WorkspaceRepo).get(workspace).pipe(
        Effect.map((w) => w.agents),
        Effect.catchIf((error) => error.reason._tag === "NotFound", () => Effect.succeed([]))
      )
      return yield* ingestDocuments(workspace, documents, declared)
    }).pipe(
      Effect.catchTag("OtlpDecodeError", (error) => Effect.fail(new CliInputError({ file: files.join(", "), message: error.message }))),
      Effect.provide(OtlpIngest.layer().pipe(Layer.provideMerge(Storage.layerConfig)))
    )
    yield* Console.log(JSON.stringify({ workspaceId: workspace, store, ...summary }))
  }, reportFailures)
).pipe(
  Command.withDescription("Ingest OTLP/JSON trace files into the configured store and print the spans stored and the agents inferred from them"),
  Command.withExamples([
    { command: "spectral ingest traces.json", description: "Into the workspace `default` of the embedded store" },
    { command: "spectral ingest --workspace ledger traces.json", description: "Into workspace `ledger`" }
  ])
)
