/**
 * Handlers of the `apiKeys` group (admin scope): list the workspace's keys (ids and scopes, never a
 * key), issue one (shown once), revoke one (it authenticates nothing afterwards).
 */
import { Clock, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { type ApiKey, ApiKeyRepo } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { notFound } from "./ApiErrors.ts"
import { apiKeyId, issueApiKey } from "./ApiKeys.ts"

const info = (key: ApiKey) => ({
  keyId: apiKeyId(key.keyHash),
  scope: key.scope,
  label: key.label,
  createdAt: key.createdAt,
  ...(key.revokedAt === undefined ? {} : { revokedAt: key.revokedAt })
})

export const ApiKeysHandlers = HttpApiBuilder.group(
  SpectralApi,
  "apiKeys",
  Effect.fn(function*(handlers) {
    const keys = yield* ApiKeyRepo
    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          return (yield* stored(keys.list(workspaceId))).map(info)
        }))
      .handle("issue", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          return yield* stored(issueApiKey(workspaceId, payload.scope, payload.label).pipe(Effect.provideService(ApiKeyRepo, keys)))
        }))
      .handle("revoke", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          const key = (yield* stored(keys.list(workspaceId))).find((k) => apiKeyId(k.keyHash) === params.keyId)
          if (key === undefined) return yield* notFound("api key", params.keyId)
          if (key.revokedAt !== undefined) return info(key)
          const revoked: ApiKey = { ...key, revokedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
          yield* stored(keys.save(revoked))
          return info(revoked)
        }))
  })
)
