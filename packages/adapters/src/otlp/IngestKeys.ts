/**
 * OTLP ingest keys: a random bearer key per workspace, stored only as its SHA-256 hash. The key
 * names the workspace; a missing, unknown or revoked key, or one naming the empty workspace id,
 * authenticates nothing, and no key is issued for the empty id.
 */
import { createHash, randomBytes } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import { IngestKeyRepo, StorageError } from "@spectral/engine"
import { isWorkspaceId } from "@spectral/engine/contracts"

export const hashIngestKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

/** Issue a new key for a workspace (never the empty id); the plain key is returned once and never stored. */
export const issueIngestKey = Effect.fn("IngestKeys.issue")(function*(workspaceId: string, label: string) {
  if (!isWorkspaceId(workspaceId)) {
    return yield* StorageError.refused("ingest key", label, "the empty workspace id names no workspace: issue keys for a real one")
  }
  const repo = yield* IngestKeyRepo
  const key = `spk_${randomBytes(24).toString("base64url")}`
  const createdAt = new Date(yield* Clock.currentTimeMillis).toISOString()
  yield* repo.save({ workspaceId, keyHash: hashIngestKey(key), label, createdAt })
  return key
})

/** The workspace a bearer key belongs to, or none (unknown, revoked, or storage said not found). */
export const workspaceForKey = Effect.fn("IngestKeys.workspaceForKey")(function*(key: string) {
  const repo = yield* IngestKeyRepo
  const found = yield* repo.findByHash(hashIngestKey(key)).pipe(
    Effect.map(Option.some),
    Effect.catchTag("StorageError", (error) => error.reason._tag === "NotFound" ? Effect.succeed(Option.none()) : Effect.fail(error))
  )
  return Option.filter(found, (k) => k.revokedAt === undefined && isWorkspaceId(k.workspaceId)).pipe(Option.map((k) => k.workspaceId))
})
