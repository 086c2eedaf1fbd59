/**
 * `spectral serve [--port N] [--host H] [--issue-key WORKSPACE] [--issue-api-key WORKSPACE[:SCOPE]]`:
 * one HTTP server on the configured storage with the OTLP/HTTP receiver (`POST /v1/traces`, JSON
 * and protobuf) and the host API (`/api/workspaces/...`, its OpenAPI document at `/openapi.json`,
 * browsable docs at `/docs`) and the dashboard at `/` (`host/dashboard/`). With `--issue-key`, first issues an ingest bearer key for WORKSPACE
 * (an empty id is bad input) and prints it as `{"workspaceId","key"}`; with `--issue-api-key`, an
 * API key of SCOPE (read, write or admin; read by default), printed as
 * `{"workspaceId","scope","keyId","key"}`. Keys are stored hashed; this is the only time they are
 * shown. Prints `{"listening":"http://HOST:PORT/v1/traces","api":…,"openapi":…,"docs":…,"dashboard":…}` with the
 * bound port (`--port 0` picks a free one) and serves until interrupted. The receiver's limits come
 * from `SPECTRAL_OTLP_MAX_BODY_BYTES` and `SPECTRAL_OTLP_MAX_ATTRIBUTE_DEPTH`; the API's request
 * bodies are limited by `SPECTRAL_API_MAX_BODY_BYTES` (default 1 MiB). Scans started through the API
 * (`POST /api/workspaces/:ws/scans`) run in this process on the same store, in background fibers the
 * server owns: stopping it interrupts them (they stay resumable by the next `spectral scan`).
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Console, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter, HttpServer } from "effect/http"
import { issueIngestKey, OtlpIngest, OtlpReceiver, Storage } from "@spectral/adapters"
import { WorkspaceId } from "@spectral/engine/contracts"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError } from "../CliIo.ts"
import { issueApiKey, parseKeyRequest } from "../host/api/ApiKeys.ts"
import * as ApiServer from "../host/api/ApiServer.ts"
import * as DashboardRoutes from "../host/dashboard/DashboardRoutes.ts"
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
    ),
    issueApiKey: Flag.String("issue-api-key").pipe(
      Flag.optional,
      Flag.withDescription("Issue an API key for WORKSPACE[:read|write|admin] (read by default) first")
    )
  },
  Effect.fn(function*({ port, host, issueKey, issueApiKey: apiKeyRequest }) {
    const apiKeyFor = Option.isNone(apiKeyRequest) ? undefined : parseKeyRequest(apiKeyRequest.value)
    if (typeof apiKeyFor === "string") return yield* new CliInputError({ file: "--issue-api-key", message: apiKeyFor })
    const program = Effect.gen(function*() {
      if (Option.isSome(issueKey)) {
        const key = yield* issueIngestKey(issueKey.value, "spectral serve")
        yield* Console.log(JSON.stringify({ workspaceId: issueKey.value, key }))
      }
      if (apiKeyFor !== undefined) {
        yield* Console.log(JSON.stringify(yield* issueApiKey(apiKeyFor.workspaceId, apiKeyFor.scope, "spectral serve")))
      }
      const address = (yield* HttpServer.HttpServer).address
      const base = address._tag === "UnixPathAddress" ? `http://${host}:${port}` : `http://${host}:${address.port}`
      yield* Console.log(JSON.stringify({
        listening: `${base}/v1/traces`,
        api: `${base}/api/workspaces`,
        openapi: `${base}${ApiServer.openApiPath}`,
        docs: `${base}${ApiServer.docsPath}`,
        dashboard: `${base}${DashboardRoutes.dashboardPath}`
      }))
      return yield* Effect.never
    })
    const limits = yield* OtlpReceiver.OtlpReceiverConfig
    const routes = Layer.mergeAll(OtlpReceiver.route(limits).pipe(Layer.provide(OtlpIngest.layer())), ApiServer.routes, DashboardRoutes.routes)
    // One store (with its event bus: scans started through the API run on it) and one lifecycle, shared by every route.
    const server = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host })),
      Layer.provideMerge(Lifecycle.layerConfig)
    )
    yield* program.pipe(Effect.provide(server.pipe(Layer.provideMerge(Storage.layerConfigWithEvents()))))
  }, reportFailures)
).pipe(Command.withDescription("Serve the OTLP/HTTP trace receiver (POST /v1/traces) and the host API (/api, /openapi.json, /docs) and the dashboard (/) on the configured storage"))
