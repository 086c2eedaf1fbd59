/**
 * The change-set lifecycle as a guarded state machine, and the human approval workflow. Status
 * moves only along the table below; an illegal transition is a typed error and changes nothing.
 * Every action (transitions, approve, reject with reason, snooze until a date, assign to a person)
 * appends to the audit trail, which is never rewritten.
 *
 *   proposed → accepted | rejected
 *   accepted → superseded (a newer change set was accepted) | rejected (rolled back)
 *   superseded → accepted (restored by a rollback)
 *   validated, rejected: final
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { ChangeSet, ChangeSetStatus } from "../contracts/index.ts"
import { ChangeSetRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { hashHex } from "../random/Deterministic.ts"
import { nowIso } from "../pipeline/Time.ts"

export const allowedTransitions: Readonly<Record<ChangeSetStatus, ReadonlyArray<ChangeSetStatus>>> = {
  proposed: ["accepted", "rejected"],
  accepted: ["superseded", "rejected"],
  superseded: ["accepted"],
  validated: [],
  rejected: []
}

export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  changeSetId: Schema.String,
  from: Schema.String,
  to: Schema.String,
  message: Schema.String
}) {}

export class ChangeSets extends Context.Service<ChangeSets, {
  readonly transition: (
    workspaceId: string,
    changeSetId: string,
    to: ChangeSetStatus,
    actor: string,
    detail: string,
    patch?: (changeSet: ChangeSet) => ChangeSet
  ) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  /** Accept, superseding the currently accepted change set of the workspace (if any). */
  readonly accept: (workspaceId: string, changeSetId: string, actor: string, detail: string) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  readonly approve: (workspaceId: string, changeSetId: string, actor: string) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  readonly reject: (workspaceId: string, changeSetId: string, actor: string, reason: string) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  readonly snooze: (workspaceId: string, changeSetId: string, actor: string, until: string) => Effect.Effect<void, StorageError>
  readonly assign: (workspaceId: string, changeSetId: string, actor: string, assignee: string) => Effect.Effect<void, StorageError>
  readonly note: (workspaceId: string, changeSetId: string, action: string, actor: string, detail: string) => Effect.Effect<void, StorageError>
}>()("@spectral/engine/changesets/ChangeSets") {
  static readonly layer = Layer.effect(
    ChangeSets,
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const audit = Effect.fnUntraced(function*(changeSet: ChangeSet, action: string, actor: string, from: ChangeSetStatus | null, to: ChangeSetStatus | null, detail: string) {
        const at = yield* nowIso
        yield* repo.appendAudit({
          id: hashHex(`${changeSet.id}|${action}|${at}|${detail}`) + `-${(yield* repo.audit(changeSet.workspaceId, changeSet.id)).length}`,
          workspaceId: changeSet.workspaceId,
          changeSetId: changeSet.id,
          action,
          actor,
          from,
          to,
          detail,
          at
        })
      })
      const transition = Effect.fn("ChangeSets.transition")(function*(
        workspaceId: string,
        changeSetId: string,
        to: ChangeSetStatus,
        actor: string,
        detail: string,
        patch?: (changeSet: ChangeSet) => ChangeSet
      ) {
        const current = yield* repo.get(workspaceId, changeSetId)
        if (!allowedTransitions[current.status].includes(to)) {
          return yield* new IllegalTransition({
            changeSetId,
            from: current.status,
            to,
            message: `change set ${changeSetId} cannot go from ${current.status} to ${to}`
          })
        }
        const next: ChangeSet = { ...(patch === undefined ? current : patch(current)), status: to, updatedAt: yield* nowIso }
        yield* repo.update(next, current.status)
        yield* audit(next, `status:${to}`, actor, current.status, to, detail)
        return next
      })
      const accept = Effect.fn("ChangeSets.accept")(function*(workspaceId: string, changeSetId: string, actor: string, detail: string) {
        const target = yield* repo.get(workspaceId, changeSetId)
        if (!allowedTransitions[target.status].includes("accepted")) {
          return yield* new IllegalTransition({ changeSetId, from: target.status, to: "accepted", message: `change set ${changeSetId} cannot go from ${target.status} to accepted` })
        }
        for (const other of yield* repo.list(workspaceId)) {
          if (other.status === "accepted" && other.id !== changeSetId) {
            yield* transition(workspaceId, other.id, "superseded", actor, `superseded by ${changeSetId} (v${target.version})`)
          }
        }
        return yield* transition(workspaceId, changeSetId, "accepted", actor, detail)
      })
      return ChangeSets.of({
        transition,
        accept,
        approve: (workspaceId, changeSetId, actor) => accept(workspaceId, changeSetId, actor, `approved by ${actor}`),
        reject: (workspaceId, changeSetId, actor, reason) => transition(workspaceId, changeSetId, "rejected", actor, `rejected: ${reason}`),
        snooze: (workspaceId, changeSetId, actor, until) =>
          Effect.flatMap(repo.get(workspaceId, changeSetId), (cs) => audit(cs, "snooze", actor, null, null, `snoozed until ${until}`)),
        assign: (workspaceId, changeSetId, actor, assignee) =>
          Effect.flatMap(repo.get(workspaceId, changeSetId), (cs) => audit(cs, "assign", actor, null, null, `assigned to ${assignee}`)),
        note: (workspaceId, changeSetId, action, actor, detail) =>
          Effect.flatMap(repo.get(workspaceId, changeSetId), (cs) => audit(cs, action, actor, null, null, detail))
      })
    })
  )
}
