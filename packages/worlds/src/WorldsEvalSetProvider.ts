/**
 * `@spectral/worlds`' implementation of the engine's `EvalSetProvider`: answers the preflight
 * question, generates the attributed EvalSet for Observe from the world's current version, and
 * runs the conformity check for Safety. The version on the attribution is whatever the registry
 * says is current (ADR-030: metadata, never a signal). A driver of the engine's port, exposed as
 * a module namespace (`WorldsEvalSetProvider.layer`, `.layerNoDeps`, `.layerWith`, `.layerCurrent`,
 * `.make`), as effect's drivers are.
 */
import { Clock, Effect, Layer } from "effect"
import {
  type ConformityRequest,
  EvalSetProvider,
  type EvalSetRequest,
  EvalSetUnavailable
} from "@spectral/engine/contracts"
import { checkConformity } from "./Conformity.ts"
import { buildEvalSet, type HoldoutPolicy } from "./EvalSetGeneration.ts"
import { WorldRegistry, type WorldRegistryOptions } from "./WorldRegistry.ts"

export interface ProviderSettings {
  readonly holdout?: HoldoutPolicy
}

/** Size asked for: the request's, or the framework's `evalSetSize` when the request says 0. */
const requestedSize = (request: EvalSetRequest) => (request.size > 0 ? request.size : request.framework.evalSetSize)

/** The provider on the `WorldRegistry` in context. */
export const make = Effect.fnUntraced(function*(settings: ProviderSettings = {}) {
  const registry = yield* WorldRegistry

  const resolve = (request: { readonly worldModelId: string }) =>
    Effect.all([registry.current(request.worldModelId), registry.generator(request.worldModelId)]).pipe(
      Effect.mapError((error) =>
        new EvalSetUnavailable({
          worldModelId: request.worldModelId,
          reason: error.version === null
            ? `no published world model or generator for ${request.worldModelId}`
            : `${request.worldModelId}@${error.version} is not published`
        })
      )
    )

  const availability = Effect.fn("WorldsEvalSetProvider.availability")(function*(request: EvalSetRequest) {
    const resolved = yield* Effect.result(resolve(request))
    if (resolved._tag === "Failure") return { available: false, reason: resolved.failure.reason }
    const [model, generator] = resolved.success
    const size = requestedSize(request)
    const { min, max } = generator.sizeRange
    const label = `${model.authority.worldModelId}@${model.authority.worldModelVersion}`
    if (size < min || size > max) {
      return { available: false, reason: `${label} generates between ${min} and ${max} samples; ${size} requested`, authority: model.authority }
    }
    return {
      available: true,
      reason: `${label} can generate ${size} rule-grounded samples across ${Object.keys(model.definition.segments).length} segments`,
      authority: model.authority
    }
  })

  const evalSet = Effect.fn("WorldsEvalSetProvider.evalSet")(function*(request: EvalSetRequest) {
    const [model, generator] = yield* resolve(request)
    const size = requestedSize(request)
    const { min, max } = generator.sizeRange
    if (size < min || size > max) {
      return yield* new EvalSetUnavailable({ worldModelId: request.worldModelId, reason: `size ${size} outside [${min}, ${max}]` })
    }
    const now = yield* Clock.currentTimeMillis
    return buildEvalSet(model, generator, {
      seed: request.seed,
      size,
      generatedAt: new Date(now).toISOString(),
      ...(settings.holdout === undefined ? {} : { holdout: settings.holdout })
    })
  })

  const conformity = Effect.fn("WorldsEvalSetProvider.conformity")(function*(request: ConformityRequest) {
    const model = yield* registry.current(request.worldModelId).pipe(
      Effect.mapError(() => new EvalSetUnavailable({ worldModelId: request.worldModelId, reason: `no published world model ${request.worldModelId}` }))
    )
    return checkConformity(model, request)
  })

  return EvalSetProvider.of({ availability, evalSet, conformity })
})

/** The provider over a `WorldRegistry` the host provides. */
export const layerNoDeps = (settings: ProviderSettings = {}) => Layer.effect(EvalSetProvider, make(settings))

/** Provider plus the package's registry (tax 0.1.0 current, 0.2.0 published, FLSA); both services are in the output. */
export const layer = layerNoDeps().pipe(Layer.provideMerge(WorldRegistry.layer))

/** Provider plus a registry built from options (for example `{ ...defaultWorldRegistryOptions, current: { "us-federal-individual-tax": "0.2.0" } }`). */
export const layerWith = (options: WorldRegistryOptions, settings: ProviderSettings = {}) =>
  layerNoDeps(settings).pipe(Layer.provideMerge(WorldRegistry.layerWith(options)))

/** Provider plus the package's registry with some worlds' current version overridden. */
export const layerCurrent = (current: Readonly<Record<string, string>>, settings: ProviderSettings = {}) =>
  layerNoDeps(settings).pipe(Layer.provideMerge(WorldRegistry.layerCurrent(current)))
