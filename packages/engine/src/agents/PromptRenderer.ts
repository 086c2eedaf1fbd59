/**
 * Renders a structured PromptTemplate into system and user messages: base prompt, guidance,
 * chain-of-thought instruction, few-shot examples, the selected context and the upstream outputs.
 * Pure; the same template and inputs always render the same text.
 */
import type { PromptTemplate } from "../contracts/index.ts"

export interface RenderedPrompt {
  readonly system: string
  readonly user: string
}

const chainOfThoughtInstruction = {
  none: "",
  brief: "Think briefly about the deciding facts before answering, then give the answer.",
  full: "Reason step by step through every applicable test before answering; check each condition explicitly, then give the answer."
} as const

const truncate = (text: string, maxChars: number, from: "head" | "tail"): string =>
  text.length <= maxChars ? text : from === "head" ? text.slice(0, maxChars) : text.slice(text.length - maxChars)

const pick = (value: Record<string, unknown>, fields: ReadonlyArray<string> | undefined) =>
  fields === undefined ? value : Object.fromEntries(fields.filter((f) => f in value).map((f) => [f, value[f]]))

const fixedParts = new WeakMap<PromptTemplate, { readonly system: string; readonly examples: ReadonlyArray<string> }>()

/**
 * The parts of a template's prompt that are the same for every stimulus (the system message, the
 * few-shot example blocks): built once per template object (templates are immutable values).
 */
const fixedPartsOf = (template: PromptTemplate) => {
  const cached = fixedParts.get(template)
  if (cached !== undefined) return cached
  const system: Array<string> = [template.basePrompt.trim()]
  if (template.guidance.length > 0) {
    system.push("Guidance:\n" + template.guidance.map((line) => `- ${line}`).join("\n"))
  }
  const cot = chainOfThoughtInstruction[template.chainOfThought]
  if (cot !== "") system.push(cot)
  system.push(
    `Answer with one JSON object with exactly these fields: ${template.outputFields.join(", ")}.`
  )
  const parts = {
    system: system.join("\n\n"),
    examples: template.fewShotExamples.map((example, i) => `Example ${i + 1}:\nInput: ${example.input}\nOutput: ${example.output}`)
  }
  fixedParts.set(template, parts)
  return parts
}

export const renderPrompt = (
  template: PromptTemplate,
  stimulus: string,
  upstream: ReadonlyArray<{ readonly agentId: string; readonly output: Record<string, unknown> }>
): RenderedPrompt => {
  const fixed = fixedPartsOf(template)
  const user: Array<string> = [...fixed.examples]
  if (template.upstreamInjection.mode !== "none") {
    for (const { agentId, output } of upstream) {
      const shown = template.upstreamInjection.mode === "fields" ? pick(output, template.upstreamInjection.fields) : output
      user.push(`${template.upstreamInjection.label} (from ${agentId}):\n${JSON.stringify(shown)}`)
    }
  }
  let context = stimulus
  if (template.contextSelection.mode === "fields" && template.contextSelection.fields !== undefined) {
    const wanted = template.contextSelection.fields.map((f) => f.toLowerCase())
    context = stimulus
      .split(/(?<=[.!?])\s+/)
      .filter((sentence) => wanted.some((w) => sentence.toLowerCase().includes(w)))
      .join(" ") || stimulus
  }
  user.push(`Input:\n${truncate(context, template.contextSelection.maxChars, template.contextSelection.truncation)}`)
  return { system: fixed.system, user: user.join("\n\n") }
}

/** The text of a rendered prompt as one string: system, a `---` line, user. */
export const renderedPromptText = (prompt: RenderedPrompt): string => `${prompt.system}\n---\n${prompt.user}`

/**
 * Re-creates, byte for byte, the prompt one run of a stored trace was sent: from the agent's
 * template version (the run's `agentVersion`), the trace's stimulus (`input`) and the outputs of the
 * agent's upstream runs in the same trace — what `AgentRunner` rendered it from. `undefined` when
 * the trace has no stimulus (traces stored before 0.2 kept the prompt itself, in `run.prompt`).
 */
export const renderedRunPrompt = (
  trace: { readonly input?: string | undefined; readonly runs: ReadonlyArray<{ readonly agentId: string; readonly output?: Record<string, unknown> | undefined; readonly prompt?: string | undefined }> },
  agentId: string,
  template: PromptTemplate,
  dependsOn: ReadonlyArray<string>
): string | undefined => {
  const own = trace.runs.find((run) => run.agentId === agentId)
  if (own?.prompt !== undefined) return own.prompt
  if (trace.input === undefined) return undefined
  const upstream = dependsOn.map((id) => ({ agentId: id, output: trace.runs.find((run) => run.agentId === id)?.output ?? {} }))
  return renderedPromptText(renderPrompt(template, trace.input, upstream))
}
