/** Handlers of the `workspaces` group: read the key's workspace, declare or update it (write scope). */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { WorkspaceRepo } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiInvalid } from "./ApiErrors.ts"

export const WorkspacesHandlers = HttpApiBuilder.group(
  SpectralApi,
  "workspaces",
  Effect.fn(function*(handlers) {
    const workspaces = yield* WorkspaceRepo
    return handlers
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* stored(workspaces.get(workspaceId))
        }))
      .handle("declare", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          if (payload.id !== workspaceId) {
            return yield* new ApiInvalid({ message: `payload.id is "${payload.id}" but the path names workspace "${workspaceId}"` })
          }
          yield* stored(workspaces.upsert(payload))
          return yield* stored(workspaces.get(workspaceId))
        }))
  })
)
