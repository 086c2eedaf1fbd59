/**
 * Prompt-template inference: across many observed conversation starts of one agent, segment the
 * system and user prompts into the structured PromptTemplate — base prompt (text stable across
 * traces), context block (the varying text), few-shot examples (repeated input/output patterns in
 * the stable text), chain-of-thought instruction, upstream injection (varying text that carries an
 * upstream agent's output) and output fields — as a draft with a confidence per part. The host
 * confirms or edits the draft; a declared template stays the fallback for low-confidence parts.
 * Pure: it reads texts handed to it, it stores nothing.
 */
import type { ChainOfThought, ContextSelection, FewShotExample, PromptTemplate, UpstreamInjection } from "../contracts/index.ts"
import type { Trace } from "../contracts/index.ts"
import type { AgentInference } from "./AgentInference.ts"
import { conversationStart, genAiView, parseJsonText } from "./GenAiView.ts"

export interface ObservedPrompt {
  /** System / developer instructions at the conversation start. */
  readonly system: string
  /** The first user turn. */
  readonly user: string
  /** What the agent answered (for output fields). */
  readonly output?: string
  /** Outputs of upstream agents in the same trace, produced before this call. */
  readonly upstream?: ReadonlyArray<{ readonly agent: string; readonly output: string }>
}

export interface DraftPart<A> {
  readonly value: A
  /** How sure the inference is, in [0, 1]. */
  readonly confidence: number
  readonly evidence: string
}

export interface PromptTemplateDraft {
  readonly agentName: string
  readonly observedPrompts: number
  readonly basePrompt: DraftPart<string>
  readonly contextSelection: DraftPart<ContextSelection>
  readonly fewShotExamples: DraftPart<ReadonlyArray<FewShotExample>>
  readonly chainOfThought: DraftPart<ChainOfThought>
  readonly upstreamInjection: DraftPart<UpstreamInjection> & { readonly from: ReadonlyArray<string> }
  readonly outputFields: DraftPart<ReadonlyArray<string>>
}

/** A line is stable when it appears in at least this share of the prompts. */
const StableShare = 0.8
const MinInjectedChars = 16

const linesOf = (text: string): Array<string> =>
  text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0)

const round2 = (x: number): number => Math.round(x * 100) / 100

/** More observations make every part more certain; five or more count fully. */
const sampleFactor = (n: number): number => Math.min(1, n / 5)

const fullCot = /\b(step[- ]by[- ]step|show (your|the) (work|reasoning)|think (it )?through|chain[- ]of[- ]thought|reason (carefully|through))\b/i
const briefCot = /\b(brief(ly)? (explain|reason|justify)|short (reasoning|explanation)|explain your (reasoning|answer) (briefly|in one sentence))\b/i
const exampleInput = /^(?:example\s*\d*\s*[-:.)]?\s*)?(input|question|q|user|customer)\s*[:：]\s*(.*)$/i
const exampleOutput = /^(output|answer|a|assistant|response|agent)\s*[:：]\s*(.*)$/i
const exampleHeader = /^(example|sample)\s*\d*\s*[:：.)-]?\s*$/i

/** Input/output pairs written into the stable text, and the lines they occupy. */
const findFewShot = (stable: ReadonlyArray<string>): { examples: Array<FewShotExample>; used: Set<number> } => {
  const examples: Array<FewShotExample> = []
  const used = new Set<number>()
  for (let i = 0; i < stable.length - 1; i++) {
    const input = exampleInput.exec(stable[i]!)
    if (input === null) continue
    const output = exampleOutput.exec(stable[i + 1]!)
    if (output === null) continue
    examples.push({ input: input[2]!.trim(), output: output[2]!.trim() })
    used.add(i)
    used.add(i + 1)
    if (i > 0 && exampleHeader.test(stable[i - 1]!)) used.add(i - 1)
    i++
  }
  // One pair is an instruction format, not a repeated example pattern.
  return examples.length >= 2 ? { examples, used } : { examples: [], used: new Set() }
}

