/**
 * The typed client of the host API (`HttpApiClient` derived from `SpectralApi`), for hosts, the
 * dashboard and tests: `client.scans.get({ params: { workspaceId, scanId } })` and so on, with the
 * API's typed errors (`ApiNotFound`, `ApiForbidden`, …) in the error channel. The key goes in
 * `Authorization: Bearer`; the base URL is the server's (`http://HOST:PORT`).
 */
import { Effect, flow, Layer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApiClient, HttpApiMiddleware } from "effect/http-api"
import { SpectralApi } from "./Api.ts"
import { ApiAuthorization, ApiStreamAuthorization } from "./ApiAuthorization.ts"

export type SpectralApiClient = HttpApiClient.ForApi<typeof SpectralApi>

/** The client side of the key middleware: sends `key` as the bearer credential. */
export const bearerKey = (key: string) =>
  Layer.mergeAll(
    HttpApiMiddleware.layerClient(ApiAuthorization, ({ next, request }) => next(HttpClientRequest.bearerToken(request, key))),
    // The progress stream takes the same bearer key (browsers' EventSource send `?key=` instead).
    HttpApiMiddleware.layerClient(ApiStreamAuthorization, ({ next, request }) => next(HttpClientRequest.bearerToken(request, key)))
  )

/** A client of the API at `baseUrl` with `key`, over the `HttpClient` in context. */
export const make = (baseUrl: string) =>
  HttpApiClient.make(SpectralApi, {
    transformClient: HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(baseUrl)))
  })

/** A client of the API at `baseUrl` with `key`, on `fetch`. */
export const makeWithKey = (baseUrl: string, key: string): Effect.Effect<SpectralApiClient> =>
  make(baseUrl).pipe(Effect.provide(Layer.mergeAll(bearerKey(key), FetchHttpClient.layer)))
