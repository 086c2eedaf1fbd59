/**
 * The OTLP/HTTP trace receiver: `POST /v1/traces` on effect's HTTP server, in both OTLP encodings.
 * The key is checked before anything else about the request, so an unauthenticated client learns
 * nothing but 401:
 *   401  missing, unknown or revoked bearer key (nothing read, nothing stored)
 *   503  the key cannot be checked or the spans cannot be stored because the database is
 *        unavailable, or ingest is overloaded: with `Retry-After`, never 200 and then a drop
 *   413  body larger than `maxBodyBytes` (declared or actual, after gzip/deflate decompression)
 *   415  a `Content-Encoding` other than gzip, deflate or identity
 *   400  wrong content type, a body that is not an OTLP request, or an attribute nested deeper than
 *        `maxAttributeDepth`, with a google.rpc.Status body naming the problem; nothing stored
 *   500  anything else (a storage refusal a retry would not change, a defect), with a Status body
 *   200  `ExportTraceServiceResponse`, with `partialSuccess { rejectedSpans, errorMessage }` when
 *        some spans were invalid (the valid ones are stored) or were stored with values escaped
 * Every 4xx and 5xx answer is logged in one line (status and reason, never body content). The
 * workspace comes from the key; resource attributes never choose it.
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ByteSize, Config, Effect, Layer, Option } from "effect"
import { HttpIncomingMessage, HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { IngestKeyRepo } from "@spectral/engine"
import { defaultMaxAttributeDepth } from "./AttributeValues.ts"
import { workspaceForKey } from "./IngestKeys.ts"
import { decodeOtlp, IngestOverloaded, OtlpIngest, type OtlpEncoding } from "./OtlpIngest.ts"
import { encodeProtobufResponse, encodeProtobufStatus } from "./OtlpProtobuf.ts"

export interface OtlpReceiverOptions {
  /** Largest accepted body in bytes, compressed or not (default 8 MiB). */
  readonly maxBodyBytes?: number | undefined
  /** How deeply arrays and key-value lists may nest inside one attribute value (default 32). */
  readonly maxAttributeDepth?: number | undefined
}

export const defaultMaxBodyBytes = 8 * 1024 * 1024

/** The receiver's limits from the environment (what `spectral serve` reads). */
export const OtlpReceiverConfig = Config.all({
  maxBodyBytes: Config.Int("SPECTRAL_OTLP_MAX_BODY_BYTES").pipe(Config.withDefault(defaultMaxBodyBytes)),
  maxAttributeDepth: Config.Int("SPECTRAL_OTLP_MAX_ATTRIBUTE_DEPTH").pipe(Config.withDefault(defaultMaxAttributeDepth))
})

/** gRPC status codes used in the Status body. */
const Code = { InvalidArgument: 3, Unauthenticated: 16, ResourceExhausted: 8, Unavailable: 14, Internal: 13 } as const

/** Seconds an exporter should wait before retrying when the database is unavailable. */
const storageRetryAfterSeconds = 5

const encodingOf = (contentType: string | undefined): OtlpEncoding | undefined => {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (type === "application/json") return "json"
  if (type === "application/x-protobuf" || type === "application/protobuf") return "protobuf"
  return undefined
}

/** The codings of a `Content-Encoding` header that the receiver cannot undo (gzip, deflate, identity are fine). */
const unsupportedCodings = (header: string | undefined): ReadonlyArray<string> =>
  (header ?? "").split(",").map((coding) => coding.trim().toLowerCase()).filter((coding) =>
    coding !== "" && coding !== "gzip" && coding !== "x-gzip" && coding !== "deflate" && coding !== "identity"
  )

