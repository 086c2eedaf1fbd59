/**
 * The verdict as a service: every registered gate's checks folded into go / caution / no_go
 * (`Decision.ts`). `layer` registers the built-in gates; plugins add theirs to the registry.
 */
import { Context, Effect, Layer } from "effect"
import { builtinGates } from "./BuiltinGates.ts"
import { type Decision, decide } from "./Decision.ts"
import { GateRegistry, registerGates } from "./Gate.ts"
import type { VerdictInput } from "./VerdictInput.ts"

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
