/**
 * The server side of `ApiAuthorization`: the bearer key resolved through `ApiKeyRepo` (by hash) to
 * the caller's workspace and scope. A missing, unknown or revoked key is 401 naming which; storage
 * that cannot be reached is 503. Nothing else about the request is read before the key is checked.
 */
import { Effect, Layer, Redacted } from "effect"
import { ApiKeyRepo } from "@spectral/engine"
import { ApiAuthorization, ApiCaller } from "./ApiAuthorization.ts"
import { ApiUnauthorized, ApiUnavailable } from "./ApiErrors.ts"
import { authenticateApiKey } from "./ApiKeys.ts"

export const ApiAuthorizationLayer = Layer.effect(
  ApiAuthorization,
  Effect.gen(function*() {
    const keys = yield* ApiKeyRepo
    return ApiAuthorization.of({
      bearer: Effect.fn("ApiAuthorization.bearer")(function*(httpEffect, { credential }) {
        const key = yield* authenticateApiKey(Redacted.value(credential)).pipe(
          Effect.provideService(ApiKeyRepo, keys),
          Effect.mapError((error) =>
            error._tag === "ApiKeyRefused"
              ? new ApiUnauthorized({ message: error.message })
              : new ApiUnavailable({ message: `cannot check the API key: ${error.message}` })
          )
        )
        return yield* Effect.provideService(httpEffect, ApiCaller, { workspaceId: key.workspaceId, scope: key.scope, label: key.label })
      })
    })
  })
)
