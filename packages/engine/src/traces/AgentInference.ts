/**
 * Agent inference from stored spans: which workspace agent each span belongs to (its own agent
 * name or its nearest ancestor's), declared agents matched by name or id and undeclared ones
 * proposed, dependencies from span relationships (an agent span containing another agent's span
 * consumes its output) and from one agent's output reappearing in another's later input, and each
 * agent's hyperparameter baseline with its spread. Pure: no storage, no clock.
 */
import type { Hyperparameters, Trace, WorkspaceAgent } from "../contracts/index.ts"
import { genAiView, messagesOf } from "./GenAiView.ts"

export interface NumericSpread {
  /** The baseline: the median of what was observed. */
  readonly baseline: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly stdDev: number
  readonly observations: number
}

export interface CategoricalSpread {
  /** The most frequent value. */
  readonly baseline: string
  /** Share of observations with the baseline value, in [0, 1]. */
  readonly share: number
  readonly counts: Readonly<Record<string, number>>
}

export interface HyperparameterBaseline {
  readonly provider?: CategoricalSpread
  readonly model?: CategoricalSpread
  readonly temperature?: NumericSpread
  readonly maxTokens?: NumericSpread
  readonly topP?: NumericSpread
  /** Model-call spans the baseline was computed from. */
  readonly modelCalls: number
}

export type DependencyEvidenceKind = "span_parent" | "output_reuse"

export interface DependencyEvidence {
  readonly on: string
  readonly kind: DependencyEvidenceKind
  readonly count: number
}

export interface InferredAgent {
  readonly name: string
  readonly status: "declared" | "proposed"
  readonly declaredId?: string
  readonly role?: string
  readonly spanCount: number
  readonly traceCount: number
  /** Names of the agents whose outputs this one consumes (acyclic). */
  readonly dependsOn: ReadonlyArray<string>
  readonly evidence: ReadonlyArray<DependencyEvidence>
  readonly hyperparameters: HyperparameterBaseline
}

export interface AgentInference {
  readonly agents: ReadonlyArray<InferredAgent>
  /** Declared agents no span was attributed to. */
  readonly unobserved: ReadonlyArray<string>
  /** Stored trace row id -> agent name, for every span attributed to an agent. */
  readonly agentOfSpan: ReadonlyMap<string, string>
}

const normalizeName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, "")

const spanKey = (traceId: string, spanId: string): string => `${traceId}/${spanId}`

/** The agent each span belongs to: its own agent name, else its nearest ancestor's; model calls with none take a fallback. */
export const assignAgents = (traces: ReadonlyArray<Trace>): ReadonlyMap<string, string> => {
  const byKey = new Map<string, Trace>()
  for (const span of traces) byKey.set(spanKey(span.traceId, span.spanId), span)
  const resolved = new Map<string, string | null>()
  const resolve = (span: Trace, depth: number): string | null => {
    const key = spanKey(span.traceId, span.spanId)
    const known = resolved.get(key)
    if (known !== undefined) return known
    const own = genAiView(span).agentName
    let agent: string | null = own ?? null
    if (agent === null && span.parentSpanId !== undefined && depth < 256) {
      const parent = byKey.get(spanKey(span.traceId, span.parentSpanId))
      if (parent !== undefined) agent = resolve(parent, depth + 1)
    }
    resolved.set(key, agent)
    return agent
  }
  const rootOf = (span: Trace): Trace => {
    let current = span
    for (let depth = 0; depth < 256 && current.parentSpanId !== undefined; depth++) {
      const parent = byKey.get(spanKey(current.traceId, current.parentSpanId))
      if (parent === undefined) break
      current = parent
    }
    return current
  }
  const out = new Map<string, string>()
  for (const span of traces) {
    const agent = resolve(span, 0)
    if (agent !== null) {
      out.set(span.id, agent)
      continue
    }
    if (!genAiView(span).isModelCall) continue
    // A model call outside any agent span: the application itself is the agent.
    const root = rootOf(span)
    const service = root.attributes["spectral.service.name"]
    const functionId = root.attributes["ai.telemetry.functionId"]
    const name = typeof functionId === "string" && functionId !== ""
      ? functionId
      : typeof service === "string" && service !== "" && !service.startsWith("unknown_service")
      ? service
      : root.name
    out.set(span.id, name)
  }
  return out
}

const median = (sorted: ReadonlyArray<number>): number => {
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const numericSpread = (values: ReadonlyArray<number>): NumericSpread | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length
  const variance = sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / sorted.length
  return {
    baseline: median(sorted),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean,
    stdDev: Math.sqrt(variance),
    observations: sorted.length
  }
}

