/**
 * The OTLP/HTTP trace receiver: `POST /v1/traces` on effect's HTTP server, in both OTLP encodings.
 *   401  missing, unknown or revoked bearer key (checked before the body is read; nothing stored)
 *   413  body larger than `maxBodyBytes` (declared or actual, after gzip/deflate decompression)
 *   400  wrong content type or a body that is not an OTLP request, with a google.rpc.Status body;
 *        nothing of it is stored
 *   200  `ExportTraceServiceResponse`, with `partialSuccess { rejectedSpans, errorMessage }` when
 *        some spans were invalid (the valid ones are stored)
 *   503  ingest overloaded or storage unavailable, with `Retry-After`: never 200 and then a drop
 * The workspace comes from the key; resource attributes never choose it.
 */
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Effect, Layer, Option } from "effect"
import { HttpIncomingMessage, HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { IngestKeyRepo } from "@spectral/engine"
import { workspaceForKey } from "./IngestKeys.ts"
import { decodeOtlp, IngestOverloaded, OtlpIngest, type OtlpEncoding } from "./OtlpIngest.ts"
import { encodeProtobufResponse, encodeProtobufStatus } from "./OtlpProtobuf.ts"

export interface OtlpReceiverOptions {
  /** Largest accepted body in bytes, compressed or not (default 8 MiB). */
  readonly maxBodyBytes?: number
}

/** gRPC status codes used in the Status body. */
const Code = { InvalidArgument: 3, Unauthenticated: 16, ResourceExhausted: 8, Unavailable: 14, Internal: 13 } as const

const encodingOf = (contentType: string | undefined): OtlpEncoding | undefined => {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (type === "application/json") return "json"
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf"
  return undefined
}

const statusResponse = (encoding: OtlpEncoding | undefined, status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  encoding === "protobuf"
    ? HttpServerResponse.uint8Array(encodeProtobufStatus(code, message), { status, contentType: "application/x-protobuf", headers })
    : HttpServerResponse.text(JSON.stringify({ code, message }), { status, contentType: "application/json", headers })

const isTooLarge = (error: unknown): boolean => {
  const reason = (error as { reason?: { cause?: unknown; description?: unknown } } | undefined)?.reason
  const cause = reason?.cause as { _tag?: unknown } | undefined
  return cause?._tag === "MaxBytesError" || /maxBytes exceeded|too large|exceed/i.test(`${String(reason?.description ?? "")} ${String(cause ?? "")}`)
}

const bearer = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")
  return match === null ? undefined : match[1]
}

/** The handler for one request; needs OtlpIngest and IngestKeyRepo. */
export const handleTraces = (options: OtlpReceiverOptions = {}) => {
  const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024
  return Effect.fnUntraced(function*(request: HttpServerRequest.HttpServerRequest) {
    const encoding = encodingOf(request.headers["content-type"])
    const key = bearer(request.headers["authorization"])
    const workspace = key === undefined ? Option.none<string>() : yield* workspaceForKey(key)
    if (Option.isNone(workspace)) {
      return statusResponse(encoding, 401, Code.Unauthenticated, "missing or invalid ingest key", { "www-authenticate": "Bearer" })
    }
    const declared = Number(request.headers["content-length"] ?? "NaN")
    if (Number.isFinite(declared) && declared > maxBody) {
      return statusResponse(encoding, 413, Code.ResourceExhausted, `body of ${declared} bytes exceeds the limit of ${maxBody} bytes`)
    }
    if (encoding === undefined) {
      return statusResponse(undefined, 400, Code.InvalidArgument, `unsupported content type "${request.headers["content-type"] ?? ""}": use application/json or application/x-protobuf`)
    }
    const read = yield* request.arrayBuffer.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBody)),
      Effect.result
    )
    if (read._tag === "Failure") {
      return isTooLarge(read.failure)
        ? statusResponse(encoding, 413, Code.ResourceExhausted, `body exceeds the limit of ${maxBody} bytes`)
        : statusResponse(encoding, 400, Code.InvalidArgument, `cannot read the body: ${String((read.failure as { message?: unknown }).message ?? read.failure)}`)
    }
    const bytes = new Uint8Array(read.success)
    const decoded = yield* Effect.result(decodeOtlp(encoding, bytes))
    if (decoded._tag === "Failure") return statusResponse(encoding, 400, Code.InvalidArgument, decoded.failure.message)
    const ingest = yield* OtlpIngest
    const outcome = yield* Effect.result(ingest.ingest(workspace.value, decoded.success))
    if (outcome._tag === "Failure") {
      const error = outcome.failure
      if (error instanceof IngestOverloaded) {
        return statusResponse(encoding, 503, Code.Unavailable, "ingest is overloaded, retry later", { "retry-after": String(error.retryAfterSeconds) })
      }
      return error.reason._tag === "Unavailable"
        ? statusResponse(encoding, 503, Code.Unavailable, error.message, { "retry-after": "5" })
        : statusResponse(encoding, 500, Code.Internal, error.message)
    }
    const { rejected, errorMessage } = outcome.success
    if (encoding === "protobuf") {
      return HttpServerResponse.uint8Array(encodeProtobufResponse(rejected, errorMessage), { status: 200, contentType: "application/x-protobuf" })
    }
    // proto3 JSON mapping: int64 as a decimal string.
    const body = rejected === 0 && errorMessage === "" ? {} : { partialSuccess: { rejectedSpans: String(rejected), errorMessage } }
    return HttpServerResponse.text(JSON.stringify(body), { status: 200, contentType: "application/json" })
  })
}

/** `POST /v1/traces` as a router layer (gzip/deflate bodies are decompressed under the same limit). */
export const route = (options: OtlpReceiverOptions = {}) =>
  Layer.unwrap(Effect.gen(function*() {
    const ingest = yield* OtlpIngest
    const keys = yield* IngestKeyRepo
    const handle = handleTraces(options)
    const app = Effect.gen(function*() {
      // Read after the decompression middleware, which replaces the request with its decompressed view.
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* handle(request)
    }).pipe(
      HttpMiddleware.decompression({ maxDecompressedSize: options.maxBodyBytes ?? 8 * 1024 * 1024 }),
      Effect.provideService(OtlpIngest, ingest),
      Effect.provideService(IngestKeyRepo, keys)
    )
    return HttpRouter.add("POST", "/v1/traces", app)
  }))

/** A standalone receiver on a Node HTTP server (port 0 picks a free port; read it from HttpServer). */
export const layer = (options: OtlpReceiverOptions & { readonly port: number; readonly host?: string }) =>
  HttpRouter.serve(route(options), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, ...(options.host === undefined ? {} : { host: options.host }) }))
  )
