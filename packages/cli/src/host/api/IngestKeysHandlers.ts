/**
 * Handlers of the `ingestKeys` group (admin scope): the workspace's OTLP ingest keys (ids, labels,
 * dates — never a key; stored only as their SHA-256 hash, `IngestKeyRepo`), issuing one (the key
 * shown once) and revoking one (the receiver refuses it afterwards).
 */
import { Clock, Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { hashIngestKey, issueIngestKey } from "@spectral/adapters"
import { type IngestKey, IngestKeyRepo } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { notFound } from "./ApiErrors.ts"
import { apiKeyId } from "./ApiKeys.ts"

const info = (key: IngestKey) => ({
  keyId: apiKeyId(key.keyHash),
  label: key.label,
  createdAt: key.createdAt,
  ...(key.revokedAt === undefined ? {} : { revokedAt: key.revokedAt })
})

export const IngestKeysHandlers = HttpApiBuilder.group(
  SpectralApi,
  "ingestKeys",
  Effect.fn(function*(handlers) {
    const keys = yield* IngestKeyRepo
    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          return (yield* stored(keys.list(workspaceId))).map(info)
        }))
      .handle("issue", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          const key = yield* stored(issueIngestKey(workspaceId, payload.label).pipe(Effect.provideService(IngestKeyRepo, keys)))
          return { workspaceId, keyId: apiKeyId(hashIngestKey(key)), key }
        }))
      .handle("revoke", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          const key = (yield* stored(keys.list(workspaceId))).find((k) => apiKeyId(k.keyHash) === params.keyId)
          if (key === undefined) return yield* notFound("ingest key", params.keyId)
          if (key.revokedAt !== undefined) return info(key)
          const revoked: IngestKey = { ...key, revokedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
          yield* stored(keys.save(revoked))
          return info(revoked)
        }))
  })
)