const statusResponse = (encoding: OtlpEncoding | undefined, status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  encoding === "protobuf"
    ? HttpServerResponse.uint8Array(encodeProtobufStatus(code, message), { status, contentType: "application/x-protobuf", headers })
    : HttpServerResponse.text(JSON.stringify({ code, message }), { status, contentType: "application/json", headers })

/** One log line per refused request: status and reason, never the body. */
const logRefusal = (status: number, message: string) => {
  const line = `OTLP /v1/traces ${status}: ${message.replace(/\s+/g, " ").slice(0, 500)}`
  return (status >= 500 ? Effect.logError(line) : Effect.logWarning(line)).pipe(
    Effect.annotateLogs({ "otlp.status": status })
  )
}

/** A 4xx/5xx answer with its Status body, logged. */
const refuse = (encoding: OtlpEncoding | undefined, status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  Effect.as(logRefusal(status, message), statusResponse(encoding, status, code, message, headers))

const isTooLarge = (error: unknown): boolean => {
  const reason = (error as { reason?: { cause?: unknown; description?: unknown } } | undefined)?.reason
  const cause = reason?.cause as { _tag?: unknown } | undefined
  return cause?._tag === "MaxBytesError" || /maxBytes exceeded|too large|exceed/i.test(`${String(reason?.description ?? "")} ${String(cause ?? "")}`)
}

const bearer = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")
  return match === null ? undefined : match[1]
}

const defectMessage = (defect: unknown): string =>
  defect instanceof Error ? `internal error (${defect.name}: ${defect.message})` : "internal error"

/**
 * The handler for one request (read from the context); needs OtlpIngest and IngestKeyRepo. It
 * never fails: every problem is an answer.
 */
export const handleTraces = (options: OtlpReceiverOptions = {}) => {
  const maxBody = options.maxBodyBytes ?? defaultMaxBodyBytes
  const decodeOptions = { maxAttributeDepth: options.maxAttributeDepth ?? defaultMaxAttributeDepth }
  const decompressed = HttpMiddleware.decompression({ maxDecompressedSize: maxBody })

  /** After authentication: read (decompressed, under the limit), decode, ingest. */
  const ingestBody = (encoding: OtlpEncoding, workspaceId: string) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const read = yield* request.arrayBuffer.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBody)),
        Effect.result
      )
      if (read._tag === "Failure") {
        return yield* isTooLarge(read.failure)
          ? refuse(encoding, 413, Code.ResourceExhausted, `body exceeds the limit of ${maxBody} bytes`)
          : refuse(encoding, 400, Code.InvalidArgument, "cannot read the body (truncated, or not validly compressed)")
      }
      const decoded = yield* Effect.result(decodeOtlp(encoding, new Uint8Array(read.success), decodeOptions))
      if (decoded._tag === "Failure") return yield* refuse(encoding, 400, Code.InvalidArgument, decoded.failure.message)
      const ingest = yield* OtlpIngest
      const outcome = yield* Effect.result(ingest.ingest(workspaceId, decoded.success))
      if (outcome._tag === "Failure") {
        const error = outcome.failure
        if (error instanceof IngestOverloaded) {
          return yield* refuse(encoding, 503, Code.Unavailable, "ingest is overloaded, retry later", { "retry-after": String(error.retryAfterSeconds) })
        }
        return yield* error.reason._tag === "Unavailable"
          ? refuse(encoding, 503, Code.Unavailable, error.message, { "retry-after": String(storageRetryAfterSeconds) })
          : refuse(encoding, 500, Code.Internal, error.message)
      }
      const { errorMessage, rejected } = outcome.success
      if (encoding === "protobuf") {
        return HttpServerResponse.uint8Array(encodeProtobufResponse(rejected, errorMessage), { status: 200, contentType: "application/x-protobuf" })
      }
      // proto3 JSON mapping: int64 as a decimal string.
      const body = rejected === 0 && errorMessage === "" ? {} : { partialSuccess: { rejectedSpans: String(rejected), errorMessage } }
      return HttpServerResponse.text(JSON.stringify(body), { status: 200, contentType: "application/json" })
    })

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const encoding = encodingOf(request.headers["content-type"])
    const key = bearer(request.headers["authorization"])
    const lookup = key === undefined ? undefined : yield* Effect.result(workspaceForKey(key))
    if (lookup?._tag === "Failure") {
      return yield* lookup.failure.reason._tag === "Unavailable"
        ? refuse(encoding, 503, Code.Unavailable, `cannot check the ingest key: ${lookup.failure.message}`, { "retry-after": String(storageRetryAfterSeconds) })
        : refuse(encoding, 500, Code.Internal, `cannot check the ingest key: ${lookup.failure.message}`)
    }
    const workspace = lookup === undefined ? Option.none<string>() : lookup.success
    if (Option.isNone(workspace)) {
      return yield* refuse(encoding, 401, Code.Unauthenticated, "missing or invalid ingest key", { "www-authenticate": "Bearer" })
    }
    const declared = Number(request.headers["content-length"] ?? "NaN")
    if (Number.isFinite(declared) && declared > maxBody) {
      return yield* refuse(encoding, 413, Code.ResourceExhausted, `body of ${declared} bytes exceeds the limit of ${maxBody} bytes`)
    }
    const unsupported = unsupportedCodings(request.headers["content-encoding"])
    if (unsupported.length > 0) {
      return yield* refuse(encoding, 415, Code.InvalidArgument, `unsupported content encoding "${unsupported.join(", ")}": use gzip, deflate or none`, {
        "accept-encoding": "gzip, deflate"
      })
    }
    if (encoding === undefined) {
      return yield* refuse(undefined, 400, Code.InvalidArgument, `unsupported content type "${request.headers["content-type"] ?? ""}": use application/json or application/x-protobuf`)
    }
    // The decompression middleware replaces the request with its decompressed view.
    return yield* decompressed(ingestBody(encoding, workspace.value))
  }).pipe(
    Effect.catchDefect((defect) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        return yield* refuse(encodingOf(request.headers["content-type"]), 500, Code.Internal, defectMessage(defect))
      })
    )
  )
}

/** `POST /v1/traces` as a router layer. */
export const route = (options: OtlpReceiverOptions = {}) =>
  Layer.unwrap(Effect.gen(function*() {
    const ingest = yield* OtlpIngest
    const keys = yield* IngestKeyRepo
    const app = handleTraces(options).pipe(
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
