/**
 * Applying a published world to structured cases, for anyone checking the model against their
 * own worked cases (`spectral world decide`). Input `{"cases":[{"id","facts"}]}`; each case
 * yields the outcome with the rules that fired, or `{id, error}` when its facts are invalid.
 * Each world registers how its facts are decoded; worlds without one take flat facts.
 */
import { Effect, Result, Schema } from "effect"
import { evaluate } from "./RuleEngine.ts"
import { FactValue } from "./RuleSet.ts"
import type { PublishedWorldModel } from "./WorldModel.ts"
import { WorldRegistry } from "./WorldRegistry.ts"
import { decideTaxSync, TAX_WORLD_ID } from "./tax/TaxWorld.ts"

export const DecideInput = Schema.Struct({
  cases: Schema.Array(Schema.Struct({ id: Schema.String, facts: Schema.Unknown }))
})
export type DecideInput = typeof DecideInput.Type

export type DecideCaseResult =
  | ({ readonly id: string; readonly rules: ReadonlyArray<string> } & Readonly<Record<string, unknown>>)
  | { readonly id: string; readonly error: string }

export class DecideInputInvalid extends Schema.TaggedError<DecideInputInvalid>()("DecideInputInvalid", {
  message: Schema.String
}) {}

/** Decodes one case's facts and applies a world version; `Failure` carries the reason the facts are invalid. */
export type CaseDecider = (model: PublishedWorldModel, facts: unknown) => Result.Result<Record<string, unknown> & { readonly rules: ReadonlyArray<string> }, string>

const FlatFacts = Schema.Record(Schema.String, FactValue)

/** Flat facts, checked against the world's fact declarations. */
export const flatFactsDecider: CaseDecider = (model, facts) => {
  const decoded = Schema.decodeUnknownResult(FlatFacts)(facts)
  if (Result.isFailure(decoded)) return Result.fail(decoded.failure.message.replace(/\n\s*/g, " "))
  const declared = new Map(model.definition.facts.map((f) => [f.name, f]))
  for (const [name, value] of Object.entries(decoded.success)) {
    const declaration = declared.get(name)
    if (declaration === undefined) return Result.fail(`unknown fact ${name}`)
    if (typeof value !== declaration.type) return Result.fail(`fact ${name} must be a ${declaration.type}`)
    if (declaration.values !== undefined && !declaration.values.includes(String(value))) {
      return Result.fail(`fact ${name} must be one of ${declaration.values.join(", ")}`)
    }
  }
  const decision = evaluate(model, decoded.success)
  const alternatives = Object.fromEntries(Object.entries(decision.alternatives).map(([field, values]) => [`${field}Alternatives`, values]))
  return Result.succeed({ ...decision.outputs, ...alternatives, rules: decision.firedRules })
}

const taxDecider: CaseDecider = (model, facts) =>
  Result.match(decideTaxSync(model, facts), {
    onFailure: (error) => Result.fail(error.message),
    onSuccess: (d) => Result.succeed({ filingStatus: d.filingStatus, standardDeduction: d.standardDeduction, alternatives: d.alternatives, rules: d.rules })
  })

const deciders = new Map<string, CaseDecider>([[TAX_WORLD_ID, taxDecider]])

/** Register the fact decoding of a world (worlds without one take flat facts). */
export const registerCaseDecider = (worldModelId: string, decider: CaseDecider): void => {
  deciders.set(worldModelId, decider)
}

export const decideCase = (model: PublishedWorldModel, id: string, facts: unknown): DecideCaseResult => {
  const decider = deciders.get(model.authority.worldModelId) ?? flatFactsDecider
  return Result.match(decider(model, facts), {
    onFailure: (error) => ({ id, error }),
    onSuccess: (outcome) => ({ id, ...outcome })
  })
}

/** Parse `id@version` (version optional: the current one). */
export const parseWorldRef = (ref: string): { readonly worldModelId: string; readonly version: string | null } => {
  const at = ref.lastIndexOf("@")
  return at <= 0 ? { worldModelId: ref, version: null } : { worldModelId: ref.slice(0, at), version: ref.slice(at + 1) }
}

/** Decide every case of a `{"cases":[…]}` document against `id@version` from the registry. */
export const decideCases = Effect.fn("WorldDecide.decideCases")(function*(worldRef: string, input: unknown) {
  const registry = yield* WorldRegistry
  const { worldModelId, version } = parseWorldRef(worldRef)
  const model = version === null ? yield* registry.current(worldModelId) : yield* registry.version(worldModelId, version)
  const decoded = yield* Schema.decodeUnknownEffect(DecideInput)(input).pipe(
    Effect.mapError((error) => new DecideInputInvalid({ message: `expected {"cases":[{"id","facts"}]}: ${error.message.replace(/\n\s*/g, " ")}` }))
  )
  return { results: decoded.cases.map((c) => decideCase(model, c.id, c.facts)) }
})

