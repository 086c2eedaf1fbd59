/**
 * The `on scan completed` handler: stamps the EvaluationAuthorityRef on the scan's change set and
 * applies the workspace's autonomy mode. `caution` and `no_go` are never auto-accepted; the kill
 * switch forces approval on everything whatever the mode.
 *
 * - observe_only: no change set is created (the orchestrator skips it);
 * - manual: every accept needs approval (`approval.required`);
 * - recommend: like manual, with the intent recorded on the change set;
 * - bounded_auto: auto-accept when min_blended_delta, min_world_model_score, max_rules_affected and
 *   require_validated_changeset all pass;
 * - auto_test: auto-accept only changes the classifier calls non-breaking (and a `go`);
 * - guarded_auto: auto-accept within the bounded guardrails, then watch later scans and roll back to
 *   the previous accepted change set when the accepted configuration's score drops (anomaly).
 */
import { Context, Effect, Layer } from "effect"
import type { ChangeSet, ScanCompleted } from "../contracts/index.ts"
import { ChangeSets, type IllegalTransition } from "../changesets/ChangeSetLifecycle.ts"
import { ChangeSetRepo, ScanRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { classifyChange } from "./ChangeClassifier.ts"

export interface AcceptanceDecision {
  readonly action: "none" | "approval_required" | "auto_accepted" | "rolled_back"
  readonly reasons: ReadonlyArray<string>
}

const SYSTEM = "spectral/autonomy"

/** How many failure clusters the change moved (the engine's stand-in for "rules affected": rule ids are opaque to it). */
export const rulesAffected = (changeSet: ChangeSet): number =>
  changeSet.explainability.clusterOutcomes.filter((c) => c.failureRateAfter !== c.failureRateBefore).length

export class AutomatedAcceptance extends Context.Service<AutomatedAcceptance, {
  readonly onScanCompleted: (event: ScanCompleted) => Effect.Effect<AcceptanceDecision, StorageError | IllegalTransition>
}>()("@spectral/engine/autonomy/AutomatedAcceptance") {
  static readonly layer = Layer.effect(
    AutomatedAcceptance,
    Effect.gen(function*() {
      const changeSets = yield* ChangeSets
      const repo = yield* ChangeSetRepo
      const scans = yield* ScanRepo
      const workspaces = yield* WorkspaceRepo

      /** guarded_auto: has the configuration accepted by guarded_auto fallen below what it was accepted at? */
      const watchForAnomaly = Effect.fnUntraced(function*(event: ScanCompleted) {
        const all = yield* repo.list(event.workspaceId)
        const accepted = all.find((c) => c.status === "accepted")
        if (accepted === undefined || accepted.autonomyIntent !== "guarded_auto" || accepted.scanId === event.scanId) return undefined
        const scan = yield* scans.get(event.workspaceId, event.scanId)
        if (scan.baselineChangeSetId !== accepted.id || scan.blendedScore === undefined) return undefined
        const acceptedScan = yield* scans.get(event.workspaceId, accepted.scanId)
        const acceptedVerdict = yield* scans.verdict(event.workspaceId, accepted.scanId)
        const expected = (acceptedScan.blendedScore ?? 0) + (acceptedVerdict.delta?.estimate ?? 0)
        const workspace = yield* workspaces.get(event.workspaceId)
        const tolerance = Math.max(workspace.framework.verdict.maxHoldoutGap, 0.02)
        if (scan.blendedScore >= expected - tolerance) return undefined
        const previous = all.find((c) => c.status === "superseded" && c.version < accepted.version)
        const why = `anomaly: blended score ${(scan.blendedScore * 100).toFixed(1)} in scan ${scan.id} is below ${(expected * 100).toFixed(1)} − ${(tolerance * 100).toFixed(1)} pts measured when v${accepted.version} was accepted`
        yield* changeSets.transition(event.workspaceId, accepted.id, "rejected", SYSTEM, `rolled back: ${why}`)
        if (previous !== undefined) {
          yield* changeSets.transition(event.workspaceId, previous.id, "accepted", SYSTEM, `restored by rollback of v${accepted.version}: ${why}`)
        }
        return why
      })

      const onScanCompleted = Effect.fn("AutomatedAcceptance.onScanCompleted")(function*(event: ScanCompleted) {
        const workspace = yield* workspaces.get(event.workspaceId)
        const autonomy = workspace.autonomy
        const rolledBack = autonomy.mode === "guarded_auto" || autonomy.killSwitch ? yield* watchForAnomaly(event) : undefined
        if (event.changeSetId === null) {
          return { action: rolledBack === undefined ? "none" : "rolled_back", reasons: rolledBack === undefined ? ["no change set (observe_only)"] : [rolledBack] } satisfies AcceptanceDecision
        }
        // Stamp the authority: what the change set was measured against.
        const stamped = yield* repo.get(event.workspaceId, event.changeSetId)
        const withAuthority: ChangeSet = { ...stamped, authority: event.authority, autonomyIntent: autonomy.mode }
        yield* repo.update(withAuthority, stamped.status)
        yield* changeSets.note(event.workspaceId, event.changeSetId, "authority.stamped", SYSTEM, `${event.authority.worldModelId}@${event.authority.worldModelVersion} (${event.authority.ruleSetHash.slice(0, 12)})`)
        if (withAuthority.status !== "proposed") {
          return { action: rolledBack === undefined ? "none" : "rolled_back", reasons: [`change set is ${withAuthority.status}: nothing to accept`, ...(rolledBack === undefined ? [] : [rolledBack])] } satisfies AcceptanceDecision
        }
        const reasons: Array<string> = []
        if (autonomy.killSwitch) reasons.push("kill switch is on: every change set needs approval")
        if (event.outcome !== "go") reasons.push(`verdict is ${event.outcome}: never auto-accepted`)
        const scan = yield* scans.get(event.workspaceId, event.scanId)
        const verdict = yield* scans.verdict(event.workspaceId, event.scanId)
        const bounded = () => {
          const delta = verdict.delta?.estimate ?? 0
          const worldScore = (scan.blendedScore ?? 0) + delta
          const out: Array<string> = []
          if (delta < autonomy.minBlendedDelta) out.push(`blended delta ${(delta * 100).toFixed(1)} pts < min_blended_delta ${(autonomy.minBlendedDelta * 100).toFixed(1)}`)
          if (worldScore < autonomy.minWorldModelScore) out.push(`score ${(worldScore * 100).toFixed(1)} < min_world_model_score ${(autonomy.minWorldModelScore * 100).toFixed(1)}`)
          const affected = rulesAffected(withAuthority)
          if (affected > autonomy.maxRulesAffected) out.push(`${affected} failure clusters affected > max_rules_affected ${autonomy.maxRulesAffected}`)
          if (autonomy.requireValidatedChangeSet && !verdict.checks.some((c) => c.gate === "safety" && c.status === "pass")) {
            out.push("require_validated_changeset: the change did not pass the world's conformity check")
          }
          return out
        }
        switch (autonomy.mode) {
          case "observe_only":
          case "manual":
            reasons.push(`${autonomy.mode}: every accept needs approval`)
            break
          case "recommend":
            reasons.push("recommend: recorded as a recommendation; accepting needs approval")
            break
          case "bounded_auto":
          case "guarded_auto":
            reasons.push(...bounded())
            break
          case "auto_test": {
            const baseline = stamped.baselineId === null ? undefined : yield* repo.get(event.workspaceId, stamped.baselineId).pipe(Effect.option)
            const base = baseline !== undefined && baseline._tag === "Some" ? baseline.value.agents : withAuthority.agents
            const c = classifyChange(base, withAuthority.agents)
            if (c.breaking) reasons.push(`breaking change: ${c.reasons.join("; ")}`)
            break
          }
        }
        if (reasons.length === 0) {
          yield* changeSets.accept(event.workspaceId, event.changeSetId, SYSTEM, `auto-accepted by ${autonomy.mode}: every guard passed`)
          return { action: "auto_accepted", reasons: [`${autonomy.mode}: every guard passed`, ...(rolledBack === undefined ? [] : [rolledBack])] } satisfies AcceptanceDecision
        }
        yield* changeSets.note(event.workspaceId, event.changeSetId, "approval.required", SYSTEM, reasons.join("; "))
        return { action: "approval_required", reasons: [...reasons, ...(rolledBack === undefined ? [] : [rolledBack])] } satisfies AcceptanceDecision
      })
      return AutomatedAcceptance.of({ onScanCompleted })
    })
  )
}
