/**
 * Handlers of the `ingestKeys` group (admin scope): the workspace's OTLP ingest keys (ids, labels,
 * dates — never a key; stored only as their SHA-256 hash, `IngestKeyRepo`), issuing one (the key
 * shown once) and revoking one (the receiver refuses it afterwards). Listing and revoking are the
 * hashed keys' shared handlers (`HashedKeyAdmin`).
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { hashIngestKey, issueIngestKey } from "@spectral/adapters"
import { type IngestKey, IngestKeyRepo } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { apiKeyId } from "./ApiKeys.ts"
import { hashedKeyAdmin } from "./HashedKeyAdmin.ts"

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
    const admin = hashedKeyAdmin(keys, "ingest key", info)
    return handlers
      .handle("list", admin.list)
      .handle("issue", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
          const key = yield* stored(issueIngestKey(workspaceId, payload.label).pipe(Effect.provideService(IngestKeyRepo, keys)))
          return { workspaceId, keyId: apiKeyId(hashIngestKey(key)), key }
        }))
      .handle("revoke", admin.revoke)
  })
)
