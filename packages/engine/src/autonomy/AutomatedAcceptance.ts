/**
 * The `on scan completed` handler: stamps the EvaluationAuthorityRef on the scan's change set and
 * applies the workspace's autonomy mode. `caution` and `no_go` are never auto-accepted; the kill
 * switch forces approval on everything whatever the mode, the automatic rollback included: with it on,
 * an anomaly is recorded (`approval.required`) and no change set moves.
 *
 * - observe_only: no change set is created (the orchestrator skips it);
 * - manual: every accept needs approval (`approval.required`);
 * - recommend: like manual, with the intent recorded on the change set;
 * - bounded_auto: auto-accept when min_blended_delta, min_world_model_score, max_rules_affected and
 *   require_validated_changeset all pass;
 * - auto_test: auto-accept only changes the classifier calls non-breaking (and a `go`);
 * - guarded_auto: auto-accept within the bounded guardrails, then watch later scans and roll back to
 *   the previous accepted change set when the accepted configuration's score drops more than
 *   max(maxHoldoutGap, 2 pts) below what it was accepted at (anomaly),
 *   recording why; the change set of the scan that saw the anomaly was measured against a
 *   configuration that is no longer in place, so it needs approval.
 *
 * min_world_model_score reads the candidate's world-model score (the ground-truth authority alone,
 * not the blended score); absent, the guard does not pass.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { type ChangeSet, type ScanCompleted, StoredOptimizeWinner } from "../contracts/index.ts"
import { ChangeSets, type IllegalTransition } from "../changesets/ChangeSetLifecycle.ts"
import { ChangeSetRepo, ScanRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import { unresolvedPhaseOutputParts } from "../ports/PhaseOutputParts.ts"
import { StorageError } from "../ports/StorageError.ts"
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

      /**
       * guarded_auto: has the configuration accepted by guarded_auto fallen below what it was
       * accepted at? Then roll back — unless the kill switch is on: the anomaly is recorded on the
       * accepted change set (`approval.required`) and nothing moves until a person decides.
       */
      const watchForAnomaly = Effect.fnUntraced(function*(event: ScanCompleted, killSwitch: boolean) {
        const all = yield* repo.list(event.workspaceId)
        const accepted = all.find((c) => c.status === "accepted")
        if (accepted === undefined || accepted.autonomyIntent !== "guarded_auto" || accepted.scanId === event.scanId) return undefined
        const scan = yield* scans.get(event.workspaceId, event.scanId)
        if (scan.baselineChangeSetId !== accepted.id || scan.blendedScore === undefined) return undefined
        const acceptedScan = yield* scans.get(event.workspaceId, accepted.scanId)
        const acceptedVerdict = yield* scans.verdict(event.workspaceId, accepted.scanId)
        // What the accepted configuration is expected to score: the score it replaced plus the part
        // of the improvement the verdict was sure of (the interval's lower end, not the estimate:
        // the winner of a tournament is selected for a lucky estimate, and a later scan on a new
        // eval set regresses towards the truth without anything being wrong).
        const expected = (acceptedScan.blendedScore ?? 0) + Math.max(0, acceptedVerdict.delta?.low ?? 0)
        const workspace = yield* workspaces.get(event.workspaceId)
        const tolerance = Math.max(workspace.framework.verdict.maxHoldoutGap, 0.02)
        if (scan.blendedScore >= expected - tolerance) return undefined
        const previous = all.find((c) => c.status === "superseded" && c.version < accepted.version)
        const why = `anomaly: blended score ${(scan.blendedScore * 100).toFixed(1)} in scan ${scan.id} is below ${(expected * 100).toFixed(1)} − ${(tolerance * 100).toFixed(1)} pts measured when v${accepted.version} was accepted`
        if (killSwitch) {
          const held = `${why}; kill switch is on: ${previous === undefined ? `rejecting v${accepted.version}` : `rolling back to v${previous.version}`} needs approval`
          yield* changeSets.note(event.workspaceId, accepted.id, "approval.required", SYSTEM, held)
          return { why: held, rolledBack: false }
        }
        yield* changeSets.rollback(event.workspaceId, accepted.id, previous?.id ?? null, SYSTEM, why)
        return { why, rolledBack: true }
      })

      /**
       * The winning candidate's mean world-model score, from the scan's stored optimize output (its
       * winner's runs joined back by the store: a part whose chunks are missing is a Corrupt error, never fewer runs).
       */
      const candidateWorldModelScore = Effect.fnUntraced(function*(workspaceId: string, scanId: string) {
        const stored = Option.getOrUndefined(yield* scans.phaseOutput(workspaceId, scanId, "optimize"))
        const unresolved = stored === undefined ? [] : unresolvedPhaseOutputParts("optimize", stored)
        if (unresolved.length > 0) {
          return yield* new StorageError({
            reason: { _tag: "Corrupt", entity: "phase output", id: `${scanId}/optimize`, message: unresolved.map((u) => `part ${u.part}: ${u.issue}`).join("; ") }
          })
        }
        const optimized = stored === undefined ? undefined : Option.getOrUndefined(Schema.decodeUnknownOption(StoredOptimizeWinner)(stored))
        const values = (optimized?.winner?.measurement.runs ?? []).map((r) => r.worldModel).filter((v): v is number => typeof v === "number")
        return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length
      })

      const onScanCompleted = Effect.fn("AutomatedAcceptance.onScanCompleted")(function*(event: ScanCompleted) {
        const workspace = yield* workspaces.get(event.workspaceId)
        const autonomy = workspace.autonomy
        const anomaly = autonomy.mode === "guarded_auto" || autonomy.killSwitch ? yield* watchForAnomaly(event, autonomy.killSwitch) : undefined
        const rolledBack = anomaly?.why
        if (event.changeSetId === null) {
          return {
            action: anomaly === undefined ? "none" : anomaly.rolledBack ? "rolled_back" : "approval_required",
            reasons: rolledBack === undefined ? ["no change set (observe_only)"] : [rolledBack]
          } satisfies AcceptanceDecision
        }
        // Stamp the authority: what the change set was measured against.
        const stamped = yield* repo.get(event.workspaceId, event.changeSetId)
        const withAuthority: ChangeSet = { ...stamped, authority: event.authority, autonomyIntent: autonomy.mode }
        yield* repo.update(withAuthority, stamped.status)
        yield* changeSets.note(event.workspaceId, event.changeSetId, "authority.stamped", SYSTEM, `${event.authority.worldModelId}@${event.authority.worldModelVersion} (${event.authority.ruleSetHash.slice(0, 12)})`)
        if (withAuthority.status !== "proposed") {
          return { action: anomaly === undefined ? "none" : anomaly.rolledBack ? "rolled_back" : "approval_required", reasons: [`change set is ${withAuthority.status}: nothing to accept`, ...(rolledBack === undefined ? [] : [rolledBack])] } satisfies AcceptanceDecision
        }
        const reasons: Array<string> = []
        if (autonomy.killSwitch) reasons.push("kill switch is on: every change set needs approval")
        if (event.outcome !== "go") reasons.push(`verdict is ${event.outcome}: never auto-accepted`)
        if (anomaly !== undefined) {
          reasons.push(anomaly.rolledBack ? "measured against a configuration that was just rolled back: needs approval" : "measured against a configuration with an anomaly: needs approval")
        }
        const verdict = yield* scans.verdict(event.workspaceId, event.scanId)
        const worldScore = yield* candidateWorldModelScore(event.workspaceId, event.scanId)
        // The configuration in force now (after any rollback above): a change set measured against
        // another one was validated on a baseline that is no longer the one it would replace.
        const current = (yield* repo.list(event.workspaceId)).find((c) => c.status === "accepted")
        const baselineName = (id: string | null) => (id === null ? "the workspace's declared agents" : id)
        const bounded = () => {
          const delta = verdict.delta?.estimate ?? 0
          const out: Array<string> = []
          if (delta < autonomy.minBlendedDelta) out.push(`blended delta ${(delta * 100).toFixed(1)} pts < min_blended_delta ${(autonomy.minBlendedDelta * 100).toFixed(1)}`)
          if (worldScore === undefined) out.push("min_world_model_score: the candidate has no world-model score")
          else if (worldScore < autonomy.minWorldModelScore) out.push(`world-model score ${(worldScore * 100).toFixed(1)} < min_world_model_score ${(autonomy.minWorldModelScore * 100).toFixed(1)}`)
          const affected = rulesAffected(withAuthority)
          if (affected > autonomy.maxRulesAffected) out.push(`${affected} failure clusters affected > max_rules_affected ${autonomy.maxRulesAffected}`)
          if (autonomy.requireValidatedChangeSet && withAuthority.baselineId !== (current?.id ?? null)) {
            out.push(`require_validated_changeset: measured against ${baselineName(withAuthority.baselineId)}, but the current baseline is ${baselineName(current?.id ?? null)}: scan again on the current baseline`)
          }
          return out
        }
        const accepting: Array<string> = []
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
            // Against the configuration the change set was measured on: its baseline change set,
            // or the workspace's declared agents for the first one.
            const baseline = stamped.baselineId === null ? undefined : yield* repo.get(event.workspaceId, stamped.baselineId)
            const base = baseline?.agents ?? workspace.agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
            const c = classifyChange(base, withAuthority.agents)
            if (c.breaking) reasons.push(`breaking change: ${c.reasons.join("; ")}`)
            else accepting.push(`non-breaking: ${c.nonBreaking.join("; ") || "no agent changed"}`)
            break
          }
        }
        if (reasons.length === 0) {
          const why = [`${autonomy.mode}: every guard passed`, ...accepting]
          yield* changeSets.accept(event.workspaceId, event.changeSetId, SYSTEM, `auto-accepted by ${why.join("; ")}`)
          return { action: "auto_accepted", reasons: why } satisfies AcceptanceDecision
        }
        yield* changeSets.note(event.workspaceId, event.changeSetId, "approval.required", SYSTEM, reasons.join("; "))
        return { action: "approval_required", reasons: [...reasons, ...(rolledBack === undefined ? [] : [rolledBack])] } satisfies AcceptanceDecision
      })
      return AutomatedAcceptance.of({ onScanCompleted })
    })
  )
}
