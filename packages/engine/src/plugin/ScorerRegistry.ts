/**
 * Extra objective scorers: a framework vector `{ kind: "custom", name }` is measured by the
 * scorer registered under that name (by a plugin, `Plugin.make({ scorers })`).
 */
import { Context, Effect, Layer, Ref } from "effect"

/** An extra objective scorer: measures a `custom` optimization vector of the same name. Pure. */
export interface ObjectiveScorer {
  /** `plugin/name`; a framework vector `{ kind: "custom", name }` with this name uses it. */
  readonly name: string
  readonly description: string
  /** 0–1 for one stimulus: the stimulus text and the team's final answer (undefined when none). */
  readonly score: (stimulus: string, finalOutput: Readonly<Record<string, unknown>> | undefined) => number
}

export class ScorerRegistry extends Context.Service<ScorerRegistry, {
  readonly register: (scorer: ObjectiveScorer) => Effect.Effect<void>
  readonly scorers: Effect.Effect<ReadonlyArray<ObjectiveScorer>>
}>()("@spectral/engine/plugin/ScorerRegistry") {
  static readonly layerEmpty = Layer.effect(
    ScorerRegistry,
    Effect.gen(function*() {
      const scorers = yield* Ref.make<ReadonlyArray<ObjectiveScorer>>([])
      return ScorerRegistry.of({
        register: (scorer) => Ref.update(scorers, (all) => [...all.filter((s) => s.name !== scorer.name), scorer]),
        scorers: Ref.get(scorers)
      })
    })
  )
}

export const registerScorers = (scorers: ReadonlyArray<ObjectiveScorer>) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      const registry = yield* ScorerRegistry
      for (const scorer of scorers) yield* registry.register(scorer)
    })
  )
