/**
 * Handlers of the `retention` group: the workspace's legal holds, placing one and releasing one
 * (write scope; both audited by the engine's `placeLegalHold` / `releaseLegalHold`, a hold already
 * released is 409), and the last retention sweep this service's lifecycle ran for the workspace
 * (404 until one has).
 */
import { randomUUID } from "node:crypto"
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { type LegalHold, placeLegalHold, releaseLegalHold, RetentionRepo } from "@spectral/engine"
import { Lifecycle } from "../Lifecycle.ts"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiConflict, ApiNotFound, notFound } from "./ApiErrors.ts"

const info = ({ releasedAt, ...hold }: LegalHold) => ({ ...hold, traceIds: [...hold.traceIds], ...(releasedAt === undefined ? {} : { releasedAt }) })

export const RetentionHandlers = HttpApiBuilder.group(
  SpectralApi,
  "retention",
  Effect.fn(function*(handlers) {
    const retention = yield* RetentionRepo
    const lifecycle = yield* Lifecycle
    const withRepo = <A, E>(effect: Effect.Effect<A, E, RetentionRepo>) => Effect.provideService(effect, RetentionRepo, retention)
    const holdOf = (workspaceId: string, holdId: string) =>
      Effect.gen(function*() {
        const hold = (yield* stored(retention.holds(workspaceId))).find((h) => h.id === holdId)
        if (hold === undefined) return yield* notFound("legal hold", holdId)
        return hold
      })
    return handlers
      .handle("holds", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return (yield* stored(retention.holds(workspaceId))).map(info)
        }))
      .handle("placeHold", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          const id = payload.id ?? `hold-${randomUUID()}`
          const existing = (yield* stored(retention.holds(workspaceId))).find((h) => h.id === id)
          if (existing !== undefined) {
            return yield* new ApiConflict({ message: `legal hold ${id} already exists (${existing.releasedAt === undefined ? "in force" : `released at ${existing.releasedAt}`})` })
          }
          const placed = yield* stored(withRepo(placeLegalHold({ id, workspaceId, traceIds: payload.traceIds, reason: payload.reason }, payload.actor)))
          return info(placed)
        }))
      .handle("releaseHold", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          const hold = yield* holdOf(workspaceId, params.holdId)
          if (hold.releasedAt !== undefined) {
            return yield* new ApiConflict({ message: `cannot release legal hold ${hold.id}: it is released (at ${hold.releasedAt})` })
          }
          yield* stored(withRepo(releaseLegalHold(workspaceId, hold.id, payload.actor)))
          return info(yield* holdOf(workspaceId, hold.id))
        }))
      .handle("lastSweep", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const pass = yield* lifecycle.lastPass
          const mine = pass?.workspaces.find((w) => w.workspaceId === workspaceId)
          if (pass === undefined || mine === undefined) {
            return yield* new ApiNotFound({
              entity: "retention sweep",
              id: workspaceId,
              message: pass === undefined
                ? "no lifecycle pass has completed in this service yet"
                : `the last lifecycle pass (${pass.finishedAt}) had no retention work in workspace ${workspaceId}`
            })
          }
          return {
            pass: pass.pass,
            startedAt: pass.startedAt,
            finishedAt: pass.finishedAt,
            report: mine.sweep === undefined ? null : { ...mine.sweep, held: [...mine.sweep.held] },
            failures: [...mine.failures]
          }
        }))
  })
)
