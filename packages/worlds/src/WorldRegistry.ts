/**
 * The registry of published world models: every published version (immutable), which version
 * is current for each world (configurable; ADR-030 keeps this knowledge inside worlds), and the
 * scenario generator of each world. Publishing is an explicit call; a version once published
 * cannot be replaced by different rules.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import type { ScenarioGenerator } from "./EvalSetGeneration.ts"
import { type PublishedWorldModel, publish, type WorldModelInvalid } from "./WorldModel.ts"
import { taxScenarioGenerator } from "./tax/TaxScenarioGenerator.ts"
import { TAX_WORLD_ID, taxWorld_0_1_0, taxWorld_0_2_0 } from "./tax/TaxWorld.ts"
import { flsaScenarioGenerator } from "./flsa/FlsaScenarioGenerator.ts"
import { flsaWorld_0_1_0 } from "./flsa/FlsaWorld.ts"

export class WorldNotFound extends Schema.TaggedError<WorldNotFound>()("WorldNotFound", {
  worldModelId: Schema.String,
  version: Schema.NullOr(Schema.String)
}) {}

export class WorldVersionConflict extends Schema.TaggedError<WorldVersionConflict>()("WorldVersionConflict", {
  worldModelId: Schema.String,
  version: Schema.String,
  message: Schema.String
}) {}

export interface WorldSummary {
  readonly worldModelId: string
  readonly versions: ReadonlyArray<string>
  readonly current: string
  readonly hasGenerator: boolean
}

export interface WorldRegistryOptions {
  readonly models: ReadonlyArray<PublishedWorldModel>
  readonly generators: ReadonlyArray<ScenarioGenerator>
  /** Current version per world id; the highest published version when absent. */
  readonly current?: Readonly<Record<string, string>>
}