export const categoricalSpread = (values: ReadonlyArray<string>): CategoricalSpread | undefined => {
  if (values.length === 0) return undefined
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  let baseline = values[0]!
  for (const [value, count] of Object.entries(counts)) {
    if (count > counts[baseline]! || (count === counts[baseline]! && value < baseline)) baseline = value
  }
  return { baseline, share: counts[baseline]! / values.length, counts }
}

/** The hyperparameter baseline of one agent from its model-call spans. */
export const hyperparameterBaseline = (spans: ReadonlyArray<Trace>): HyperparameterBaseline => {
  const providers: Array<string> = []
  const models: Array<string> = []
  const temperatures: Array<number> = []
  const maxTokens: Array<number> = []
  const topPs: Array<number> = []
  let modelCalls = 0
  for (const span of spans) {
    const view = genAiView(span)
    if (!view.isModelCall) continue
    modelCalls++
    if (view.provider !== undefined) providers.push(view.provider)
    if (view.model !== undefined) models.push(view.model)
    if (view.temperature !== undefined) temperatures.push(view.temperature)
    if (view.maxTokens !== undefined) maxTokens.push(view.maxTokens)
    if (view.topP !== undefined) topPs.push(view.topP)
  }
  const provider = categoricalSpread(providers)
  const model = categoricalSpread(models)
  const temperature = numericSpread(temperatures)
  const maxTokensSpread = numericSpread(maxTokens)
  const topP = numericSpread(topPs)
  return {
    ...(provider === undefined ? {} : { provider }),
    ...(model === undefined ? {} : { model }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokensSpread === undefined ? {} : { maxTokens: maxTokensSpread }),
    ...(topP === undefined ? {} : { topP }),
    modelCalls
  }
}

/** The baseline values only (what `spectral ingest` prints); absent values are omitted. */
export const baselineValues = (baseline: HyperparameterBaseline): Partial<Pick<Hyperparameters, "provider" | "model" | "temperature" | "maxTokens" | "topP">> => ({
  ...(baseline.provider === undefined ? {} : { provider: baseline.provider.baseline }),
  ...(baseline.model === undefined ? {} : { model: baseline.model.baseline }),
  ...(baseline.temperature === undefined ? {} : { temperature: baseline.temperature.baseline }),
  ...(baseline.maxTokens === undefined ? {} : { maxTokens: Math.round(baseline.maxTokens.baseline) }),
  ...(baseline.topP === undefined ? {} : { topP: baseline.topP.baseline })
})

/** Text an agent span or model call produced, and the text it read (message contents). */
const outputText = (span: Trace): string => (span.output ?? "").trim()
const inputText = (span: Trace): string => messagesOf(span.input).map((m) => m.content).join("\n")

/** Shortest output worth matching: shorter strings reappear by chance ("ok", "yes"). */
const MinReusedChars = 24

export interface AgentInferenceOptions {
  readonly declared?: ReadonlyArray<WorkspaceAgent>
}

