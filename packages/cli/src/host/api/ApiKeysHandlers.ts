/**
 * Handlers of the `apiKeys` group (admin scope): list the workspace's keys (ids and scopes, never a
 * key), issue one (shown once), revoke one (it authenticates nothing afterwards). Listing and
 * revoking are the hashed keys' shared handlers (`HashedKeyAdmin`); an API key's info adds its scope.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { type ApiKey, ApiKeyRepo } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { apiKeyId, issueApiKey } from "./ApiKeys.ts"
import { hashedKeyAdmin } from "./HashedKeyAdmin.ts"

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
    const admin = hashedKeyAdmin(keys, "api key", info)
    return handlers
      .handle("list", admin.list)
      .handle("issue", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          return yield* stored(issueApiKey(workspaceId, payload.scope, payload.label).pipe(Effect.provideService(ApiKeyRepo, keys)))
        }))
      .handle("revoke", admin.revoke)
  })
)
