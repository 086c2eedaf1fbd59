/**
 * Verdict: builds the gates' input from the baseline and the winning candidate measured on the
 * same stimuli (or the baseline against itself when there is no candidate), runs every registered
 * gate through the VerdictEngine, stores the VerdictResult and publishes `verdict.issued` and
 * `scan.convergence.delta`.
 */
import { Context, Effect, Layer } from "effect"
import type { CalibrationRecord, CompositeScore, VerdictResult } from "../contracts/index.ts"
import { BudgetLedger, unpricedNote } from "../agents/BudgetLedger.ts"
import { check } from "../gates/Gate.ts"
import { VerdictEngine } from "../gates/VerdictEngine.ts"
import type { VerdictInput } from "../gates/VerdictInput.ts"
import { EventBus, type EventRejected } from "../ports/EventBus.ts"
import { emitEventWith, makeEvent } from "../ports/PhaseEvents.ts"
import { ScanRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { changeSetIdFor } from "./Complete.ts"
import { pairStimuli } from "../measurement/PairedStimuli.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { OptimizeOutput } from "./Optimize.ts"
import type { SafetyOutput } from "./Safety.ts"
import type { ScanContext } from "./ScanContext.ts"
import type { VerdictOutput } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { VerdictOutput }


export class Verdict extends Context.Service<Verdict, {
  readonly run: (
    context: ScanContext,
    observe: ObserveOutput,
    calibration: CalibrationRecord,
    composite: CompositeScore,
    optimize: OptimizeOutput,
    safety: SafetyOutput
  ) => Effect.Effect<VerdictOutput, StorageError | EventRejected>
}>()("@spectral/engine/pipeline/Verdict") {
  static readonly layer = Layer.effect(
    Verdict,
    Effect.gen(function*() {
      const engine = yield* VerdictEngine
      const scans = yield* ScanRepo
      const emit = emitEventWith(yield* EventBus)
      const run = Effect.fn("Verdict.run")(function*(
        context: ScanContext,
        observe: ObserveOutput,
        calibration: CalibrationRecord,
        composite: CompositeScore,
        optimize: OptimizeOutput,
        safety: SafetyOutput
      ) {
        const framework = context.workspace.framework
        const candidate = optimize.winner?.measurement ?? observe.baseline
        const input: VerdictInput = {
          stimuli: pairStimuli(observe.evalSet, observe.baseline, candidate),
          thresholds: framework.verdict,
          passThreshold: framework.passThreshold,
          vectors: framework.objective.vectors,
          hardConstraints: framework.hardConstraints,
          resamples: calibration.resamples,
          seed: context.scan.seed,
          // The tournament chose the winner as the best on the working set: the delta threshold and
          // bootstrap CI gates judge it on the synthetic holdout, which took no part in the choice.
          selectedOnWorkingSet: optimize.winner !== null,
          noCandidate: optimize.winner === null,
          budgetExhausted: optimize.budgetExhausted
        }
        const decision = yield* engine.decide(input)
        // Safety is a gate of the scan too: a violation is a failed check.
        const safetyChecks = safety.checked
          ? safety.violations.length === 0
            ? [check("safety", "world_invariants", "pass", "the change conforms to the world model's structural invariants")]
            : safety.violations.map((v) => check("safety", `${v.invariant}:${v.agentId}`, "fail", `${v.rule}: ${v.message}`))
          : [check("safety", "world_invariants", "neutral", "no candidate change to check")]
        const checks = [...decision.checks, ...safetyChecks]
        const failedSafety = safetyChecks.some((c) => c.status === "fail")
        const outcome = failedSafety ? "no_go" as const : decision.outcome
        const counted = checks.filter((c) => c.status !== "neutral")
        // Calls to models with no known price are said in the explanation (their dollars are an upper bound or uncounted).
        const ledger = yield* Effect.serviceOption(BudgetLedger)
        const unpriced = ledger._tag === "Some" ? unpricedNote(yield* ledger.value.snapshot) : undefined
        const verdict: VerdictResult = {
          id: `${context.scan.id}:verdict`,
          scanId: context.scan.id,
          workspaceId: context.workspace.id,
          outcome,
          checksPassed: counted.filter((c) => c.status === "pass").length,
          checksTotal: counted.length,
          checks,
          delta: decision.delta,
          explanation: [
            failedSafety ? "Safety: the change violates the world's invariants." : "",
            decision.explanation,
            unpriced === undefined ? "" : `Spend: ${unpriced}.`
          ].filter((part) => part !== "").join(" ")
        }
        yield* scans.saveVerdict(verdict)
        const withDelta: CompositeScore = {
          ...composite,
          blendedDelta: decision.delta === null || optimize.winner === null
            ? { _tag: "Absent", reason: optimize.winner === null ? "no candidate change" : "no comparable stimuli" }
            : { _tag: "Present", value: decision.delta.estimate }
        }
        yield* emit(yield* makeEvent("verdict.issued", `${context.scan.id}:verdict.issued`, {
            workspaceId: context.workspace.id,
            scanId: context.scan.id,
            verdictId: verdict.id,
            outcome,
            checksPassed: verdict.checksPassed,
            checksTotal: verdict.checksTotal,
            // The change set completion will create (its id is deterministic); none under observe_only.
            changeSetId: context.workspace.autonomy.mode === "observe_only" ? null : changeSetIdFor(context)
        }))
        yield* emit(yield* makeEvent("scan.convergence.delta", `${context.scan.id}:scan.convergence.delta`, {
          workspaceId: context.workspace.id,
          scanId: context.scan.id,
          convergenceDelta: composite.convergenceDelta
        }))
        return { verdict, composite: withDelta } satisfies VerdictOutput
      })
      return Verdict.of({ run })
    })
  )
}
