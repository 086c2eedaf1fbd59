/**
 * The change-set lifecycle as a guarded state machine, and the human approval workflow. Status
 * moves only along the table below; an illegal transition is a typed error and changes nothing.
 * Every action (transitions, approve, reject with reason, snooze until a date, assign to a person)
 * appends to the audit trail, which is never rewritten. Snooze and assign apply to a change set
 * awaiting a decision (`proposed`); anything else is an `InvalidApproval` and records nothing.
 * `approvalState` folds the trail into who it is assigned to and until when it is snoozed.
 * Moves of several change sets (accept, rollback) run in one `UnitOfWork`, the target first.
 * `create` records a new change set with its one `created` audit entry (its id is derived from the
 * change set's, so the trail can never hold two) in one unit of work.
 *
 *   proposed → accepted | rejected
 *   accepted → superseded (a newer change set was accepted) | rejected (rolled back)
 *   superseded → accepted (restored by a rollback)
 *   validated, rejected: final
 */
import { Clock, Context, Effect, Layer, Schema } from "effect"
import type { ChangeSet, ChangeSetStatus } from "../contracts/index.ts"
import { ChangeSetRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { UnitOfWork } from "../ports/UnitOfWork.ts"
import { hashHex } from "../random/Deterministic.ts"
import { nowIso } from "../clock/Time.ts"

export const allowedTransitions: Readonly<Record<ChangeSetStatus, ReadonlyArray<ChangeSetStatus>>> = {
  proposed: ["accepted", "rejected"],
  accepted: ["superseded", "rejected"],
  superseded: ["accepted"],
  validated: [],
  rejected: []
}

/** The id of a change set's one `created` audit entry. */
export const createdAuditId = (changeSetId: string): string => `${changeSetId}:created`

export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  changeSetId: Schema.String,
  from: Schema.String,
  to: Schema.String,
  message: Schema.String
}) {}

/** A human approval action that does not apply (wrong status, empty reason, a date that is not one). */
export class InvalidApproval extends Schema.TaggedError<InvalidApproval>()("InvalidApproval", {
  changeSetId: Schema.String,
  action: Schema.String,
  message: Schema.String
}) {}

/** Where a change set stands in the human workflow, read from its audit trail. */
export interface ApprovalState {
  readonly status: ChangeSetStatus
  readonly assignee: string | null
  /** ISO instant; null when not snoozed. */
  readonly snoozedUntil: string | null
  /** True while snoozed at `now`. */
  readonly snoozed: boolean
  /** True when a person must decide: proposed and not snoozed. */
  readonly awaitingDecision: boolean
}

