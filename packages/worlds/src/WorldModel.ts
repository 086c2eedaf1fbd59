/**
 * Decoding, validating and publishing a world model. Publication freezes a definition into an
 * immutable `PublishedWorldModel` whose `EvaluationAuthorityRef` carries id, version and the
 * SHA-256 of the canonical JSON of its rule set (rules, outputs, dimensions, invariants): the same
 * rules always hash the same, any change to a rule changes the hash. Evaluation is not here.
 */
import { createHash } from "node:crypto"
import { Effect, Result, Schema } from "effect"
import type { EvaluationAuthorityRef } from "@spectral/engine/contracts"
import { type Condition, type NumberExpr, Rule, type WorldModelDefinition, WorldModelHeader } from "./RuleSet.ts"

export class WorldModelInvalid extends Schema.TaggedError<WorldModelInvalid>()("WorldModelInvalid", {
  worldModelId: Schema.String,
  /** The offending rule, when the problem is inside one. */
  ruleId: Schema.NullOr(Schema.String),
  /** Path of the offending field inside the rule (or the definition). */
  field: Schema.String,
  message: Schema.String
}) {}

export interface PublishedWorldModel {
  readonly definition: WorldModelDefinition
  readonly authority: EvaluationAuthorityRef
  readonly ruleById: ReadonlyMap<string, Rule>
}

/** JSON with object keys sorted at every depth: the input of the rule-set hash. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

/** `sha256:<hex>` of the rule set (rules sorted by id, outputs, dimensions, invariants). */
export const ruleSetHash = (definition: WorldModelDefinition): string => {
  const ruleSet = {
    rules: [...definition.rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    outputs: definition.outputs,
    dimensions: definition.dimensions,
    invariants: definition.invariants
  }
  return `sha256:${createHash("sha256").update(canonicalJson(ruleSet)).digest("hex")}`
}

const issuePath = (message: string): string => {
  const match = /\n\s*at (.*)$/m.exec(message)
  return match ? match[1] : "(root)"
}
const issueText = (message: string): string => message.split("\n")[0]

const conditionFacts = (condition: Condition, into: Array<{ fact: string; path: string }>, path: string): void => {
  if ("all" in condition) condition.all.forEach((c, i) => conditionFacts(c, into, `${path}.all[${i}]`))
  else if ("any" in condition) condition.any.forEach((c, i) => conditionFacts(c, into, `${path}.any[${i}]`))
  else if ("not" in condition) conditionFacts(condition.not, into, `${path}.not`)
  else if ("fact" in condition) {
    into.push({ fact: condition.fact, path: `${path}.fact` })
    const value = condition.value
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "fact" in value) {
      into.push({ fact: value.fact, path: `${path}.value.fact` })
    }
  }
}
const conditionRules = (condition: Condition, into: Array<string>): void => {
  if ("all" in condition) condition.all.forEach((c) => conditionRules(c, into))
  else if ("any" in condition) condition.any.forEach((c) => conditionRules(c, into))
  else if ("not" in condition) conditionRules(condition.not, into)
  else if ("rule" in condition) into.push(condition.rule)
}
const conditionOutcomes = (condition: Condition, into: Array<string>): void => {
  if ("all" in condition) condition.all.forEach((c) => conditionOutcomes(c, into))
  else if ("any" in condition) condition.any.forEach((c) => conditionOutcomes(c, into))
  else if ("not" in condition) conditionOutcomes(condition.not, into)
  else if ("outcome" in condition) into.push(condition.outcome)
}
const exprFacts = (expr: NumberExpr, into: Array<string>): void => {
  if (typeof expr === "number") return
  if ("fact" in expr) into.push(expr.fact)
  else if ("countTrue" in expr) into.push(...expr.countTrue)
  else if ("add" in expr) expr.add.forEach((e) => exprFacts(e, into))
  else if ("max" in expr) expr.max.forEach((e) => exprFacts(e, into))
  else if ("min" in expr) expr.min.forEach((e) => exprFacts(e, into))
  else if ("mul" in expr) expr.mul.forEach((e) => exprFacts(e, into))
}

