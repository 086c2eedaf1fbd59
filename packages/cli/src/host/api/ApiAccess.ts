/**
 * What every handler does first and last: run in the caller's workspace (a path naming another
 * workspace is 404, never 403, so no key learns what exists elsewhere), check the key's scope
 * there (403), and turn storage failures into the API's errors (NotFound 404, Conflict 409,
 * Unavailable 503; Refused reads as not found; anything else is a defect, a bare 500).
 */
import { Effect } from "effect"
import type { ApiKeyScope, StorageError } from "@spectral/engine"
import { ApiCaller } from "./ApiAuthorization.ts"
import { ApiConflict, ApiForbidden, ApiNotFound, ApiUnavailable, notFound } from "./ApiErrors.ts"
import { scopeAllows } from "./ApiKeys.ts"

/** The caller's workspace id when the path names it and the key's scope allows `needed`. */
export const callerWorkspace = (pathWorkspaceId: string, needed: ApiKeyScope) =>
  Effect.gen(function*() {
    const caller = yield* ApiCaller
    if (caller.workspaceId !== pathWorkspaceId) return yield* notFound("workspace", pathWorkspaceId)
    if (!scopeAllows(caller.scope, needed)) {
      return yield* new ApiForbidden({ message: `this API key has scope ${caller.scope}: the endpoint needs ${needed}` })
    }
    return caller.workspaceId
  })

/** A storage failure as the API says it. */
export const fromStorage = (error: StorageError): Effect.Effect<never, ApiNotFound | ApiConflict | ApiUnavailable> => {
  const reason = error.reason
  switch (reason._tag) {
    case "NotFound":
    case "Refused":
      return Effect.fail(notFound(reason.entity, reason.id))
    case "Conflict":
      return Effect.fail(new ApiConflict({ message: error.message }))
    case "Unavailable":
      return Effect.fail(new ApiUnavailable({ message: error.message }))
    case "Corrupt":
      return Effect.die(error)
  }
}

/** Run a storage effect, its failures said as the API's. */
export const stored = <A, R>(effect: Effect.Effect<A, StorageError, R>) => Effect.catchTag(effect, "StorageError", fromStorage)
