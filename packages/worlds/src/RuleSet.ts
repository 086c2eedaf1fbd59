/**
 * The world-model format: facts, rules (with tiers, citations, applicability conditions and
 * outcomes), outputs, scoring dimensions and structural invariants, all as Schema-decoded data.
 * A definition is authored in TypeScript or JSON and decoded here; a malformed rule fails with
 * its rule id and the path of the offending field. This module owns the format only: evaluation
 * lives in `RuleEngine.ts`, publication and hashing in `WorldModel.ts`.
 */
import { Schema } from "effect"
import { HyperparameterBounds, ScoringDimension } from "@spectral/engine/contracts"

/** A fact value: facts are flat (string, number or boolean). */
export const FactValue = Schema.Union([Schema.String, Schema.Finite, Schema.Boolean])
export type FactValue = typeof FactValue.Type

/** A flat record of facts, the input of the rule engine. */
export type Facts = Readonly<Record<string, FactValue>>

/** A number computed from facts: a constant, a fact (with an offset), or a combination. */
export type NumberExpr =
  | number
  | { readonly fact: string; readonly plus?: number; readonly default?: number }
  | { readonly current: string }
  | { readonly add: ReadonlyArray<NumberExpr> }
  | { readonly max: ReadonlyArray<NumberExpr> }
  | { readonly min: ReadonlyArray<NumberExpr> }
  | { readonly mul: ReadonlyArray<NumberExpr> }
  | { readonly countTrue: ReadonlyArray<string>; readonly times: number }

