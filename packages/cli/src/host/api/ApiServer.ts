/**
 * The host API as router layers: every group's handlers, the key middleware, request validation
 * failures as 400 problems naming the field (`errors[].path`), the OpenAPI document at
 * `/openapi.json` and browsable docs (Scalar) at `/docs`. Needs the repositories (any storage
 * driver); `spectral serve` mounts it beside the OTLP receiver.
 */
import { Layer } from "effect"
import { HttpApiBuilder, HttpApiMiddleware, HttpApiScalar } from "effect/http-api"
import { ChangeSets } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { ApiAuthorizationLayer } from "./ApiAuthorizationServer.ts"
import { ApiKeysHandlers } from "./ApiKeysHandlers.ts"
import { CardsHandlers } from "./CardsHandlers.ts"
import { ChangeSetsHandlers } from "./ChangeSetsHandlers.ts"
import { ScansHandlers } from "./ScansHandlers.ts"
import { WorkspacesHandlers } from "./WorkspacesHandlers.ts"

export const openApiPath = "/openapi.json"
export const docsPath = "/docs"

const handlers = Layer.mergeAll(WorkspacesHandlers, ScansHandlers, ChangeSetsHandlers, CardsHandlers, ApiKeysHandlers).pipe(
  Layer.provide(ChangeSets.layer)
)

/** The API's routes, the OpenAPI document and the docs page (add to any HttpRouter). */
export const routes = Layer.mergeAll(
  HttpApiBuilder.layer(SpectralApi, { openapiPath: openApiPath }).pipe(
    Layer.provide(handlers),
    Layer.provide([ApiAuthorizationLayer, HttpApiMiddleware.layerProblemDetails({ includeDetails: true })])
  ),
  HttpApiScalar.layer(SpectralApi, { path: docsPath })
)
