/**
 * The API's authentication middleware as a definition (shared with clients): a bearer key in
 * `Authorization`, resolved by the server to the key's workspace and scope (`ApiCaller`). The
 * implementation is in `ApiAuthorizationServer.ts`; the client side in `ApiClient.ts`.
 */
import { Context } from "effect"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import type { ApiKeyScope } from "@spectral/engine"
import { ApiUnauthorized, ApiUnavailable } from "./ApiErrors.ts"

/** Who is calling: the key's workspace (every request runs in it), its scope and label. */
export class ApiCaller extends Context.Service<ApiCaller, {
  readonly workspaceId: string
  readonly scope: ApiKeyScope
  readonly label: string
}>()("@spectral/cli/host/api/ApiCaller") {}

export class ApiAuthorization extends HttpApiMiddleware.Service<ApiAuthorization, {
  provides: ApiCaller
  requires: never
}>()("@spectral/cli/host/api/ApiAuthorization", {
  requiredForClient: true,
  security: { bearer: HttpApiSecurity.bearer },
  error: [ApiUnauthorized, ApiUnavailable]
}) {}

/**
 * The key middleware of the progress stream: the bearer key, or `?key=` in the query — a browser's
 * `EventSource` cannot set headers. Only the progress endpoint accepts a key in its URL (URLs end up
 * in logs and histories); every other endpoint wants `Authorization: Bearer`.
 */
export class ApiStreamAuthorization extends HttpApiMiddleware.Service<ApiStreamAuthorization, {
  provides: ApiCaller
  requires: never
}>()("@spectral/cli/host/api/ApiStreamAuthorization", {
  requiredForClient: true,
  security: { query: HttpApiSecurity.apiKey({ in: "query", key: "key" }), bearer: HttpApiSecurity.bearer },
  error: [ApiUnauthorized, ApiUnavailable]
}) {}
