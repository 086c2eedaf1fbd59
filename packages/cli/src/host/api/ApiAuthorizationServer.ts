/**
 * The server side of `ApiAuthorization`: the bearer key resolved through `ApiKeyRepo` (by hash) to
 * the caller's workspace and scope. A missing, unknown or revoked key is 401 naming which; storage
 * that cannot be reached is 503. Nothing else about the request is read before the key is checked.
 */
import { Effect, Layer, Redacted } from "effect"
import { ApiKeyRepo } from "@spectral/engine"
import { ApiAuthorization, ApiCaller, ApiStreamAuthorization } from "./ApiAuthorization.ts"
import { ApiUnauthorized, ApiUnavailable } from "./ApiErrors.ts"
import { authenticateApiKey } from "./ApiKeys.ts"

/** The caller a presented key is, around `httpEffect`; 401 or 503 naming why not. */
const withCaller = (keys: ApiKeyRepo["Service"]) => <A, E, R>(httpEffect: Effect.Effect<A, E, R>, credential: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
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

export const ApiAuthorizationLayer = Layer.effect(
  ApiAuthorization,
  Effect.gen(function*() {
    const run = withCaller(yield* ApiKeyRepo)
    return ApiAuthorization.of({
      bearer: (httpEffect, { credential }) => run(httpEffect, credential)
    })
  })
)

/** The progress stream's key check: `?key=` first, then the bearer key (the last refusal is the answer). */
export const ApiStreamAuthorizationLayer = Layer.effect(
  ApiStreamAuthorization,
  Effect.gen(function*() {
    const run = withCaller(yield* ApiKeyRepo)
    return ApiStreamAuthorization.of({
      query: (httpEffect, { credential }) => run(httpEffect, credential),
      bearer: (httpEffect, { credential }) => run(httpEffect, credential)
    })
  })
)
