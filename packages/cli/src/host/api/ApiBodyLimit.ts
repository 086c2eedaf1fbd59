/**
 * The API's request-body limit: `SPECTRAL_API_MAX_BODY_BYTES` (default 1 MiB). A body that declares
 * a larger `Content-Length` is refused with 413 before any of it is read; a body without one (chunked)
 * is read only up to the limit, and going over it is 413 too (`MaxBodySize` stops the read).
 */
import { ByteSize, Config, Effect, Layer } from "effect"
import { HttpIncomingMessage, HttpServerError, HttpServerRequest } from "effect/http"
import { HttpApiMiddleware } from "effect/http-api"
import { ApiPayloadTooLarge } from "./ApiErrors.ts"

export const defaultMaxBodyBytes = 1024 * 1024

export const ApiMaxBodyBytes = Config.Int("SPECTRAL_API_MAX_BODY_BYTES").pipe(Config.withDefault(defaultMaxBodyBytes))

export class ApiBodyLimit extends HttpApiMiddleware.Service<ApiBodyLimit>()("@spectral/cli/host/api/ApiBodyLimit", {
  error: ApiPayloadTooLarge
}) {}

const tooLarge = (limit: number, size?: number) =>
  new ApiPayloadTooLarge({
    limitBytes: limit,
    message: size === undefined
      ? `request body exceeds the limit of ${limit} bytes (SPECTRAL_API_MAX_BODY_BYTES)`
      : `request body of ${size} bytes exceeds the limit of ${limit} bytes (SPECTRAL_API_MAX_BODY_BYTES)`
  })

/** The limit as a middleware of `limit` bytes. */
export const layer = (limit: number) =>
  Layer.succeed(ApiBodyLimit, (httpEffect) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const declared = Number(request.headers["content-length"] ?? "NaN")
      if (Number.isFinite(declared) && declared > limit) return yield* tooLarge(limit, declared)
      return yield* httpEffect.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(limit)),
        // A body without a length that went over the limit: the read stopped there (a defect of the payload decoder).
        Effect.catchDefect((defect) => bodyTooLarge(defect) ? Effect.fail(tooLarge(limit)) : Effect.die(defect))
      )
    }))

const bodyTooLarge = (defect: unknown): boolean =>
  HttpServerError.isHttpServerError(defect) && defect.reason._tag === "RequestParseError" && defect.reason.reason === "BodyTooLarge"

/** The limit from `SPECTRAL_API_MAX_BODY_BYTES`. */
export const layerConfig = Layer.unwrap(Effect.map(ApiMaxBodyBytes, layer))