export const inferAgents = (traces: ReadonlyArray<Trace>, options: AgentInferenceOptions = {}): AgentInference => {
  const declared = options.declared ?? []
  const agentOfSpan = assignAgents(traces)
  // Canonical name per observed name: the declared agent's name when one matches by name or id.
  const declaredByKey = new Map<string, WorkspaceAgent>()
  for (const agent of declared) {
    declaredByKey.set(normalizeName(agent.name), agent)
    declaredByKey.set(normalizeName(agent.id), agent)
  }
  const canonical = new Map<string, string>()
  const canonicalOf = (observed: string): string => {
    let name = canonical.get(observed)
    if (name === undefined) {
      name = declaredByKey.get(normalizeName(observed))?.name ?? observed
      canonical.set(observed, name)
    }
    return name
  }
  const spansOf = new Map<string, Array<Trace>>()
  const tracesOf = new Map<string, Set<string>>()
  const roleOf = new Map<string, string>()
  const byKey = new Map<string, Trace>()
  for (const span of traces) byKey.set(spanKey(span.traceId, span.spanId), span)
  for (const span of traces) {
    const observed = agentOfSpan.get(span.id)
    if (observed === undefined) continue
    const name = canonicalOf(observed)
    let list = spansOf.get(name)
    if (list === undefined) spansOf.set(name, list = [])
    list.push(span)
    let ids = tracesOf.get(name)
    if (ids === undefined) tracesOf.set(name, ids = new Set())
    ids.add(span.traceId)
    const role = genAiView(span).agentType
    if (role !== undefined && !roleOf.has(name)) roleOf.set(name, role)
  }
  // Evidence: consumer -> producer -> kind -> count.
  const evidence = new Map<string, Map<string, Map<DependencyEvidenceKind, number>>>()
  const addEvidence = (consumer: string, producer: string, kind: DependencyEvidenceKind) => {
    if (consumer === producer) return
    let producers = evidence.get(consumer)
    if (producers === undefined) evidence.set(consumer, producers = new Map())
    let kinds = producers.get(producer)
    if (kinds === undefined) producers.set(producer, kinds = new Map())
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
  }
  // Span relationships: the nearest enclosing span of another agent consumes this agent's work.
  for (const span of traces) {
    const own = agentOfSpan.get(span.id)
    if (own === undefined || span.parentSpanId === undefined) continue
    const parent = byKey.get(spanKey(span.traceId, span.parentSpanId))
    if (parent === undefined) continue
    const parentAgent = agentOfSpan.get(parent.id)
    if (parentAgent !== undefined && parentAgent !== own) addEvidence(canonicalOf(parentAgent), canonicalOf(own), "span_parent")
  }
  // Output reuse: an agent's output found in another agent's later input, within one trace.
  const byTrace = new Map<string, Array<{ span: Trace; agent: string }>>()
  for (const span of traces) {
    const agent = agentOfSpan.get(span.id)
    if (agent === undefined) continue
    let list = byTrace.get(span.traceId)
    if (list === undefined) byTrace.set(span.traceId, list = [])
    list.push({ span, agent: canonicalOf(agent) })
  }
  for (const spans of byTrace.values()) {
    const producers = spans.filter((s) => outputText(s.span).length >= MinReusedChars)
    if (producers.length === 0) continue
    const seen = new Set<string>()
    for (const consumer of spans) {
      const input = inputText(consumer.span)
      if (input.length < MinReusedChars) continue
      const consumerStart = Date.parse(consumer.span.startTime)
      for (const producer of producers) {
        if (producer.agent === consumer.agent) continue
        if (Date.parse(producer.span.endTime) > consumerStart) continue
        const pair = `${consumer.agent}\u0000${producer.agent}`
        if (seen.has(pair)) continue
        if (input.includes(outputText(producer.span))) {
          seen.add(pair)
          addEvidence(consumer.agent, producer.agent, "output_reuse")
        }
      }
    }
  }
  // Keep edges strongest first, skipping any that would close a cycle.
  const edges: Array<{ consumer: string; producer: string; weight: number }> = []
  for (const [consumer, producers] of evidence) {
    for (const [producer, kinds] of producers) {
      edges.push({ consumer, producer, weight: [...kinds.values()].reduce((s, n) => s + n, 0) })
    }
  }
  edges.sort((a, b) => b.weight - a.weight || a.consumer.localeCompare(b.consumer) || a.producer.localeCompare(b.producer))
  const accepted = new Map<string, Set<string>>()
  const reaches = (from: string, to: string): boolean => {
    const stack = [from]
    const visited = new Set<string>()
    while (stack.length > 0) {
      const node = stack.pop()!
      if (node === to) return true
      if (visited.has(node)) continue
      visited.add(node)
      for (const next of accepted.get(node) ?? []) stack.push(next)
    }
    return false
  }
  for (const edge of edges) {
    if (reaches(edge.producer, edge.consumer)) continue
    let set = accepted.get(edge.consumer)
    if (set === undefined) accepted.set(edge.consumer, set = new Set())
    set.add(edge.producer)
  }
  const agents: Array<InferredAgent> = [...spansOf.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, spans]) => {
      const match = declaredByKey.get(normalizeName(name))
      const role = roleOf.get(name)
      return {
        name,
        status: match === undefined ? "proposed" as const : "declared" as const,
        ...(match === undefined ? {} : { declaredId: match.id }),
        ...(role === undefined ? {} : { role }),
        spanCount: spans.length,
        traceCount: tracesOf.get(name)?.size ?? 0,
        dependsOn: [...(accepted.get(name) ?? [])].sort(),
        evidence: [...(evidence.get(name) ?? new Map<string, Map<DependencyEvidenceKind, number>>())]
          .flatMap(([on, kinds]) => [...kinds].map(([kind, count]) => ({ on, kind, count })))
          .sort((a, b) => a.on.localeCompare(b.on) || a.kind.localeCompare(b.kind)),
        hyperparameters: hyperparameterBaseline(spans)
      }
    })
  const observed = new Set(agents.map((a) => a.name))
  return {
    agents,
    unobserved: declared.filter((a) => !observed.has(a.name)).map((a) => a.name),
    agentOfSpan: new Map([...agentOfSpan].map(([id, observedName]) => [id, canonicalOf(observedName)]))
  }
}
