/**
 * Safety: the proposed change must conform to the world model's structural invariants (asked of
 * the world through EvalSetProvider) and to the eval set's declared hyperparameter bounds (checked
 * here too, so a world that forgets them cannot let an out-of-bounds change through).
 */
import { Context, Effect, Layer } from "effect"
import { EvalSetProvider, type EvalSetUnavailable, type HyperparameterBounds, type InvariantViolation } from "../contracts/index.ts"
import type { AgentVersion } from "../contracts/index.ts"
import type { OptimizeOutput } from "./Optimize.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"
import type { SafetyOutput } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { SafetyOutput }


export const boundsViolations = (agents: ReadonlyArray<AgentVersion>, bounds: HyperparameterBounds): ReadonlyArray<InvariantViolation> =>
  agents.flatMap((a) => {
    const out: Array<InvariantViolation> = []
    const t = a.hyperparameters.temperature
    if (t < bounds.temperature.min || t > bounds.temperature.max) {
      out.push({ invariant: "hyperparameter_bounds", rule: "temperature", agentId: a.agentId, message: `temperature ${t} outside [${bounds.temperature.min}, ${bounds.temperature.max}]` })
    }
    const m = a.hyperparameters.maxTokens
    if (m < bounds.maxTokens.min || m > bounds.maxTokens.max) {
      out.push({ invariant: "hyperparameter_bounds", rule: "maxTokens", agentId: a.agentId, message: `maxTokens ${m} outside [${bounds.maxTokens.min}, ${bounds.maxTokens.max}]` })
    }
    return out
  })

export class Safety extends Context.Service<Safety, {
  readonly run: (context: ScanContext, observe: ObserveOutput, optimize: OptimizeOutput) => Effect.Effect<SafetyOutput, EvalSetUnavailable>
}>()("@spectral/engine/pipeline/Safety") {
  static readonly layer = Layer.effect(
    Safety,
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const run = Effect.fn("Safety.run")(function*(context: ScanContext, observe: ObserveOutput, optimize: OptimizeOutput) {
        if (optimize.winner === null) return { checked: false, violations: [] } satisfies SafetyOutput
        const proposed = optimize.winner.candidate.agents
        const fromWorld = yield* provider.conformity({
          workspaceId: context.workspace.id,
          worldModelId: context.workspace.worldModelId,
          baseline: context.baseline,
          proposed
        })
        const local = boundsViolations(proposed, observe.evalSet.hyperparameterBounds)
        const key = (v: InvariantViolation) => `${v.invariant}|${v.rule}|${v.agentId}`
        const seen = new Set(fromWorld.map(key))
        return { checked: true, violations: [...fromWorld, ...local.filter((v) => !seen.has(key(v)))] } satisfies SafetyOutput
      })
      return Safety.of({ run })
    })
  )
}
