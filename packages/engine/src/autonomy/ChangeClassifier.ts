/**
 * Classifies a change set as breaking or non-breaking (for `auto_test`). Non-breaking: additions
 * that keep every agent's contract — guidance lines, few-shot examples, chain-of-thought mode,
 * context selection, temperature or max tokens within the declared bounds. Breaking: a removed
 * output field, a changed base prompt, a changed model or provider, changed upstream injection, or
 * an agent added or removed.
 */
import type { AgentVersion } from "../contracts/index.ts"

export interface Classification {
  readonly breaking: boolean
  readonly reasons: ReadonlyArray<string>
}

export const classifyChange = (baseline: ReadonlyArray<AgentVersion>, proposed: ReadonlyArray<AgentVersion>): Classification => {
  const reasons: Array<string> = []
  const before = new Map(baseline.map((a) => [a.agentId, a]))
  const after = new Map(proposed.map((a) => [a.agentId, a]))
  for (const id of before.keys()) if (!after.has(id)) reasons.push(`agent ${id} removed`)
  for (const id of after.keys()) if (!before.has(id)) reasons.push(`agent ${id} added`)
  for (const [id, b] of before) {
    const p = after.get(id)
    if (p === undefined) continue
    const removed = b.template.outputFields.filter((f) => !p.template.outputFields.includes(f))
    if (removed.length > 0) reasons.push(`${id}: output field(s) ${removed.join(", ")} removed`)
    if (b.template.basePrompt !== p.template.basePrompt) reasons.push(`${id}: base prompt rewritten`)
    if (b.hyperparameters.model !== p.hyperparameters.model || b.hyperparameters.provider !== p.hyperparameters.provider) {
      reasons.push(`${id}: model changed from ${b.hyperparameters.provider}/${b.hyperparameters.model} to ${p.hyperparameters.provider}/${p.hyperparameters.model}`)
    }
    if (JSON.stringify(b.template.upstreamInjection) !== JSON.stringify(p.template.upstreamInjection)) reasons.push(`${id}: upstream injection changed`)
  }
  return { breaking: reasons.length > 0, reasons }
}
