/**
 * The tax world's facts (the structured input of `spectral world decide`), their flattening into
 * the rule engine's flat facts, and `decide`: filing status (the most favourable allowed one, with
 * the alternatives), the 2025 standard deduction and the rules that fired. Rules live in
 * `TaxWorldDefinition.ts`; this module owns the facts schema and the tax-shaped answer.
 */
import { Effect, Result, Schema } from "effect"
import { evaluate } from "../RuleEngine.ts"
import type { Facts } from "../RuleSet.ts"
import { type PublishedWorldModel, publishOrThrow } from "../WorldModel.ts"
import { TAX_WORLD_ID, taxWorldDefinition_0_1_0, taxWorldDefinition_0_2_0 } from "./TaxWorldDefinition.ts"

export { TAX_WORLD_ID } from "./TaxWorldDefinition.ts"

export const FilingStatus = Schema.Literals(["single", "mfj", "mfs", "hoh", "qss"])
export type FilingStatus = typeof FilingStatus.Type

export const MaritalStatus = Schema.Literals(["single", "married", "divorced", "legally_separated", "widowed"])
export type MaritalStatus = typeof MaritalStatus.Type

export const QualifyingRelationship = Schema.Literals(["child", "stepchild", "foster_child", "parent", "other_relative"])
export type QualifyingRelationship = typeof QualifyingRelationship.Type

export const QualifyingPerson = Schema.Struct({
  relationship: QualifyingRelationship,
  /** Months the person lived in the taxpayer's home (a parent living elsewhere: 0). */
  monthsLivedInHome: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 12 }))),
  /** The taxpayer can claim the person as a dependent (false when absent). */
  isDependent: Schema.optionalKey(Schema.Boolean)
})
export type QualifyingPerson = typeof QualifyingPerson.Type

/** The 2025 amounts are the only ones this world carries. */
export const TAX_YEAR = 2025

export const TaxFacts = Schema.Struct({
  taxYear: Schema.optionalKey(Schema.Literal(TAX_YEAR)),
  maritalStatus: MaritalStatus,
  spouseDiedYear: Schema.optionalKey(Schema.Int),
  remarried: Schema.optionalKey(Schema.Boolean),
  wantsJointReturn: Schema.optionalKey(Schema.Boolean),
  spouseLivedInHomeLast6Months: Schema.optionalKey(Schema.Boolean),
  paidOverHalfHomeCost: Schema.optionalKey(Schema.Boolean),
  qualifyingPerson: Schema.optionalKey(QualifyingPerson),
  age65OrOlder: Schema.optionalKey(Schema.Boolean),
  blind: Schema.optionalKey(Schema.Boolean),
  spouseAge65OrOlder: Schema.optionalKey(Schema.Boolean),
  spouseBlind: Schema.optionalKey(Schema.Boolean),
  canBeClaimedAsDependent: Schema.optionalKey(Schema.Boolean),
  earnedIncome: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  spouseItemizes: Schema.optionalKey(Schema.Boolean),
  /** Used from 0.2.0: the spouse had no gross income, files no return and is no one's dependent. */
  spouseHadNoGrossIncome: Schema.optionalKey(Schema.Boolean)
}).check(
  Schema.makeFilter((facts) => {
    const year = facts.taxYear ?? TAX_YEAR
    if (facts.maritalStatus === "widowed" && facts.spouseDiedYear === undefined) {
      return "spouseDiedYear is required when maritalStatus is widowed"
    }
    if (facts.spouseDiedYear !== undefined && facts.spouseDiedYear > year) {
      return `spouseDiedYear ${facts.spouseDiedYear} is after the tax year ${year}`
    }
    if (facts.maritalStatus === "widowed" && facts.remarried === true) {
      return "a taxpayer who remarried is married (maritalStatus married), not widowed, on December 31"
    }
    return undefined
  })
)
export type TaxFacts = typeof TaxFacts.Type

export class TaxFactsInvalid extends Schema.TaggedError<TaxFactsInvalid>()("TaxFactsInvalid", {
  message: Schema.String
}) {}

export interface TaxDecision {
  readonly filingStatus: FilingStatus
  /** Other statuses the facts allow, most favourable first. */
  readonly alternatives: ReadonlyArray<FilingStatus>
  readonly standardDeduction: number
  /** Ids of the rules that fired. */
  readonly rules: ReadonlyArray<string>
  readonly authority: PublishedWorldModel["authority"]
}

/** The flat facts the rule engine (and an intake agent) works with. */
export const flattenTaxFacts = (facts: TaxFacts): Facts => {
  const flat: Record<string, string | number | boolean> = {
    taxYear: facts.taxYear ?? TAX_YEAR,
    maritalStatus: facts.maritalStatus,
    qualifyingPersonRelationship: facts.qualifyingPerson?.relationship ?? "none",
    qualifyingPersonMonths: facts.qualifyingPerson?.monthsLivedInHome ?? 0,
    qualifyingPersonIsDependent: facts.qualifyingPerson?.isDependent ?? false
  }
  const optional = [
    "spouseDiedYear", "remarried", "wantsJointReturn", "spouseLivedInHomeLast6Months", "paidOverHalfHomeCost",
    "age65OrOlder", "blind", "spouseAge65OrOlder", "spouseBlind", "canBeClaimedAsDependent", "earnedIncome",
    "spouseItemizes", "spouseHadNoGrossIncome"
  ] as const
  for (const key of optional) {
    const value = facts[key]
    if (value !== undefined) flat[key] = value
  }
  return flat
}

export const taxWorld_0_1_0: PublishedWorldModel = publishOrThrow(taxWorldDefinition_0_1_0)
export const taxWorld_0_2_0: PublishedWorldModel = publishOrThrow(taxWorldDefinition_0_2_0)

/** Apply a published tax world to already decoded facts (pure). */
export const decideTaxFacts = (model: PublishedWorldModel, facts: TaxFacts): TaxDecision => {
  const decision = evaluate(model, flattenTaxFacts(facts))
  return {
    filingStatus: decision.outputs.filingStatus as FilingStatus,
    alternatives: (decision.alternatives.filingStatus ?? []) as ReadonlyArray<FilingStatus>,
    standardDeduction: decision.outputs.standardDeduction as number,
    rules: decision.firedRules,
    authority: model.authority
  }
}

const decodeTaxFacts = Schema.decodeUnknownResult(TaxFacts)

/** Decode unknown facts (a CLI case, a JSON body) and decide; invalid facts fail with the reason. */
export const decideTaxSync = (model: PublishedWorldModel, facts: unknown): Result.Result<TaxDecision, TaxFactsInvalid> => {
  const decoded = decodeTaxFacts(facts)
  if (Result.isFailure(decoded)) {
    return Result.fail(new TaxFactsInvalid({ message: decoded.failure.message.replace(/\n\s*/g, " ") }))
  }
  return Result.succeed(decideTaxFacts(model, decoded.success))
}

export const decideTax = (model: PublishedWorldModel, facts: unknown): Effect.Effect<TaxDecision, TaxFactsInvalid> =>
  Effect.fromResult(decideTaxSync(model, facts))

export const taxWorldVersions: ReadonlyArray<PublishedWorldModel> = [taxWorld_0_1_0, taxWorld_0_2_0]
