/**
 * Classifies a change set as breaking or non-breaking (for `auto_test`): does every agent keep its
 * contract with the agents and the host downstream of it?
 *
 * Non-breaking: guidance lines, few-shot examples, chain-of-thought mode, context selection, an
 * added output field, a temperature change within ±`TEMPERATURE_BOUND`, top-p, more max tokens,
 * a seed. Breaking: a removed output field, a rewritten base prompt, a changed model or provider,
 * changed upstream injection, a temperature jump beyond the bound, max tokens cut below half
 * (answers truncate), an agent added or removed. Each reason names the agent and what changed.
 */
import type { AgentVersion } from "../contracts/index.ts"

export interface Classification {
  readonly breaking: boolean
  readonly reasons: ReadonlyArray<string>
  /** What changed without breaking anything (for the audit trail). */
  readonly nonBreaking: ReadonlyArray<string>
}

/** Largest temperature change still treated as tuning rather than a different behaviour. */
export const TEMPERATURE_BOUND = 0.5

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

export const classifyChange = (baseline: ReadonlyArray<AgentVersion>, proposed: ReadonlyArray<AgentVersion>): Classification => {
  const reasons: Array<string> = []
  const nonBreaking: Array<string> = []
  const before = new Map(baseline.map((a) => [a.agentId, a]))
  const after = new Map(proposed.map((a) => [a.agentId, a]))
  for (const id of before.keys()) if (!after.has(id)) reasons.push(`agent ${id} removed`)
  for (const id of after.keys()) if (!before.has(id)) reasons.push(`agent ${id} added`)
  for (const [id, b] of before) {
    const p = after.get(id)
    if (p === undefined) continue
    const bt = b.template, pt = p.template, bh = b.hyperparameters, ph = p.hyperparameters
    const removed = bt.outputFields.filter((f) => !pt.outputFields.includes(f))
    if (removed.length > 0) reasons.push(`${id}: output field(s) ${removed.join(", ")} removed`)
    const added = pt.outputFields.filter((f) => !bt.outputFields.includes(f))
    if (added.length > 0) nonBreaking.push(`${id}: output field(s) ${added.join(", ")} added`)
    if (bt.basePrompt !== pt.basePrompt) reasons.push(`${id}: base prompt rewritten`)
    if (bh.model !== ph.model || bh.provider !== ph.provider || bh.modelVersion !== ph.modelVersion) {
      reasons.push(`${id}: model changed from ${bh.provider}/${bh.model} to ${ph.provider}/${ph.model}`)
    }
    if (!same(bt.upstreamInjection, pt.upstreamInjection)) reasons.push(`${id}: upstream injection changed`)
    const dt = ph.temperature - bh.temperature
    if (Math.abs(dt) > TEMPERATURE_BOUND + 1e-12) reasons.push(`${id}: temperature ${bh.temperature} → ${ph.temperature} is beyond ±${TEMPERATURE_BOUND}`)
    else if (dt !== 0) nonBreaking.push(`${id}: temperature ${bh.temperature} → ${ph.temperature}`)
    if (ph.maxTokens < bh.maxTokens / 2) reasons.push(`${id}: max tokens cut from ${bh.maxTokens} to ${ph.maxTokens}`)
    else if (ph.maxTokens !== bh.maxTokens) nonBreaking.push(`${id}: max tokens ${bh.maxTokens} → ${ph.maxTokens}`)
    if (!same(bt.guidance, pt.guidance)) nonBreaking.push(`${id}: guidance`)
    if (!same(bt.fewShotExamples, pt.fewShotExamples)) nonBreaking.push(`${id}: few-shot examples`)
    if (bt.chainOfThought !== pt.chainOfThought) nonBreaking.push(`${id}: chain of thought ${bt.chainOfThought} → ${pt.chainOfThought}`)
    if (!same(bt.contextSelection, pt.contextSelection)) nonBreaking.push(`${id}: context selection`)
  }
  return { breaking: reasons.length > 0, reasons, nonBreaking }
}
