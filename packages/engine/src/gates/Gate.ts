/**
 * A gate is a pure function from the verdict input to its checks. Gates are registered in the
 * `GateRegistry` by a Layer, so a plugin's gate is indistinguishable from a built-in one.
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { GateCheck } from "../contracts/index.ts"
import { normalCdf } from "../stats/NormalDistribution.ts"
import type { VerdictInput } from "./VerdictInput.ts"

export interface Gate {
  /** `builtin/name` or `plugin/name`. */
  readonly name: string
  readonly description: string
  readonly run: (input: VerdictInput) => ReadonlyArray<GateCheck>
}

export class GateRegistry extends Context.Service<GateRegistry, {
  readonly register: (gate: Gate) => Effect.Effect<void>
  readonly gates: Effect.Effect<ReadonlyArray<Gate>>
}>()("@spectral/engine/gates/GateRegistry") {
  static readonly layerEmpty = Layer.effect(
    GateRegistry,
    Effect.gen(function*() {
      const gates = yield* Ref.make<ReadonlyArray<Gate>>([])
      return GateRegistry.of({
        register: (gate) => Ref.update(gates, (list) => [...list.filter((g) => g.name !== gate.name), gate]),
        gates: Ref.get(gates)
      })
    })
  )
}

/** A Layer that adds gates to the registry (how built-ins and plugins register alike). */
export const registerGates = (gates: ReadonlyArray<Gate>) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const registry = yield* GateRegistry
      for (const gate of gates) yield* registry.register(gate)
    })
  )

export const check = (
  gate: string,
  name: string,
  status: GateCheck["status"],
  reason: string,
  value?: number,
  threshold?: number
): GateCheck => ({
  gate,
  check: name,
  status,
  reason,
  ...(value !== undefined && Number.isFinite(value) ? { value } : {}),
  ...(threshold !== undefined && Number.isFinite(threshold) ? { threshold } : {})
})

export const weightedMean = (values: ReadonlyArray<number>, weights?: ReadonlyArray<number>): number => {
  let sum = 0
  let total = 0
  for (let i = 0; i < values.length; i++) {
    const w = weights?.[i] ?? 1
    sum += values[i]! * w
    total += w
  }
  return total > 0 ? sum / total : 0
}

export const pct = (x: number) => `${(x * 100).toFixed(1)} pts`

/**
 * One-sided p-value for "the candidate is worse" from a bootstrap interval: z = estimate / its
 * bootstrap standard error; a degenerate bootstrap (SE 0) gives 0 for a drop and 1 otherwise.
 * The regression and consistency gates test with it.
 */
export const pWorse = (interval: { readonly estimate: number; readonly standardError: number }): number =>
  interval.standardError > 0 ? normalCdf(interval.estimate / interval.standardError) : interval.estimate < 0 ? 0 : 1

/** A share of stimuli, as a percentage. */
export const share = (x: number) => `${(x * 100).toFixed(1)}%`

const quarantined = (status: VerdictInput["stimuli"][number]["baseline"]["status"]) => status === "infra_failure" || status === "judge_failure"

/** Stimuli both arms measured (infrastructure and judge failures on either side are excluded). */
export const comparable = (input: VerdictInput) =>
  input.stimuli.filter((s) => !quarantined(s.baseline.status) && !quarantined(s.candidate.status))