/** Cross-rule checks the schema cannot express: unique ids, declared facts and outputs, references, cycles. */
const validate = (definition: WorldModelDefinition): WorldModelInvalid | undefined => {
  const fail = (ruleId: string | null, field: string, message: string) =>
    new WorldModelInvalid({ worldModelId: definition.id, ruleId, field, message })
  const facts = new Set(definition.facts.map((f) => f.name))
  const outputs = new Map(definition.outputs.map((o) => [o.field, o]))
  const ids = new Set<string>()
  for (const rule of definition.rules) {
    if (ids.has(rule.id)) return fail(rule.id, "id", `duplicate rule id ${rule.id}`)
    ids.add(rule.id)
  }
  for (const rule of definition.rules) {
    const usedFacts: Array<{ fact: string; path: string }> = []
    conditionFacts(rule.appliesWhen, usedFacts, "appliesWhen")
    for (const used of usedFacts) {
      if (!facts.has(used.fact)) return fail(rule.id, used.path, `unknown fact ${used.fact}`)
    }
    const refs: Array<string> = []
    conditionRules(rule.appliesWhen, refs)
    for (const ref of refs) {
      if (!ids.has(ref)) return fail(rule.id, "appliesWhen.rule", `unknown rule ${ref}`)
      const target = definition.rules.find((r) => r.id === ref)!
      if (target.stage > rule.stage) return fail(rule.id, "appliesWhen.rule", `rule ${ref} is evaluated in a later stage`)
    }
    const outcomeRefs: Array<string> = []
    conditionOutcomes(rule.appliesWhen, outcomeRefs)
    for (const field of outcomeRefs) {
      const output = outputs.get(field)
      if (output === undefined || output.kind !== "categorical") return fail(rule.id, "appliesWhen.outcome", `unknown categorical output ${field}`)
      const producers = definition.rules.filter((r) => r.outcome?.kind === "candidate" && r.outcome.field === field)
      if (producers.some((r) => r.stage >= rule.stage)) return fail(rule.id, "appliesWhen.outcome", `output ${field} is not resolved before stage ${rule.stage}`)
    }
    const outcome = rule.outcome
    if (outcome !== undefined) {
      const output = outputs.get(outcome.field)
      if (output === undefined) return fail(rule.id, "outcome.field", `unknown output ${outcome.field}`)
      if (outcome.kind === "candidate") {
        if (output.kind !== "categorical") return fail(rule.id, "outcome.field", `output ${outcome.field} is not categorical`)
        if (!output.preference.includes(outcome.value)) return fail(rule.id, "outcome.value", `value ${outcome.value} is not one of ${output.preference.join(", ")}`)
      } else {
        if (output.kind !== "numeric") return fail(rule.id, "outcome.field", `output ${outcome.field} is not numeric`)
        const used: Array<string> = []
        exprFacts(outcome.value, used)
        for (const fact of used) if (!facts.has(fact)) return fail(rule.id, "outcome.value", `unknown fact ${fact}`)
      }
    }
    for (const [i, pattern] of (rule.contradictions ?? []).entries()) {
      const compiled = Result.try(() => new RegExp(pattern, "i"))
      if (Result.isFailure(compiled)) return fail(rule.id, `contradictions[${i}]`, `not a regular expression: ${pattern}`)
    }
  }
  // Rule references must not form a cycle.
  const visiting = new Set<string>()
  const done = new Set<string>()
  const byId = new Map(definition.rules.map((r) => [r.id, r]))
  const visit = (id: string): string | undefined => {
    if (done.has(id)) return undefined
    if (visiting.has(id)) return id
    visiting.add(id)
    const refs: Array<string> = []
    conditionRules(byId.get(id)!.appliesWhen, refs)
    for (const ref of refs) {
      const cycle = visit(ref)
      if (cycle !== undefined) return cycle
    }
    visiting.delete(id)
    done.add(id)
    return undefined
  }
  for (const rule of definition.rules) {
    const cycle = visit(rule.id)
    if (cycle !== undefined) return fail(cycle, "appliesWhen.rule", `rule references form a cycle through ${cycle}`)
  }
  const dimensionFields = new Set(definition.dimensions.map((d) => d.field))
  for (const field of dimensionFields) {
    if (!outputs.has(field)) return fail(null, "dimensions", `dimension reads undeclared output ${field}`)
  }
  return undefined
}

/**
 * Decode an authored definition (TypeScript object or parsed JSON). The header is decoded first,
 * then each rule on its own so that a malformed rule is reported with its id and field.
 */
export const decodeWorldModel = (input: unknown): Result.Result<WorldModelDefinition, WorldModelInvalid> => {
  const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>
  const worldModelId = typeof raw.id === "string" ? raw.id : "(unknown)"
  const header = Schema.decodeUnknownResult(WorldModelHeader)(raw)
  if (Result.isFailure(header)) {
    const message = header.failure.message
    return Result.fail(new WorldModelInvalid({ worldModelId, ruleId: null, field: issuePath(message), message: issueText(message) }))
  }
  if (!Array.isArray(raw.rules) || raw.rules.length === 0) {
    return Result.fail(new WorldModelInvalid({ worldModelId, ruleId: null, field: "rules", message: "expected a non-empty array of rules" }))
  }
  const rules: Array<Rule> = []
  for (const [index, rawRule] of raw.rules.entries()) {
    const decoded = Schema.decodeUnknownResult(Rule)(rawRule)
    if (Result.isFailure(decoded)) {
      const id = typeof rawRule === "object" && rawRule !== null && typeof (rawRule as { id?: unknown }).id === "string"
        ? (rawRule as { id: string }).id
        : `rules[${index}]`
      const message = decoded.failure.message
      return Result.fail(new WorldModelInvalid({ worldModelId, ruleId: id, field: issuePath(message), message: `rule ${id}: ${issueText(message)}` }))
    }
    rules.push(decoded.success)
  }
  const definition: WorldModelDefinition = { ...header.success, rules }
  const invalid = validate(definition)
  return invalid === undefined ? Result.succeed(definition) : Result.fail(invalid)
}

const deepFreeze = <A>(value: A): A => {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** Decode, validate and freeze a definition into an immutable published version (pure). */
export const publishSync = (input: unknown): Result.Result<PublishedWorldModel, WorldModelInvalid> =>
  Result.map(decodeWorldModel(input), (definition) => {
    const frozen = deepFreeze(structuredClone(definition))
    return Object.freeze({
      definition: frozen,
      authority: Object.freeze({ worldModelId: frozen.id, worldModelVersion: frozen.version, ruleSetHash: ruleSetHash(frozen) }),
      ruleById: new Map(frozen.rules.map((r) => [r.id, r]))
    })
  })

/** Effect form of `publishSync`. */
export const publish = (input: unknown): Effect.Effect<PublishedWorldModel, WorldModelInvalid> =>
  Effect.fromResult(publishSync(input))

/** Publish a definition that ships with this package; a failure here is a defect of the package. */
export const publishOrThrow = (input: unknown): PublishedWorldModel => {
  const result = publishSync(input)
  if (Result.isFailure(result)) throw new Error(`${result.failure.worldModelId}: ${result.failure.message} (${result.failure.field})`)
  return result.success
}
