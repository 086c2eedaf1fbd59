/**
 * The fold of gate checks into a decision: any failed check → no_go; otherwise any caution →
 * caution; otherwise go. Neutral checks (a gate whose inputs are absent) count toward neither.
 * "41 of 50 checks pass" counts passed checks out of all non-neutral ones.
 */
import type { GateCheck, Outcome } from "../contracts/index.ts"
import { judgedSubset, pairedDelta } from "./QualityGates.ts"
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