export const NumberExpr: Schema.Codec<NumberExpr> = Schema.Union([
  Schema.Finite,
  Schema.Struct({ fact: Schema.NonEmptyString, plus: Schema.optionalKey(Schema.Finite), default: Schema.optionalKey(Schema.Finite) }),
  Schema.Struct({ current: Schema.NonEmptyString }),
  Schema.Struct({ add: Schema.Array(Schema.suspend(() => NumberExpr)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ max: Schema.Array(Schema.suspend(() => NumberExpr)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ min: Schema.Array(Schema.suspend(() => NumberExpr)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ mul: Schema.Array(Schema.suspend(() => NumberExpr)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ countTrue: Schema.Array(Schema.NonEmptyString).check(Schema.isMinLength(1)), times: Schema.Finite })
])

export const FactOperator = Schema.Literals(["eq", "ne", "in", "gt", "gte", "lt", "lte", "present", "absent"])
export type FactOperator = typeof FactOperator.Type

/**
 * When a rule applies. `fact` compares one fact (an absent fact satisfies only `ne` and
 * `absent`); `rule` is true when another rule applies; `outcome` reads an already resolved
 * categorical output (rules of a later stage only).
 */
export type Condition =
  | { readonly always: true }
  | { readonly all: ReadonlyArray<Condition> }
  | { readonly any: ReadonlyArray<Condition> }
  | { readonly not: Condition }
  | { readonly fact: string; readonly op: FactOperator; readonly value?: FactValue | ReadonlyArray<FactValue> | { readonly fact: string; readonly plus?: number } }
  | { readonly rule: string }
  | { readonly outcome: string; readonly in: ReadonlyArray<string> }

export const Condition: Schema.Codec<Condition> = Schema.Union([
  Schema.Struct({ always: Schema.Literal(true) }),
  Schema.Struct({ all: Schema.Array(Schema.suspend(() => Condition)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ any: Schema.Array(Schema.suspend(() => Condition)).check(Schema.isMinLength(1)) }),
  Schema.Struct({ not: Schema.suspend(() => Condition) }),
  Schema.Struct({
    fact: Schema.NonEmptyString,
    op: FactOperator,
    value: Schema.optionalKey(Schema.Union([
      FactValue,
      Schema.Array(FactValue),
      Schema.Struct({ fact: Schema.NonEmptyString, plus: Schema.optionalKey(Schema.Finite) })
    ]))
  }),
  Schema.Struct({ rule: Schema.NonEmptyString }),
  Schema.Struct({ outcome: Schema.NonEmptyString, in: Schema.Array(Schema.String).check(Schema.isMinLength(1)) })
])

/** What an applying rule contributes: a candidate value of a categorical output, or a number. */
export const RuleOutcome = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("candidate"), field: Schema.NonEmptyString, value: Schema.NonEmptyString }),
  Schema.Struct({ kind: Schema.Literal("assign"), field: Schema.NonEmptyString, value: NumberExpr })
])
export type RuleOutcome = typeof RuleOutcome.Type

export const Citation = Schema.Struct({
  source: Schema.NonEmptyString,
  section: Schema.NonEmptyString,
  url: Schema.optionalKey(Schema.String)
})
export type Citation = typeof Citation.Type

/** Tier 1: the standard itself (statute, regulation); tier 2: definitions and tests; tier 3: interpretive guidance. */
export const RuleTier = Schema.Literals([1, 2, 3])
export type RuleTier = typeof RuleTier.Type

export const Rule = Schema.Struct({
  id: Schema.NonEmptyString.check(Schema.isPattern(/^[a-z0-9][a-z0-9._-]*$/)),
  tier: RuleTier,
  kind: Schema.Literals(["definition", "eligibility", "amount", "guidance"]),
  title: Schema.NonEmptyString,
  /** The rule in one plain sentence, as the source states it. */
  statement: Schema.NonEmptyString,
  citation: Citation,
  /** Evaluation stage: categorical outputs resolve at the end of each stage. */
  stage: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  appliesWhen: Condition,
  outcome: Schema.optionalKey(RuleOutcome),
  /**
   * Case-insensitive regular expressions describing guidance that contradicts this rule
   * (used by the conformity check on change sets).
   */
  contradictions: Schema.optionalKey(Schema.Array(Schema.NonEmptyString))
})
export type Rule = typeof Rule.Type

export const FactDeclaration = Schema.Struct({
  name: Schema.NonEmptyString,
  type: Schema.Literals(["boolean", "number", "string"]),
  values: Schema.optionalKey(Schema.Array(Schema.String)),
  description: Schema.String
})
export type FactDeclaration = typeof FactDeclaration.Type

export const OutputDeclaration = Schema.Union([
  Schema.Struct({
    field: Schema.NonEmptyString,
    kind: Schema.Literal("categorical"),
    /** Most favourable first: when several values are allowed, the first one wins. */
    preference: Schema.Array(Schema.NonEmptyString).check(Schema.isMinLength(1))
  }),
  Schema.Struct({ field: Schema.NonEmptyString, kind: Schema.Literal("numeric"), initial: Schema.Finite })
])
export type OutputDeclaration = typeof OutputDeclaration.Type

export const StructuralInvariant = Schema.Union([
  Schema.Struct({ id: Schema.NonEmptyString, kind: Schema.Literal("no_tier1_contradiction"), description: Schema.String }),
  Schema.Struct({
    id: Schema.NonEmptyString,
    kind: Schema.Literal("required_output_fields"),
    description: Schema.String,
    /** Fields the team's answer must carry; any field the baseline declared stays required too. */
    fields: Schema.Array(Schema.NonEmptyString)
  }),
  Schema.Struct({ id: Schema.NonEmptyString, kind: Schema.Literal("hyperparameter_bounds"), description: Schema.String, bounds: HyperparameterBounds })
])
export type StructuralInvariant = typeof StructuralInvariant.Type

/** A world model as authored: everything but the rules is decoded in one go, rules one by one. */
export const WorldModelHeader = Schema.Struct({
  id: Schema.NonEmptyString.check(Schema.isPattern(/^[a-z0-9][a-z0-9-]*$/)),
  version: Schema.NonEmptyString.check(Schema.isPattern(/^\d+\.\d+\.\d+$/)),
  title: Schema.NonEmptyString,
  domain: Schema.NonEmptyString,
  description: Schema.String,
  sources: Schema.Array(Citation).check(Schema.isMinLength(1)),
  facts: Schema.Array(FactDeclaration),
  outputs: Schema.Array(OutputDeclaration).check(Schema.isMinLength(1)),
  dimensions: Schema.Array(ScoringDimension).check(Schema.isMinLength(1)),
  invariants: Schema.Array(StructuralInvariant),
  /** Segment labels the generator uses, with a short description each (for the card). */
  segments: Schema.Record(Schema.String, Schema.String)
})
export type WorldModelHeader = typeof WorldModelHeader.Type

export interface WorldModelDefinition extends WorldModelHeader {
  readonly rules: ReadonlyArray<Rule>
}
