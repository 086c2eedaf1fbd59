/**
 * `spectral serve [--port N] [--host H] [--issue-key WORKSPACE]`: the OTLP/HTTP receiver
 * (`POST /v1/traces`, JSON and protobuf) on the configured storage. With `--issue-key`, first issues
 * a bearer key for WORKSPACE (an empty id is bad input) and prints it as `{"workspaceId","key"}`
 * (the key is stored hashed; this is the only time it is shown). Prints
 * `{"listening":"http://HOST:PORT/v1/traces"}` and serves until interrupted. The receiver's limits come from `SPECTRAL_OTLP_MAX_BODY_BYTES` and
 * `SPECTRAL_OTLP_MAX_ATTRIBUTE_DEPTH`.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { issueIngestKey, OtlpIngest, OtlpReceiver, Storage } from "@spectral/adapters"
import { WorkspaceId } from "@spectral/engine/contracts"
import { reportFailures } from "../CliFailure.ts"
import { Lifecycle } from "../host/Lifecycle.ts"

export const serve = Command.make(
  "serve",
  {
    port: Flag.Int("port").pipe(Flag.withDefault(4318), Flag.withDescription("Port of the OTLP/HTTP receiver (4318 is OTLP's)")),
    host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("Address to listen on")),
    issueKey: Flag.String("issue-key").pipe(
      Flag.withSchema(WorkspaceId),
      Flag.optional,
      Flag.withDescription("Issue an ingest key for this workspace (a non-empty id) first")
    )
  },
  Effect.fn(function*({ port, host, issueKey }) {
    const program = Effect.gen(function*() {
      if (Option.isSome(issueKey)) {
        const key = yield* issueIngestKey(issueKey.value, "spectral serve")
        yield* Console.log(JSON.stringify({ workspaceId: issueKey.value, key }))
      }
      yield* Console.log(JSON.stringify({ listening: `http://${host}:${port}/v1/traces` }))
      return yield* Effect.never
    })
    const limits = yield* OtlpReceiver.OtlpReceiverConfig
    const receiver = OtlpReceiver.layer({ port, host, ...limits }).pipe(Layer.provide(OtlpIngest.layer()), Layer.merge(Lifecycle.layerConfig))
    yield* program.pipe(Effect.provide(receiver.pipe(Layer.provideMerge(Storage.layerConfig))))
  }, reportFailures)
).pipe(Command.withDescription("Serve the OTLP/HTTP trace receiver (POST /v1/traces) on the configured storage"))
