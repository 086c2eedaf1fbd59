/**
 * Structural invariants a proposed change set must respect (the Safety phase asks through
 * `EvalSetProvider.conformity`): no new prompt text, guidance line or few-shot example may assert
 * what a tier-1 rule forbids; no agent may drop an output field its baseline produced; sampling
 * hyperparameters stay inside the world's declared bounds. Each violation names the rule (or
 * bound) and the agent. Pure.
 */
import type { AgentVersion, InvariantViolation } from "@spectral/engine/contracts"
import { hyperparameterBoundsOf } from "./EvalSetGeneration.ts"
import type { PublishedWorldModel } from "./WorldModel.ts"

const texts = (agent: AgentVersion): ReadonlyArray<{ where: string; text: string }> => [
  { where: "basePrompt", text: agent.template.basePrompt },
  ...agent.template.guidance.map((text, i) => ({ where: `guidance[${i}]`, text })),
  ...agent.template.fewShotExamples.flatMap((example, i) => [
    { where: `fewShotExamples[${i}].output`, text: example.output },
    ...(example.note === undefined ? [] : [{ where: `fewShotExamples[${i}].note`, text: example.note }])
  ])
]

const excerpt = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text)

export const checkConformity = (
  model: PublishedWorldModel,
  change: { readonly baseline: ReadonlyArray<AgentVersion>; readonly proposed: ReadonlyArray<AgentVersion> }
): ReadonlyArray<InvariantViolation> => {
  const violations: Array<InvariantViolation> = []
  const baselineById = new Map(change.baseline.map((a) => [a.agentId, a]))
  const proposedById = new Map(change.proposed.map((a) => [a.agentId, a]))
  for (const invariant of model.definition.invariants) {
    switch (invariant.kind) {
      case "no_tier1_contradiction": {
        const guarded = model.definition.rules
          .filter((rule) => rule.tier === 1 && (rule.contradictions?.length ?? 0) > 0)
          .map((rule) => ({ rule, patterns: rule.contradictions!.map((p) => new RegExp(p, "i")) }))
        for (const agent of change.proposed) {
          const before = new Set(texts(baselineById.get(agent.agentId) ?? agent).map((t) => t.text))
          const isNewAgent = !baselineById.has(agent.agentId)
          for (const { text, where } of texts(agent)) {
            if (!isNewAgent && before.has(text)) continue
            for (const { rule, patterns } of guarded) {
              if (patterns.some((pattern) => pattern.test(text))) {
                violations.push({
                  invariant: invariant.id,
                  rule: rule.id,
                  agentId: agent.agentId,
                  message: `${where} "${excerpt(text)}" contradicts tier-1 rule ${rule.id} (${rule.title}): ${rule.statement}`
                })
              }
            }
          }
        }
        break
      }
      case "required_output_fields": {
        const required = new Set(invariant.fields)
        for (const base of change.baseline) {
          const proposed = proposedById.get(base.agentId)
          const kept = new Set(proposed?.template.outputFields ?? [])
          for (const field of base.template.outputFields) {
            if (kept.has(field)) continue
            violations.push({
              invariant: invariant.id,
              rule: `${invariant.id}/${field}`,
              agentId: base.agentId,
              message: proposed === undefined
                ? `agent ${base.agentId} was removed, dropping output field ${field}`
                : `output field ${field} produced by the baseline is removed${required.has(field) ? " (the world requires it in the team's answer)" : ""}`
            })
          }
        }
        break
      }
      case "hyperparameter_bounds": {
        const bounds = hyperparameterBoundsOf(model)
        for (const agent of change.proposed) {
          const { temperature, maxTokens } = agent.hyperparameters
          if (temperature < bounds.temperature.min || temperature > bounds.temperature.max) {
            violations.push({
              invariant: invariant.id,
              rule: "hyperparameterBounds.temperature",
              agentId: agent.agentId,
              message: `temperature ${temperature} is outside [${bounds.temperature.min}, ${bounds.temperature.max}]`
            })
          }
          if (maxTokens < bounds.maxTokens.min || maxTokens > bounds.maxTokens.max) {
            violations.push({
              invariant: invariant.id,
              rule: "hyperparameterBounds.maxTokens",
              agentId: agent.agentId,
              message: `maxTokens ${maxTokens} is outside [${bounds.maxTokens.min}, ${bounds.maxTokens.max}]`
            })
          }
        }
        break
      }
    }
  }
  return violations
}
