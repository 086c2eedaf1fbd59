/**
 * Handlers of the `changeSets` group: the workspace's change sets, one with its approval state and
 * audit trail, and the decisions (approve / reject / snooze / assign) through the engine's
 * `ChangeSets` service, which writes the audit trail. A decision the change set's state does not
 * allow is 409 naming the state and changes nothing.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ChangeSetRepo, ChangeSets, type IllegalTransition, type InvalidApproval, type StorageError } from "@spectral/engine"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, fromStorage, stored } from "./ApiAccess.ts"
import { ApiConflict, ApiInvalid } from "./ApiErrors.ts"

export const ChangeSetsHandlers = HttpApiBuilder.group(
  SpectralApi,
  "changeSets",
  Effect.fn(function*(handlers) {
    const repo = yield* ChangeSetRepo
    const changeSets = yield* ChangeSets

    const detail = (workspaceId: string, changeSetId: string) =>
      stored(Effect.gen(function*() {
        const changeSet = yield* repo.get(workspaceId, changeSetId)
        const approval = yield* changeSets.approvalState(workspaceId, changeSetId)
        const audit = (yield* repo.audit(workspaceId, changeSetId)).map(({ workspaceId: _, ...entry }) => entry)
        return { changeSet, approval, audit }
      }))

    /** The change set awaits a decision (proposed), or 409 naming its state. */
    const awaitingDecision = (workspaceId: string, changeSetId: string, action: string) =>
      Effect.gen(function*() {
        const current = yield* stored(repo.get(workspaceId, changeSetId))
        if (current.status !== "proposed") {
          return yield* new ApiConflict({ message: `cannot ${action} change set ${changeSetId}: it is ${current.status}, and only a proposed change set awaits a decision` })
        }
      })

    const refused = (error: IllegalTransition | InvalidApproval) =>
      error._tag === "IllegalTransition" ? new ApiConflict({ message: error.message }) : new ApiInvalid({ message: error.message })

    /** A decision: the caller may write, the change set awaits it, the engine records it; the detail after. */
    const decide = (
      pathWorkspaceId: string,
      changeSetId: string,
      action: string,
      run: (workspaceId: string) => Effect.Effect<unknown, IllegalTransition | InvalidApproval | StorageError>
    ) =>
      Effect.gen(function*() {
        const workspaceId = yield* callerWorkspace(pathWorkspaceId, "write")
        yield* awaitingDecision(workspaceId, changeSetId, action)
        yield* run(workspaceId).pipe(Effect.catchTags({
          StorageError: fromStorage,
          IllegalTransition: (error) => Effect.fail(refused(error)),
          InvalidApproval: (error) => Effect.fail(refused(error))
        }))
        return yield* detail(workspaceId, changeSetId)
      })

    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* stored(repo.list(workspaceId))
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* detail(workspaceId, params.changeSetId)
        }))
      .handle("approve", ({ params, payload }) =>
        decide(params.workspaceId, params.changeSetId, "approve", (ws) => changeSets.approve(ws, params.changeSetId, payload.actor)))
      .handle("reject", ({ params, payload }) =>
        decide(params.workspaceId, params.changeSetId, "reject", (ws) => changeSets.reject(ws, params.changeSetId, payload.actor, payload.reason)))
      .handle("snooze", ({ params, payload }) =>
        decide(params.workspaceId, params.changeSetId, "snooze", (ws) => changeSets.snooze(ws, params.changeSetId, payload.actor, payload.until)))
      .handle("assign", ({ params, payload }) =>
        decide(params.workspaceId, params.changeSetId, "assign", (ws) => changeSets.assign(ws, params.changeSetId, payload.actor, payload.assignee)))
  })
)
