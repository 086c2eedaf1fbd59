/**
 * What the `apiKeys` and `ingestKeys` groups share (admin scope): a workspace's keys stored only as
 * their SHA-256 hash, listed by public id (`apiKeyId`: never a key) and revoked by it (404 for an id
 * the workspace has none of; revoking a revoked key changes nothing and says how it stands). Issuing
 * differs per kind of key and stays with each group's handlers, as does what a key's info shows.
 */
import { Clock, Effect } from "effect"
import type { StorageError } from "@spectral/engine"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { notFound } from "./ApiErrors.ts"
import { apiKeyId } from "./ApiKeys.ts"

/** A stored key as far as listing and revoking need it. */
export interface HashedKey {
  readonly keyHash: string
  readonly revokedAt?: string
}

/** The store of one kind of key: `list` the workspace's (revoked ones included), `save` by hash. */
export interface HashedKeyStore<K extends HashedKey> {
  readonly list: (workspaceId: string) => Effect.Effect<ReadonlyArray<K>, StorageError>
  readonly save: (key: K) => Effect.Effect<void, StorageError>
}

/**
 * The `list` and `revoke` handlers over `store`; `entity` names the kind of key in a 404
 * ("api key", "ingest key"), `info` is what the API shows of a key.
 */
export const hashedKeyAdmin = <K extends HashedKey, I>(store: HashedKeyStore<K>, entity: string, info: (key: K) => I) => ({
  list: ({ params }: { readonly params: { readonly workspaceId: string } }) =>
    Effect.gen(function*() {
      const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
      return (yield* stored(store.list(workspaceId))).map(info)
    }),
  revoke: ({ params }: { readonly params: { readonly workspaceId: string; readonly keyId: string } }) =>
    Effect.gen(function*() {
      const workspaceId = yield* callerWorkspace(params.workspaceId, "admin")
      const key = (yield* stored(store.list(workspaceId))).find((k) => apiKeyId(k.keyHash) === params.keyId)
      if (key === undefined) return yield* notFound(entity, params.keyId)
      if (key.revokedAt !== undefined) return info(key)
      const revoked: K = { ...key, revokedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
      yield* stored(store.save(revoked))
      return info(revoked)
    })
})
