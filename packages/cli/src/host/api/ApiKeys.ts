/**
 * Per-workspace API keys: a random bearer key with a scope (read < write < admin), stored only as
 * its SHA-256 hash (like the OTLP ingest keys, in `ApiKeyRepo`). The key names its workspace; a
 * missing, unknown or revoked key authenticates nothing, and each says so. A key's public id is
 * the first 16 hex digits of its hash.
 */
import { createHash, randomBytes } from "node:crypto"
import { Clock, Effect, Schema } from "effect"
import { type ApiKey, ApiKeyRepo, type ApiKeyScope, StorageError } from "@spectral/engine"
import { isWorkspaceId } from "@spectral/engine/contracts"

export const hashApiKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

export const apiKeyId = (keyHash: string): string => keyHash.slice(0, 16)

const rank: Record<ApiKeyScope, number> = { read: 0, write: 1, admin: 2 }

/** Whether a key of scope `held` may use an endpoint needing `needed`. */
export const scopeAllows = (held: ApiKeyScope, needed: ApiKeyScope): boolean => rank[held] >= rank[needed]

/**
 * `WORKSPACE[:scope]` (scope read by default) as `spectral serve --issue-api-key` takes it; the text
 * after the last colon is the scope, so a workspace id with a colon needs an explicit one. Returns
 * the problem in words when it is not one.
 */
export const parseKeyRequest = (text: string): { readonly workspaceId: string; readonly scope: ApiKeyScope } | string => {
  const at = text.lastIndexOf(":")
  const tail = at < 0 ? undefined : text.slice(at + 1)
  if (tail !== undefined && tail !== "read" && tail !== "write" && tail !== "admin") {
    return `unknown scope "${tail}" in "${text}": use WORKSPACE[:read|write|admin]`
  }
  const workspaceId = tail === undefined ? text : text.slice(0, at)
  if (!isWorkspaceId(workspaceId)) return `"${text}" names no workspace: use WORKSPACE[:read|write|admin]`
  return { workspaceId, scope: tail ?? "read" }
}

/** Issue a key for a workspace (never the empty id); the plain key is returned once and never stored. */
export const issueApiKey = Effect.fn("ApiKeys.issue")(function*(workspaceId: string, scope: ApiKeyScope, label: string) {
  if (!isWorkspaceId(workspaceId)) {
    return yield* StorageError.refused("api key", label, "the empty workspace id names no workspace: issue keys for a real one")
  }
  const repo = yield* ApiKeyRepo
  const key = `spa_${randomBytes(24).toString("base64url")}`
  const keyHash = hashApiKey(key)
  const createdAt = new Date(yield* Clock.currentTimeMillis).toISOString()
  yield* repo.save({ workspaceId, keyHash, scope, label, createdAt })
  return { workspaceId, scope, keyId: apiKeyId(keyHash), key }
})

/** Why a key authenticates nothing. */
export class ApiKeyRefused extends Schema.TaggedError<ApiKeyRefused>()("ApiKeyRefused", {
  reason: Schema.Literals(["missing", "unknown", "revoked"]),
  message: Schema.String
}) {}

/** The stored key a bearer key is, or why not (missing, unknown, revoked). Storage failures other than NotFound pass through. */
export const authenticateApiKey = Effect.fn("ApiKeys.authenticate")(function*(key: string) {
  if (key.trim() === "") {
    return yield* new ApiKeyRefused({ reason: "missing", message: "missing API key: send Authorization: Bearer <key>" })
  }
  const repo = yield* ApiKeyRepo
  const found: ApiKey = yield* repo.findByHash(hashApiKey(key)).pipe(
    Effect.catchTag("StorageError", (error): Effect.Effect<never, ApiKeyRefused | StorageError> =>
      error.reason._tag === "NotFound"
        ? Effect.fail(new ApiKeyRefused({ reason: "unknown", message: "unknown API key: it was never issued (or belongs to another store)" }))
        : Effect.fail(error))
  )
  if (found.revokedAt !== undefined) {
    return yield* new ApiKeyRefused({ reason: "revoked", message: `revoked API key ${apiKeyId(found.keyHash)} (revoked at ${found.revokedAt})` })
  }
  if (!isWorkspaceId(found.workspaceId)) {
    return yield* new ApiKeyRefused({ reason: "unknown", message: "unknown API key: it names no workspace" })
  }
  return found
})
