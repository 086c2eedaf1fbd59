/**
 * The generic rule engine: applies a published world model to a flat record of facts. Rules run
 * stage by stage; at the end of each stage every categorical output resolves to its most
 * favourable candidate (the declared preference order) and later stages may read it. Numeric
 * outputs start at their declared initial value and are assigned by applying rules in order.
 * Pure and synchronous: no domain knowledge lives here.
 */
import type { Condition, Facts, FactValue, NumberExpr, Rule } from "./RuleSet.ts"
import type { PublishedWorldModel } from "./WorldModel.ts"

export interface Decision {
  /** Resolved outputs by field (a categorical output with no candidate is absent). */
  readonly outputs: Readonly<Record<string, string | number>>
  /** For each categorical output, the other allowed values, most favourable first. */
  readonly alternatives: Readonly<Record<string, ReadonlyArray<string>>>
  /** Ids of every rule that applied, in evaluation order. */
  readonly firedRules: ReadonlyArray<string>
}

const compare = (op: string, actual: FactValue | undefined, expected: unknown): boolean => {
  switch (op) {
    case "present":
      return actual !== undefined
    case "absent":
      return actual === undefined
    case "ne":
      return actual !== expected
    case "in":
      return actual !== undefined && Array.isArray(expected) && expected.includes(actual)
    default:
      break
  }
  if (actual === undefined) return false
  if (op === "eq") return actual === expected
  if (typeof actual !== "number" || typeof expected !== "number") return false
  if (op === "gt") return actual > expected
  if (op === "gte") return actual >= expected
  if (op === "lt") return actual < expected
  return actual <= expected
}

export const evaluate = (model: PublishedWorldModel, facts: Facts): Decision => {
  const { definition, ruleById } = model
  const resolved: Record<string, string | number> = {}
  const alternatives: Record<string, ReadonlyArray<string>> = {}
  const applies = new Map<string, boolean>()
  const fired: Array<string> = []

  const resolveValue = (value: unknown): unknown => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "fact" in value) {
      const ref = value as { fact: string; plus?: number }
      const base = facts[ref.fact]
      return typeof base === "number" ? base + (ref.plus ?? 0) : undefined
    }
    return value
  }
  const holds = (condition: Condition): boolean => {
    if ("always" in condition) return true
    if ("all" in condition) return condition.all.every(holds)
    if ("any" in condition) return condition.any.some(holds)
    if ("not" in condition) return !holds(condition.not)
    if ("rule" in condition) return ruleApplies(ruleById.get(condition.rule)!)
    if ("outcome" in condition) {
      const value = resolved[condition.outcome]
      return typeof value === "string" && condition.in.includes(value)
    }
    const expected = resolveValue(condition.value)
    if (condition.op !== "present" && condition.op !== "absent" && expected === undefined) return false
    return compare(condition.op, facts[condition.fact], expected)
  }
  const ruleApplies = (rule: Rule): boolean => {
    const known = applies.get(rule.id)
    if (known !== undefined) return known
    const result = holds(rule.appliesWhen)
    applies.set(rule.id, result)
    return result
  }
  const number = (expr: NumberExpr): number => {
    if (typeof expr === "number") return expr
    if ("fact" in expr) {
      const value = facts[expr.fact]
      return (typeof value === "number" ? value : (expr.default ?? 0)) + (expr.plus ?? 0)
    }
    if ("current" in expr) {
      const value = resolved[expr.current]
      return typeof value === "number" ? value : 0
    }
    if ("add" in expr) return expr.add.reduce<number>((sum, e) => sum + number(e), 0)
    if ("max" in expr) return Math.max(...expr.max.map(number))
    if ("min" in expr) return Math.min(...expr.min.map(number))
    if ("mul" in expr) return expr.mul.reduce<number>((product, e) => product * number(e), 1)
    return expr.countTrue.filter((name) => facts[name] === true).length * expr.times
  }

  for (const output of definition.outputs) {
    if (output.kind === "numeric") resolved[output.field] = output.initial
  }
  const stages = [...new Set(definition.rules.map((r) => r.stage))].sort((a, b) => a - b)
  for (const stage of stages) {
    const candidates = new Map<string, Set<string>>()
    for (const rule of definition.rules) {
      if (rule.stage !== stage || !ruleApplies(rule)) continue
      fired.push(rule.id)
      const outcome = rule.outcome
      if (outcome === undefined) continue
      if (outcome.kind === "candidate") {
        const set = candidates.get(outcome.field) ?? new Set<string>()
        set.add(outcome.value)
        candidates.set(outcome.field, set)
      } else {
        resolved[outcome.field] = number(outcome.value)
      }
    }
    for (const output of definition.outputs) {
      if (output.kind !== "categorical") continue
      const set = candidates.get(output.field)
      if (set === undefined) continue
      const ordered = output.preference.filter((value) => set.has(value))
      resolved[output.field] = ordered[0]
      alternatives[output.field] = ordered.slice(1)
    }
  }
  return { outputs: resolved, alternatives, firedRules: fired }
}
