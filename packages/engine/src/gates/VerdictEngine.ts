/**
 * Folds every registered gate's checks into go / caution / no_go. The policy, in words:
 * any failed check → no_go; otherwise any caution → caution; otherwise go. Neutral checks (a gate
 * whose inputs are absent) count toward neither. "41 of 50 checks pass" counts passed checks out
 * of all non-neutral ones.
 */
import { Context, Effect, Layer } from "effect"
import type { GateCheck, Outcome } from "../contracts/index.ts"
import { GateRegistry, registerGates } from "./Gate.ts"
import { hardConstraintsGate } from "./HardConstraintGate.ts"
import { agentRegressionGate, dimensionRegressionGate } from "./RegressionGates.ts"
import { convergenceGate, outputSimilarityGate, paretoGate } from "./OutputGates.ts"
import { bootstrapCiGate, deltaThresholdGate, holdoutGapGate, judgedSubset, pairedDelta, sanityDowngradeGate } from "./QualityGates.ts"
import type { VerdictInput } from "./VerdictInput.ts"

export const VERDICT_POLICY =
  "any failed check gives no_go; otherwise any caution gives caution; otherwise go. Neutral checks (absent inputs) count toward neither."

export interface Decision {
  readonly outcome: Outcome
  readonly checks: ReadonlyArray<GateCheck>
  readonly checksPassed: number
  readonly checksTotal: number
  readonly delta: { readonly estimate: number; readonly low: number; readonly high: number } | null
  readonly explanation: string
}

export const builtinGates = [
  deltaThresholdGate,
  agentRegressionGate,
  dimensionRegressionGate,
  holdoutGapGate,
  bootstrapCiGate,
  outputSimilarityGate,
  paretoGate,
  sanityDowngradeGate,
  convergenceGate,
  hardConstraintsGate
] as const

export const fold = (checks: ReadonlyArray<GateCheck>): Outcome =>
  checks.some((c) => c.status === "fail") ? "no_go" : checks.some((c) => c.status === "caution") ? "caution" : "go"

export const decide = (input: VerdictInput, gates: ReadonlyArray<{ readonly run: (input: VerdictInput) => ReadonlyArray<GateCheck> }>): Decision => {
  const checks = gates.flatMap((gate) => gate.run(input))
  let outcome = fold(checks)
  if (input.noCandidate && outcome === "go") outcome = "caution"
  const counted = checks.filter((c) => c.status !== "neutral")
  const checksPassed = counted.filter((c) => c.status === "pass").length
  // The headline delta is the one the bootstrap CI gate judged: on the synthetic holdout for a
  // candidate selected on the working set (unbiased), on all stimuli otherwise.
  const d = pairedDelta(input, judgedSubset(input, "all").subset)
  const failing = checks.filter((c) => c.status === "fail" || c.status === "caution")
  const explanation = [
    `Policy: ${VERDICT_POLICY}`,
    input.noCandidate ? "No candidate change was worth proposing; the configuration is validated as it is." : "",
    input.budgetExhausted ? "The scan's budget ran out before optimization finished." : "",
    failing.length === 0
      ? `All ${counted.length} counted checks pass.`
      : `Not passing: ${failing.map((c) => `${c.gate}/${c.check} (${c.status}: ${c.reason})`).join("; ")}.`
  ].filter((line) => line !== "").join(" ")
  return {
    outcome,
    checks,
    checksPassed,
    checksTotal: counted.length,
    delta: d === undefined ? null : { estimate: d.estimate, low: d.low, high: d.high },
    explanation
  }
}

export class VerdictEngine extends Context.Service<VerdictEngine, {
  readonly decide: (input: VerdictInput) => Effect.Effect<Decision>
}>()("@spectral/engine/gates/VerdictEngine") {
  static readonly layerNoDeps = Layer.effect(
    VerdictEngine,
    Effect.gen(function*() {
      const registry = yield* GateRegistry
      return VerdictEngine.of({
        decide: (input) => Effect.map(registry.gates, (gates) => decide(input, gates))
      })
    })
  )

  /** The registry with the eight built-in gates, the convergence gate and the hard constraints, and the engine over it. */
  static readonly layer = VerdictEngine.layerNoDeps.pipe(
    Layer.provideMerge(registerGates(builtinGates).pipe(Layer.provideMerge(GateRegistry.layerEmpty)))
  )
}

/** The A/A and power studies of this verdict (bench `verdict`, gate tests). */
/** The verdict on a file of two runs (`spectral verdict`). */
export * from "./VerdictFile.ts"
/** The framework's hard constraints as a gate. */
export * from "./HardConstraintGate.ts"