export const inferPromptTemplate = (agentName: string, prompts: ReadonlyArray<ObservedPrompt>): PromptTemplateDraft => {
  const n = prompts.length
  const factor = sampleFactor(n)
  const segmented = prompts.map((p) => ({ system: linesOf(p.system), user: linesOf(p.user) }))
  const all = segmented.map((s) => [...s.system, ...s.user])
  // Stability of each distinct line across prompts.
  const presence = new Map<string, number>()
  for (const lines of all) for (const line of new Set(lines)) presence.set(line, (presence.get(line) ?? 0) + 1)
  const threshold = n <= 1 ? 1 : Math.ceil(StableShare * n)
  const isStable = (line: string, inSystem: boolean): boolean =>
    n <= 1 ? inSystem : (presence.get(line) ?? 0) >= threshold
  // Stable lines in the order of the first prompt that has them all (system first, then user).
  const first = segmented[0] ?? { system: [], user: [] }
  const stableOrdered: Array<string> = []
  const seenStable = new Set<string>()
  for (const line of first.system) if (isStable(line, true) && !seenStable.has(line)) stableOrdered.push(line), seenStable.add(line)
  for (const line of first.user) if (isStable(line, false) && !seenStable.has(line)) stableOrdered.push(line), seenStable.add(line)

  const fewShot = findFewShot(stableOrdered)
  let cot: ChainOfThought = "none"
  let cotLine = ""
  const baseLines: Array<string> = []
  stableOrdered.forEach((line, index) => {
    if (fewShot.used.has(index)) return
    if (cot === "none" && fullCot.test(line)) {
      cot = "full"
      cotLine = line
    } else if (cot === "none" && briefCot.test(line)) {
      cot = "brief"
      cotLine = line
    }
    baseLines.push(line)
  })
  const stableShares = stableOrdered.map((line) => (presence.get(line) ?? 0) / Math.max(1, n))
  const meanStability = stableShares.length === 0 ? 0 : stableShares.reduce((s, v) => s + v, 0) / stableShares.length

  // Varying text per prompt: the lines that are not stable.
  const varying = segmented.map((s) => [...s.system.filter((l) => !isStable(l, true)), ...s.user.filter((l) => !isStable(l, false))])
  const varyingLengths = varying.map((lines) => lines.join("\n").length)
  const withContext = varyingLengths.filter((len) => len > 0).length
  const longest = varyingLengths.reduce((m, v) => Math.max(m, v), 0)

  // Upstream injection: varying lines that contain (or are contained in) an upstream output.
  const injectedBy = new Map<string, number>()
  const labels = new Map<string, number>()
  let jsonInjections = 0
  let injectedPrompts = 0
  prompts.forEach((prompt, index) => {
    const lines = varying[index]!
    let injected = false
    for (const upstream of prompt.upstream ?? []) {
      const output = upstream.output.trim()
      if (output.length < MinInjectedChars) continue
      const text = lines.join("\n")
      const position = text.indexOf(output.length > 200 ? output.slice(0, 200) : output)
      if (position < 0) continue
      injected = true
      injectedBy.set(upstream.agent, (injectedBy.get(upstream.agent) ?? 0) + 1)
      const lineStart = text.lastIndexOf("\n", position) + 1
      const before = text.slice(lineStart, position).replace(/[:：\s]+$/, "").trim()
      const label = before !== "" ? before : (stableLabelBefore(prompt, output) ?? "")
      if (label !== "") labels.set(label, (labels.get(label) ?? 0) + 1)
      const parsed = parseJsonText(output)
      if (typeof parsed === "object" && parsed !== null) jsonInjections++
    }
    if (injected) injectedPrompts++
  })
  const injectionShare = n === 0 ? 0 : injectedPrompts / n
  const upstreamAgents = [...injectedBy.keys()].sort()
  const label = [...labels.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? "Upstream results"

  // Output fields: keys every JSON-object output has.
  const outputs = prompts.map((p) => (p.output === undefined ? undefined : parseJsonText(p.output.trim())))
  const objects = outputs.filter((o): o is Record<string, unknown> => typeof o === "object" && o !== null && !Array.isArray(o))
  let fields: Array<string> = []
  if (objects.length > 0) {
    fields = Object.keys(objects[0]!).filter((key) => objects.every((o) => key in o)).sort()
  }
  const outputsSeen = outputs.filter((o) => o !== undefined).length

  const contextInjectedOnly = injectionShare > 0 && varying.every((lines, i) => lines.length === 0 || (prompts[i]!.upstream ?? []).length > 0)
  return {
    agentName,
    observedPrompts: n,
    basePrompt: {
      value: baseLines.join("\n"),
      confidence: baseLines.length === 0 ? 0 : round2((n <= 1 ? 0.5 : meanStability) * factor),
      evidence: n <= 1
        ? "one conversation start: the system prompt is taken as the base prompt"
        : `${baseLines.length} line(s) present in at least ${Math.round(StableShare * 100)}% of ${n} prompts`
    },
    contextSelection: {
      value: {
        mode: "full",
        maxChars: Math.max(1000, Math.ceil((longest * 1.5) / 1000) * 1000),
        truncation: "head"
      },
      confidence: round2((n === 0 ? 0 : withContext / n) * factor),
      evidence: `varying text in ${withContext} of ${n} prompts, longest ${longest} characters${contextInjectedOnly ? " (all of it upstream output)" : ""}`
    },
    fewShotExamples: {
      value: fewShot.examples,
      confidence: fewShot.examples.length === 0 ? round2(factor * 0.8) : round2(Math.min(1, fewShot.examples.length / 3) * meanStability * factor),
      evidence: fewShot.examples.length === 0 ? "no repeated input/output pattern in the stable text" : `${fewShot.examples.length} input/output pairs in the stable text`
    },
    chainOfThought: {
      value: cot,
      confidence: round2((cot === "none" ? 0.7 : 0.9) * factor),
      evidence: cot === "none" ? "no reasoning instruction in the stable text" : `stable instruction: "${cotLine}"`
    },
    upstreamInjection: {
      value: upstreamAgents.length === 0
        ? { mode: "none", label: "" }
        : { mode: jsonInjections > 0 ? "json" : "fields", label },
      from: upstreamAgents,
      confidence: round2((upstreamAgents.length === 0 ? 1 - injectionShare : injectionShare) * factor),
      evidence: upstreamAgents.length === 0
        ? "no upstream output found in the varying text"
        : `output of ${upstreamAgents.join(", ")} found in ${injectedPrompts} of ${n} prompts`
    },
    outputFields: {
      value: fields,
      confidence: round2((outputsSeen === 0 ? 0 : objects.length / outputsSeen) * factor),
      evidence: `${objects.length} of ${outputsSeen} outputs are JSON objects`
    }
  }
}

/** A stable line ending in ":" right before the injected output, used as its label. */
const stableLabelBefore = (prompt: ObservedPrompt, output: string): string | undefined => {
  const text = `${prompt.system}\n${prompt.user}`
  const at = text.indexOf(output)
  if (at <= 0) return undefined
  const before = text.slice(0, at).trimEnd().split(/\r?\n/).pop()?.trim() ?? ""
  return before.endsWith(":") ? before.replace(/[:：]+$/, "").trim() || undefined : undefined
}

export interface TemplateFromDraftOptions {
  /** Parts below this confidence take the declared template's value (default 0.5). */
  readonly minConfidence?: number
  readonly declared?: PromptTemplate
}

/** The draft as a PromptTemplate, falling back part by part to the declared template. */
export const templateFromDraft = (draft: PromptTemplateDraft, options: TemplateFromDraftOptions = {}): PromptTemplate => {
  const min = options.minConfidence ?? 0.5
  const declared = options.declared
  const pick = <A>(part: DraftPart<A>, fallback: A | undefined, empty: A): A =>
    part.confidence >= min ? part.value : fallback ?? (part.confidence > 0 ? part.value : empty)
  const base = pick(draft.basePrompt, declared?.basePrompt, "")
  return {
    basePrompt: base === "" ? (declared?.basePrompt ?? `You are ${draft.agentName}.`) : base,
    contextSelection: pick(draft.contextSelection, declared?.contextSelection, draft.contextSelection.value),
    chainOfThought: pick(draft.chainOfThought, declared?.chainOfThought, "none"),
    fewShotExamples: [...pick(draft.fewShotExamples, declared?.fewShotExamples, [])],
    upstreamInjection: pick(draft.upstreamInjection, declared?.upstreamInjection, { mode: "none", label: "" }),
    guidance: [...(declared?.guidance ?? [])],
    outputFields: [...pick(draft.outputFields, declared?.outputFields, [])]
  }
}

/**
 * The conversation starts of one agent: per trace, its earliest model call that carries prompt
 * content, with the outputs its upstream agents produced earlier in the same trace.
 */
export const observedPromptsOf = (
  traces: ReadonlyArray<Trace>,
  inference: AgentInference,
  agentName: string
): ReadonlyArray<ObservedPrompt> => {
  const agent = inference.agents.find((a) => a.name === agentName)
  const upstreamNames = new Set(agent?.dependsOn ?? [])
  const byTrace = new Map<string, Array<Trace>>()
  for (const span of traces) {
    let list = byTrace.get(span.traceId)
    if (list === undefined) byTrace.set(span.traceId, list = [])
    list.push(span)
  }
  const prompts: Array<ObservedPrompt> = []
  for (const spans of byTrace.values()) {
    const calls = spans
      .filter((s) => inference.agentOfSpan.get(s.id) === agentName && s.input !== undefined && genAiView(s).isModelCall)
      .sort((a, b) => a.startTime.localeCompare(b.startTime))
    const start = calls[0]
    if (start === undefined) continue
    const { system, user } = conversationStart(start.input)
    if (system === "" && user === "") continue
    const upstream = spans
      .filter((s) => {
        const owner = inference.agentOfSpan.get(s.id)
        return owner !== undefined && upstreamNames.has(owner) && s.output !== undefined && s.endTime <= start.startTime
      })
      .map((s) => ({ agent: inference.agentOfSpan.get(s.id)!, output: s.output! }))
    prompts.push({ system, user, ...(start.output === undefined ? {} : { output: start.output }), upstream })
  }
  return prompts
}