export class ChangeSets extends Context.Service<ChangeSets, {
  /**
   * Record a new change set and its `created` audit entry as one unit of work. A change set whose
   * id or version is taken fails with a Conflict and records nothing (the caller picks the next version).
   */
  readonly create: (changeSet: ChangeSet, actor: string, detail: string) => Effect.Effect<ChangeSet, StorageError>
  readonly transition: (
    workspaceId: string,
    changeSetId: string,
    to: ChangeSetStatus,
    actor: string,
    detail: string,
    patch?: (changeSet: ChangeSet) => ChangeSet
  ) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  /**
   * Accept, superseding the currently accepted change set of the workspace (if any), as one unit of
   * work: the target's transition first, so a concurrent change to it fails the accept before the
   * current one is superseded.
   */
  readonly accept: (workspaceId: string, changeSetId: string, actor: string, detail: string) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  /**
   * Roll an accepted change set back: restore `restoreId` (superseded → accepted) first, then reject
   * `changeSetId` (accepted → rejected), as one unit of work; `why` goes into both audit entries.
   */
  readonly rollback: (
    workspaceId: string,
    changeSetId: string,
    restoreId: string | null,
    actor: string,
    why: string
  ) => Effect.Effect<{ readonly rejected: ChangeSet; readonly restored: ChangeSet | null }, IllegalTransition | StorageError>
  readonly approve: (workspaceId: string, changeSetId: string, actor: string) => Effect.Effect<ChangeSet, IllegalTransition | StorageError>
  /** Reject with a reason (required, recorded in the audit trail). */
  readonly reject: (workspaceId: string, changeSetId: string, actor: string, reason: string) => Effect.Effect<ChangeSet, IllegalTransition | InvalidApproval | StorageError>
  /** Snooze a proposed change set until an ISO date or instant in the future. */
  readonly snooze: (workspaceId: string, changeSetId: string, actor: string, until: string) => Effect.Effect<void, InvalidApproval | StorageError>
  /** Assign a proposed change set to a person. */
  readonly assign: (workspaceId: string, changeSetId: string, actor: string, assignee: string) => Effect.Effect<void, InvalidApproval | StorageError>
  readonly note: (workspaceId: string, changeSetId: string, action: string, actor: string, detail: string) => Effect.Effect<void, StorageError>
  readonly approvalState: (workspaceId: string, changeSetId: string) => Effect.Effect<ApprovalState, StorageError>
}>()("@spectral/engine/changesets/ChangeSets") {
  static readonly layer = Layer.effect(
    ChangeSets,
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const unitOfWork = yield* UnitOfWork
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
      const create = Effect.fn("ChangeSets.create")(function*(changeSet: ChangeSet, actor: string, detail: string) {
        return yield* unitOfWork.transactional(changeSet.workspaceId, Effect.gen(function*() {
          yield* repo.insert(changeSet)
          yield* repo.appendAudit({
            id: createdAuditId(changeSet.id),
            workspaceId: changeSet.workspaceId,
            changeSetId: changeSet.id,
            action: "created",
            actor,
            from: null,
            to: changeSet.status,
            detail,
            at: changeSet.createdAt
          })
          return changeSet
        }))
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
      // The target moves first (its compare-and-set on the status it was read with), then the
      // others follow, all in one unit of work: a concurrent change to the target fails the accept
      // before anything else moved, so the workspace never loses its accepted change set.
      const accept = Effect.fn("ChangeSets.accept")(function*(workspaceId: string, changeSetId: string, actor: string, detail: string) {
        return yield* unitOfWork.transactional(workspaceId, Effect.gen(function*() {
          const accepted = yield* transition(workspaceId, changeSetId, "accepted", actor, detail)
          for (const other of yield* repo.list(workspaceId)) {
            if (other.status === "accepted" && other.id !== changeSetId) {
              yield* transition(workspaceId, other.id, "superseded", actor, `superseded by ${changeSetId} (v${accepted.version})`)
            }
          }
          return accepted
        }))
      })
      const rollback = Effect.fn("ChangeSets.rollback")(function*(workspaceId: string, changeSetId: string, restoreId: string | null, actor: string, why: string) {
        return yield* unitOfWork.transactional(workspaceId, Effect.gen(function*() {
          const target = yield* repo.get(workspaceId, changeSetId)
          const restored = restoreId === null
            ? null
            : yield* transition(workspaceId, restoreId, "accepted", actor, `restored by rollback of v${target.version}: ${why}`)
          const rejected = yield* transition(workspaceId, changeSetId, "rejected", actor, `rolled back: ${why}`)
          return { rejected, restored }
        }))
      })
      const pending = Effect.fnUntraced(function*(workspaceId: string, changeSetId: string, action: string) {
        const current = yield* repo.get(workspaceId, changeSetId)
        if (current.status !== "proposed") {
          return yield* new InvalidApproval({ changeSetId, action, message: `change set ${changeSetId} is ${current.status}: only a proposed change set awaits a decision` })
        }
        return current
      })
      const snooze = Effect.fn("ChangeSets.snooze")(function*(workspaceId: string, changeSetId: string, actor: string, until: string) {
        const millis = /^\d{4}-\d{2}-\d{2}/.test(until) ? Date.parse(until) : Number.NaN
        if (!Number.isFinite(millis)) {
          return yield* new InvalidApproval({ changeSetId, action: "snooze", message: `snooze needs an ISO date, got "${until}"` })
        }
        const now = yield* Clock.currentTimeMillis
        if (millis <= now) {
          return yield* new InvalidApproval({ changeSetId, action: "snooze", message: `snooze date ${until} is not in the future` })
        }
        const current = yield* pending(workspaceId, changeSetId, "snooze")
        yield* audit(current, "snooze", actor, null, null, `snoozed until ${new Date(millis).toISOString()}`)
      })
      const assign = Effect.fn("ChangeSets.assign")(function*(workspaceId: string, changeSetId: string, actor: string, assignee: string) {
        if (assignee.trim() === "") return yield* new InvalidApproval({ changeSetId, action: "assign", message: "assign needs a person" })
        const current = yield* pending(workspaceId, changeSetId, "assign")
        yield* audit(current, "assign", actor, null, null, `assigned to ${assignee}`)
      })
      const reject = Effect.fn("ChangeSets.reject")(function*(workspaceId: string, changeSetId: string, actor: string, reason: string) {
        if (reason.trim() === "") return yield* new InvalidApproval({ changeSetId, action: "reject", message: "a rejection needs a reason" })
        return yield* transition(workspaceId, changeSetId, "rejected", actor, `rejected: ${reason}`)
      })
      const approvalState = Effect.fn("ChangeSets.approvalState")(function*(workspaceId: string, changeSetId: string) {
        const current = yield* repo.get(workspaceId, changeSetId)
        let assignee: string | null = null
        let snoozedUntil: string | null = null
        for (const entry of yield* repo.audit(workspaceId, changeSetId)) {
          if (entry.action === "assign") assignee = entry.detail.replace(/^assigned to /, "")
          if (entry.action === "snooze") snoozedUntil = entry.detail.replace(/^snoozed until /, "")
        }
        const now = yield* Clock.currentTimeMillis
        const snoozed = current.status === "proposed" && snoozedUntil !== null && Date.parse(snoozedUntil) > now
        return { status: current.status, assignee, snoozedUntil, snoozed, awaitingDecision: current.status === "proposed" && !snoozed } satisfies ApprovalState
      })
      return ChangeSets.of({
        create,
        transition,
        accept,
        rollback,
        approve: (workspaceId, changeSetId, actor) => accept(workspaceId, changeSetId, actor, `approved by ${actor}`),
        reject,
        snooze,
        assign,
        note: (workspaceId, changeSetId, action, actor, detail) =>
          Effect.flatMap(repo.get(workspaceId, changeSetId), (cs) => audit(cs, action, actor, null, null, detail)),
        approvalState
      })
    })
  )
}
