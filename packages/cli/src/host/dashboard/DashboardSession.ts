/**
 * `GET /dashboard/session`: which workspace and scope a bearer API key opens, so the page can sign
 * in with the key alone. Checked exactly as the API checks it (`authenticateApiKey`): a missing,
 * unknown or revoked key is 401 with the API's own `{"_tag":"ApiUnauthorized","message"}`; storage
 * that cannot be reached is 503. The key itself is never echoed.
 */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { ApiKeyRepo } from "@spectral/engine"
import { authenticateApiKey } from "../api/ApiKeys.ts"

export const sessionPath = "/dashboard/session"

const bearer = (header: string | undefined): string => {
  const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim())
  return match === null ? "" : match[1]!.trim()
}

const reply = (status: number, body: unknown) =>
  HttpServerResponse.text(JSON.stringify(body), { status, contentType: "application/json", headers: { "cache-control": "no-store" } })

/** The session route as a router layer (needs `ApiKeyRepo`). */
export const route = Layer.unwrap(Effect.gen(function*() {
  const keys = yield* ApiKeyRepo
  const handler = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    return yield* authenticateApiKey(bearer(request.headers["authorization"])).pipe(
      Effect.map((key) => reply(200, { workspaceId: key.workspaceId, scope: key.scope, label: key.label })),
      Effect.catchTag("ApiKeyRefused", (error) => Effect.succeed(reply(401, { _tag: "ApiUnauthorized", message: error.message }))),
      Effect.catchTag("StorageError", (error) =>
        Effect.succeed(reply(503, { _tag: "ApiUnavailable", message: `cannot check the API key: ${error.message}` }))),
      Effect.provideService(ApiKeyRepo, keys)
    )
  })
  return HttpRouter.add("GET", sessionPath, handler)
}))