const compareVersions = (a: string, b: string): number => {
  const pa = a.split(".").map(Number)
  const pb = b.split(".").map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The worlds this package ships: the tax world (0.1.0 current, 0.2.0 published beside it) and FLSA overtime. */
export const defaultWorldRegistryOptions: WorldRegistryOptions = {
  models: [taxWorld_0_1_0, taxWorld_0_2_0, flsaWorld_0_1_0],
  generators: [taxScenarioGenerator, flsaScenarioGenerator],
  current: { [TAX_WORLD_ID]: "0.1.0" }
}

interface State {
  readonly models: ReadonlyMap<string, ReadonlyMap<string, PublishedWorldModel>>
  readonly current: ReadonlyMap<string, string>
  readonly generators: ReadonlyMap<string, ScenarioGenerator>
}

export class WorldRegistry extends Context.Service<WorldRegistry, {
  readonly list: Effect.Effect<ReadonlyArray<WorldSummary>>
  /** The version this world is currently authoritative for. */
  readonly current: (worldModelId: string) => Effect.Effect<PublishedWorldModel, WorldNotFound>
  readonly version: (worldModelId: string, version: string) => Effect.Effect<PublishedWorldModel, WorldNotFound>
  readonly generator: (worldModelId: string) => Effect.Effect<ScenarioGenerator, WorldNotFound>
  /** Decode, validate and publish a definition. Republishing identical rules is a no-op. */
  readonly publish: (
    definition: unknown,
    options?: { readonly makeCurrent?: boolean }
  ) => Effect.Effect<PublishedWorldModel, WorldModelInvalid | WorldVersionConflict>
  readonly setCurrent: (worldModelId: string, version: string) => Effect.Effect<void, WorldNotFound>
  readonly registerGenerator: (generator: ScenarioGenerator) => Effect.Effect<void>
}>()("@spectral/worlds/WorldRegistry") {
  static readonly make = Effect.fnUntraced(function*(options: WorldRegistryOptions) {
    const models = new Map<string, Map<string, PublishedWorldModel>>()
    for (const model of options.models) {
      const byVersion = models.get(model.authority.worldModelId) ?? new Map<string, PublishedWorldModel>()
      byVersion.set(model.authority.worldModelVersion, model)
      models.set(model.authority.worldModelId, byVersion)
    }
    const current = new Map<string, string>()
    for (const [id, versions] of models) {
      const pinned = options.current?.[id]
      current.set(id, pinned !== undefined && versions.has(pinned) ? pinned : [...versions.keys()].sort(compareVersions).at(-1)!)
    }
    const state = yield* Ref.make<State>({
      models,
      current,
      generators: new Map(options.generators.map((g) => [g.worldModelId, g]))
    })

    const version = Effect.fn("WorldRegistry.version")(function*(worldModelId: string, wanted: string) {
      const s = yield* Ref.get(state)
      const model = s.models.get(worldModelId)?.get(wanted)
      if (model === undefined) return yield* new WorldNotFound({ worldModelId, version: wanted })
      return model
    })
    const currentOf = Effect.fn("WorldRegistry.current")(function*(worldModelId: string) {
      const s = yield* Ref.get(state)
      const wanted = s.current.get(worldModelId)
      if (wanted === undefined) return yield* new WorldNotFound({ worldModelId, version: null })
      return yield* version(worldModelId, wanted)
    })
    const generator = Effect.fn("WorldRegistry.generator")(function*(worldModelId: string) {
      const s = yield* Ref.get(state)
      const found = s.generators.get(worldModelId)
      if (found === undefined) return yield* new WorldNotFound({ worldModelId, version: null })
      return found
    })
    const publishDefinition = Effect.fn("WorldRegistry.publish")(function*(definition: unknown, publishOptions?: { readonly makeCurrent?: boolean }) {
      const model = yield* publish(definition)
      const { worldModelId, worldModelVersion, ruleSetHash } = model.authority
      const s = yield* Ref.get(state)
      const existing = s.models.get(worldModelId)?.get(worldModelVersion)
      if (existing !== undefined && existing.authority.ruleSetHash !== ruleSetHash) {
        return yield* new WorldVersionConflict({
          worldModelId,
          version: worldModelVersion,
          message: `${worldModelId}@${worldModelVersion} is already published with rule set ${existing.authority.ruleSetHash}; publish a new version`
        })
      }
      const stored = existing ?? model
      yield* Ref.update(state, (prev) => {
        const nextModels = new Map(prev.models)
        nextModels.set(worldModelId, new Map(prev.models.get(worldModelId) ?? []).set(worldModelVersion, stored))
        const nextCurrent = new Map(prev.current)
        if (publishOptions?.makeCurrent === true || !nextCurrent.has(worldModelId)) nextCurrent.set(worldModelId, worldModelVersion)
        return { ...prev, models: nextModels, current: nextCurrent }
      })
      return stored
    })
    const setCurrent = Effect.fn("WorldRegistry.setCurrent")(function*(worldModelId: string, wanted: string) {
      yield* version(worldModelId, wanted)
      yield* Ref.update(state, (prev) => ({ ...prev, current: new Map(prev.current).set(worldModelId, wanted) }))
    })
    const registerGenerator = (generator: ScenarioGenerator) =>
      Ref.update(state, (prev) => ({ ...prev, generators: new Map(prev.generators).set(generator.worldModelId, generator) }))
    const list = Effect.map(Ref.get(state), (s) =>
      [...s.models.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([worldModelId, versions]) => ({
        worldModelId,
        versions: [...versions.keys()].sort(compareVersions),
        current: s.current.get(worldModelId)!,
        hasGenerator: s.generators.has(worldModelId)
      })))

    return WorldRegistry.of({ list, current: currentOf, version, generator, publish: publishDefinition, setCurrent, registerGenerator })
  })

  /** A registry holding the given worlds. */
  static readonly layerWith = (options: WorldRegistryOptions) => Layer.effect(WorldRegistry, WorldRegistry.make(options))

  /** The worlds this package ships, with the tax world's current version overridable (`{ "us-federal-individual-tax": "0.2.0" }`). */
  static readonly layerCurrent = (current: Readonly<Record<string, string>>) =>
    WorldRegistry.layerWith({ ...defaultWorldRegistryOptions, current: { ...defaultWorldRegistryOptions.current, ...current } })

  static readonly layer = WorldRegistry.layerWith(defaultWorldRegistryOptions)
}
