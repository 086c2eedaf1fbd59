/**
 * Handlers of the `changeSets` group: the workspace's change sets, one with its approval state and
 * audit trail, its diff against its baseline (every changed field of its agents, `changeSetDiff`),
 * and the decisions (approve / reject / snooze / assign) through the engine's
 * `ChangeSets` service, which writes the audit trail. A decision the change set's state does not
 * allow is 409 naming the state and changes nothing.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ChangeSetRepo, ChangeSets, type IllegalTransition, type InvalidApproval, ScanRepo, type StorageError, WorkspaceRepo } from "@spectral/engine"
import type { AgentVersion } from "@spectral/engine/contracts"
import { SpectralApi } from "./Api.ts"
import type { ChangeSetDiff, FieldChange } from "./ApiModels.ts"
import { callerWorkspace, fromStorage, stored } from "./ApiAccess.ts"
import { ApiConflict, ApiInvalid } from "./ApiErrors.ts"

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value)

/** Every leaf under `path` where `baseline` and `proposed` differ (objects descend; arrays and scalars compare whole). */
const fieldChanges = (path: string, baseline: unknown, proposed: unknown, out: Array<FieldChange>): void => {
  if (isRecord(baseline) && isRecord(proposed)) {
    for (const key of [...new Set([...Object.keys(baseline), ...Object.keys(proposed)])].sort()) {
      fieldChanges(`${path}.${key}`, baseline[key], proposed[key], out)
    }
    return
  }
  if (JSON.stringify(baseline) === JSON.stringify(proposed)) return
  if (isRecord(baseline) || isRecord(proposed)) {
    // One side is an object and the other is not (or absent): its leaves, against nothing.
    const side = isRecord(baseline) ? baseline : (proposed as Record<string, unknown>)
    for (const key of Object.keys(side).sort()) {
      fieldChanges(`${path}.${key}`, isRecord(baseline) ? baseline[key] : undefined, isRecord(proposed) ? proposed[key] : undefined, out)
    }
    return
  }
  out.push({ path, baseline: baseline ?? null, proposed: proposed ?? null })
}

/** The changed fields of `proposed` agents against `baseline` ones, agent by agent (paths `agents.<id>.<field>…`). */
export const agentChanges = (baseline: ReadonlyArray<AgentVersion>, proposed: ReadonlyArray<AgentVersion>): ReadonlyArray<FieldChange> => {
  const out: Array<FieldChange> = []
  const ids = [...new Set([...proposed.map((a) => a.agentId), ...baseline.map((a) => a.agentId)])]
  for (const id of ids) {
    const { agentId: _b, ...before } = baseline.find((a) => a.agentId === id) ?? { agentId: id }
    const { agentId: _p, ...after } = proposed.find((a) => a.agentId === id) ?? { agentId: id }
    fieldChanges(`agents.${id}`, before, after, out)
  }
  return out
}

export const ChangeSetsHandlers = HttpApiBuilder.group(
  SpectralApi,
  "changeSets",
  Effect.fn(function*(handlers) {
    const repo = yield* ChangeSetRepo
    const changeSets = yield* ChangeSets
    const scans = yield* ScanRepo
    const workspaces = yield* WorkspaceRepo

    /** What the change set is compared with: its scan's measured baseline, else its baseline change set, else the declaration. */
    const changeSetDiff = (workspaceId: string, changeSetId: string) =>
      stored(Effect.gen(function*() {
        const changeSet = yield* repo.get(workspaceId, changeSetId)
        const scan = yield* Effect.option(scans.get(workspaceId, changeSet.scanId))
        const recorded = scan._tag === "Some" ? scan.value.record?.agents : undefined
        const baseline: { readonly kind: ChangeSetDiff["baseline"]["kind"]; readonly id: string; readonly agents: ReadonlyArray<AgentVersion> } =
          recorded !== undefined
            ? { kind: "scan baseline", id: changeSet.scanId, agents: recorded }
            : changeSet.baselineId !== null
            ? { kind: "change set", id: changeSet.baselineId, agents: (yield* repo.get(workspaceId, changeSet.baselineId)).agents }
            : {
              kind: "declaration",
              id: workspaceId,
              agents: (yield* workspaces.get(workspaceId)).agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
            }
        return {
          changeSetId: changeSet.id,
          baseline: { kind: baseline.kind, id: baseline.id },
          changes: agentChanges(baseline.agents, changeSet.agents)
        } satisfies ChangeSetDiff
      }))

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
      .handle("diff", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* changeSetDiff(workspaceId, params.changeSetId)
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
