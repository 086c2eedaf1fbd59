/**
 * The host API as router layers: every group's handlers, the key middleware (bearer; the progress
 * stream also `?key=`), the body limit (413), request validation failures as 400 problems naming
 * the field (`errors[].path`), the OpenAPI document at `/openapi.json` and browsable docs (Scalar)
 * at `/docs`. Needs the store with its event bus (`Storage.SqlStore`: scans started through the API
 * run on it) and the service's `Lifecycle` (the last sweep); `spectral serve` mounts it beside the
 * OTLP receiver.
 */
import { Layer } from "effect"
import { HttpApiBuilder, HttpApiMiddleware, HttpApiScalar } from "effect/http-api"
import { ChangeSets } from "@spectral/engine"
import { WorldRegistry } from "@spectral/worlds"
import { SpectralApi } from "./Api.ts"
import { ApiAuthorizationLayer, ApiStreamAuthorizationLayer } from "./ApiAuthorizationServer.ts"
import * as ApiBodyLimit from "./ApiBodyLimit.ts"
import { ApiKeysHandlers } from "./ApiKeysHandlers.ts"
import { ApiScanRunner } from "./ApiScanRunner.ts"
import { CardsHandlers } from "./CardsHandlers.ts"
import { ChangeSetsHandlers } from "./ChangeSetsHandlers.ts"
import { IngestKeysHandlers } from "./IngestKeysHandlers.ts"
import { ProgressHandlers } from "./ProgressHandlers.ts"
import { RetentionHandlers } from "./RetentionHandlers.ts"
import { SamplesHandlers } from "./SamplesHandlers.ts"
import { ScansHandlers } from "./ScansHandlers.ts"
import { SupervisorHandlers } from "./SupervisorHandlers.ts"
import { WorkspacesHandlers } from "./WorkspacesHandlers.ts"
import { WorldModelsHandlers } from "./WorldModelsHandlers.ts"

export const openApiPath = "/openapi.json"
export const docsPath = "/docs"

const handlers = Layer.mergeAll(
  WorkspacesHandlers,
  ScansHandlers,
  ProgressHandlers,
  SupervisorHandlers,
  ChangeSetsHandlers,
  CardsHandlers,
  WorldModelsHandlers,
  SamplesHandlers,
  RetentionHandlers,
  ApiKeysHandlers,
  IngestKeysHandlers
).pipe(
  Layer.provide([ChangeSets.layer, ApiScanRunner.layer, WorldRegistry.layer])
)

/** The API's routes, the OpenAPI document and the docs page (add to any HttpRouter). */
export const routes = Layer.mergeAll(
  HttpApiBuilder.layer(SpectralApi, { openapiPath: openApiPath }).pipe(
    Layer.provide(handlers),
    Layer.provide([
      ApiAuthorizationLayer,
      ApiStreamAuthorizationLayer,
      ApiBodyLimit.layerConfig,
      HttpApiMiddleware.layerProblemDetails({ includeDetails: true })
    ])
  ),
  HttpApiScalar.layer(SpectralApi, { path: docsPath })
)
