/**
 * The model response cache in the SQL store: `spectral.response_cache`, one row per (workspace,
 * request hash), holding the provider's successful response body. The workspace is the calling
 * fiber's `CallContext` (the port runs `get`/`put` on the calling fiber), so row-level security
 * scopes every lookup and a cached answer never crosses workspaces; a call made outside any
 * workspace (the context's default, the empty id) is neither looked up nor stored. A re-run of an unchanged scan
 * finds every answer here and makes no model call. What may be cached is the provider's decision.
 */
import { CallContext } from "@spectral/engine"
import { isWorkspaceId } from "@spectral/engine/contracts"
import type { PgClient } from "@effect/sql-pg"
import { Effect, Option } from "effect"
import { ResponseCache, ResponseCacheError } from "../../llm/ResponseCache.ts"
import { makeWorkspaceTransaction } from "./WorkspaceTransaction.ts"

export const makeSqlResponseCache = (
  sql: PgClient.PgClient,
  options: { readonly assumeRole?: string | undefined } = {}
): ResponseCache["Service"] => {
  const tx = makeWorkspaceTransaction(sql, options)
  return ResponseCache.of({
    get: (key) =>
      Effect.gen(function*() {
        const { workspaceId } = yield* CallContext
        if (!isWorkspaceId(workspaceId)) return Option.none()
        const rows = yield* tx.transactional(
          workspaceId,
          sql<{ readonly response: string }>`SELECT doc ->> 'response' AS response FROM spectral.response_cache
              WHERE workspace_id = ${workspaceId} AND key = ${key}`
        )
        return Option.fromUndefinedOr(rows[0]?.response ?? undefined)
      }).pipe(Effect.mapError((cause) => new ResponseCacheError({ operation: "get", cause }))),
    put: (key, responseJson) =>
      Effect.gen(function*() {
        const { workspaceId } = yield* CallContext
        if (!isWorkspaceId(workspaceId)) return
        yield* tx.transactional(
          workspaceId,
          sql`INSERT INTO spectral.response_cache (workspace_id, key, doc)
              VALUES (${workspaceId}, ${key}, ${sql.json({ response: responseJson })})
              ON CONFLICT (workspace_id, key) DO UPDATE SET doc = EXCLUDED.doc, stored_at = now()`
        )
      }).pipe(Effect.mapError((cause) => new ResponseCacheError({ operation: "put", cause })))
  })
}
