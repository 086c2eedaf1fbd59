/**
 * OTLP span -> engine `Trace`: per-span validation, then the GenAI semantic conventions read in
 * their current and older spellings (gen_ai.provider.name / gen_ai.system, usage input/output vs
 * prompt/completion tokens, gen_ai.agent.name / gen_ai.agent.id / agent.name, Vercel AI SDK `ai.*`),
 * canonical values written under the keys `GenAiView` reads, prompt and completion content from
 * attributes or span events into `input` (JSON `[{role, content}]`) / `output` (text), latency from
 * the nanosecond timestamps, cost from the span or the price table, parent/child links kept.
 * The workspace is the caller's (from the ingest key): resource attributes never choose it.
 */
import { costOf, GenAiKeys, type ModelPrice, parseJsonText } from "@spectral/engine"
import type { Trace } from "@spectral/engine/contracts"
import type { OtlpEvent, OtlpSpan } from "./OtlpModel.ts"

const traceIdPattern = /^[0-9a-f]{32}$/
const spanIdPattern = /^[0-9a-f]{16}$/
const zeroTrace = "0".repeat(32)
const zeroSpan = "0".repeat(16)

/** Why a span is rejected, or undefined when it is valid. */
export const spanProblem = (span: OtlpSpan): string | undefined => {
  if (!traceIdPattern.test(span.traceId) || span.traceId === zeroTrace) return `invalid traceId "${span.traceId}"`
  if (!spanIdPattern.test(span.spanId) || span.spanId === zeroSpan) return `invalid spanId "${span.spanId}"`
  if (span.parentSpanId !== "" && !spanIdPattern.test(span.parentSpanId)) return `invalid parentSpanId "${span.parentSpanId}"`
  if (span.startTimeUnixNano === undefined || span.startTimeUnixNano === 0n) return "missing startTimeUnixNano"
  if (span.endTimeUnixNano === undefined || span.endTimeUnixNano === 0n) return "missing endTimeUnixNano"
  if (span.endTimeUnixNano < span.startTimeUnixNano) return "endTimeUnixNano is before startTimeUnixNano"
  if (span.startTimeUnixNano > 8_640_000_000_000_000_000_000n) return "startTimeUnixNano out of range"
  return undefined
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined

const num = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

const first = <A>(read: (v: unknown) => A | undefined, attrs: Record<string, unknown>, keys: ReadonlyArray<string>): A | undefined => {
  for (const key of keys) {
    const value = read(attrs[key])
    if (value !== undefined) return value
  }
  return undefined
}

interface Message {
  role: string
  content: string
}

/** Text of message content: a string, or parts (`{type:"text", content|text}`, tool calls as JSON). */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    return content.map((part) => {
      if (typeof part === "string") return part
      if (typeof part !== "object" || part === null) return ""
      const p = part as Record<string, unknown>
      if (typeof p.content === "string") return p.content
      if (typeof p.text === "string") return p.text
      return JSON.stringify(p)
    }).filter((s) => s !== "").join("\n")
  }
  if (typeof content === "object" && content !== null) return JSON.stringify(content)
  return ""
}

const messagesFromJson = (value: unknown, defaultRole: string): Array<Message> => {
  const parsed = typeof value === "string" ? parseJsonText(value) ?? value : value
  if (typeof parsed === "string") return parsed === "" ? [] : [{ role: defaultRole, content: parsed }]
  const list = Array.isArray(parsed) ? parsed : parsed !== null && typeof parsed === "object" ? [parsed] : []
  return list.flatMap((m): Array<Message> => {
    if (typeof m === "string") return [{ role: defaultRole, content: m }]
    if (typeof m !== "object" || m === null) return []
    const o = m as Record<string, unknown>
    // Older event payloads: {"message": {role, content}} (gen_ai.choice).
    const inner = typeof o.message === "object" && o.message !== null ? (o.message as Record<string, unknown>) : o
    const content = contentText(inner.parts ?? inner.content ?? inner.text)
    if (content === "") return []
    return [{ role: text(inner.role) ?? defaultRole, content }]
  })
}

const indexed = (attrs: Record<string, unknown>, prefix: string, defaultRole: string): Array<Message> => {
  const byIndex = new Map<number, Message>()
  for (const key in attrs) {
    if (!key.startsWith(prefix)) continue
    const match = /^(\d+)\.(role|content)$/.exec(key.slice(prefix.length))
    if (match === null) continue
    const index = Number(match[1])
    const message = byIndex.get(index) ?? { role: defaultRole, content: "" }
    if (match[2] === "role") message.role = String(attrs[key])
    else message.content = contentText(attrs[key])
    byIndex.set(index, message)
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, m]) => m).filter((m) => m.content !== "")
}

const eventRole: Record<string, string> = {
  "gen_ai.system.message": "system",
  "gen_ai.user.message": "user",
  "gen_ai.assistant.message": "assistant",
  "gen_ai.tool.message": "tool"
}

/** Message events as span events (OTel) or as a logfire-style `events` attribute (JSON list). */
const fromEvents = (events: ReadonlyArray<{ name: string; attributes: Record<string, unknown> }>) => {
  const input: Array<Message> = []
  const output: Array<Message> = []
  for (const e of events) {
    const role = eventRole[e.name]
    if (role !== undefined) {
      const content = contentText(e.attributes.content ?? e.attributes["gen_ai.event.content"])
      if (content !== "") input.push({ role: text(e.attributes.role) ?? role, content })
    } else if (e.name === "gen_ai.choice") {
      output.push(...messagesFromJson(e.attributes.message ?? e.attributes, "assistant"))
    } else if (e.name === "gen_ai.content.prompt") {
      input.push(...messagesFromJson(e.attributes["gen_ai.prompt"], "user"))
    } else if (e.name === "gen_ai.content.completion") {
      output.push(...messagesFromJson(e.attributes["gen_ai.completion"], "assistant"))
    } else if (e.name === "gen_ai.client.inference.operation.details") {
      input.push(...messagesFromJson(e.attributes["gen_ai.input.messages"], "user"))
      output.push(...messagesFromJson(e.attributes["gen_ai.output.messages"], "assistant"))
    }
  }
  return { input, output }
}

const logfireEvents = (value: unknown): Array<{ name: string; attributes: Record<string, unknown> }> => {
  const parsed = typeof value === "string" ? parseJsonText(value) : value
  if (!Array.isArray(parsed)) return []
  return parsed.flatMap((e) =>
    typeof e === "object" && e !== null && typeof (e as Record<string, unknown>)["event.name"] === "string"
      ? [{ name: (e as Record<string, string>)["event.name"]!, attributes: e as Record<string, unknown> }]
      : []
  )
}

/** Prompt messages and completion text, from whichever convention the exporter used. */
const content = (attrs: Record<string, unknown>, events: ReadonlyArray<OtlpEvent>): { input: Array<Message>; output: Array<Message> } => {
  const input: Array<Message> = []
  const output: Array<Message> = []
  if (attrs["gen_ai.system_instructions"] !== undefined) input.push(...messagesFromJson(attrs["gen_ai.system_instructions"], "system").map((m) => ({ ...m, role: "system" })))
  if (attrs["gen_ai.input.messages"] !== undefined) input.push(...messagesFromJson(attrs["gen_ai.input.messages"], "user"))
  if (attrs["gen_ai.output.messages"] !== undefined) output.push(...messagesFromJson(attrs["gen_ai.output.messages"], "assistant"))
  if (input.length === 0) input.push(...indexed(attrs, "gen_ai.prompt.", "user"))
  if (output.length === 0) output.push(...indexed(attrs, "gen_ai.completion.", "assistant"))
  if (input.length === 0 || output.length === 0) {
    const fromSpanEvents = fromEvents(events)
    const fromAttr = fromEvents(logfireEvents(attrs.events))
    if (input.length === 0) input.push(...fromSpanEvents.input, ...fromAttr.input)
    if (output.length === 0) output.push(...fromSpanEvents.output, ...fromAttr.output)
  }
  if (input.length === 0 && typeof attrs["gen_ai.prompt"] === "string") input.push(...messagesFromJson(attrs["gen_ai.prompt"], "user"))
  if (output.length === 0 && typeof attrs["gen_ai.completion"] === "string") output.push(...messagesFromJson(attrs["gen_ai.completion"], "assistant"))
  // Vercel AI SDK.
  if (input.length === 0 && attrs["ai.prompt.messages"] !== undefined) input.push(...messagesFromJson(attrs["ai.prompt.messages"], "user"))
  if (input.length === 0 && typeof attrs["ai.prompt"] === "string") {
    const prompt = parseJsonText(attrs["ai.prompt"])
    if (typeof prompt === "object" && prompt !== null) {
      const p = prompt as Record<string, unknown>
      if (typeof p.system === "string") input.push({ role: "system", content: p.system })
      if (p.messages !== undefined) input.push(...messagesFromJson(p.messages, "user"))
      else if (p.prompt !== undefined) input.push(...messagesFromJson(p.prompt, "user"))
    }
  }
  if (output.length === 0 && typeof attrs["ai.response.text"] === "string") output.push({ role: "assistant", content: attrs["ai.response.text"] })
  // OpenInference and plain input/output attributes.
  if (input.length === 0) {
    const raw = attrs["input.value"] ?? attrs["input"]
    if (raw !== undefined) input.push(...messagesFromJson(raw, "user"))
  }
  if (output.length === 0) {
    const raw = attrs["output.value"] ?? attrs["output"]
    if (raw !== undefined) output.push(...messagesFromJson(raw, "assistant"))
  }
  return { input, output }
}

const isVercelModelCall = (attrs: Record<string, unknown>): boolean => {
  const op = attrs["ai.operationId"]
  return typeof op === "string" && (op.endsWith(".doGenerate") || op.endsWith(".doStream"))
}

const agentOperation = /^(invoke_agent|create_agent)\s+(.+)$/

export interface MappingOptions {
  readonly workspaceId: string
  readonly resource: Record<string, unknown>
  readonly scopeName: string
  readonly prices: ReadonlyMap<string, ModelPrice>
}

const nanosToIso = (value: bigint): string => new Date(Number(value / 1_000_000n)).toISOString()

/** A valid OTLP span as a stored Trace row (call `spanProblem` first). */
export const toTrace = (span: OtlpSpan, options: MappingOptions): Trace => {
  const source = span.attributes
  const attributes: Record<string, unknown> = { ...source }
  const vercel = isVercelModelCall(source)
  const fill = (key: string, value: unknown) => {
    if (value !== undefined) attributes[key] = value
  }
  fill(GenAiKeys.provider, first(text, source, vercel ? [GenAiKeys.provider, "gen_ai.system", "ai.model.provider"] : [GenAiKeys.provider, "gen_ai.system"]))
  fill(GenAiKeys.model, first(text, source, vercel ? [GenAiKeys.model, "ai.model.id"] : [GenAiKeys.model]))
  fill(GenAiKeys.temperature, first(num, source, vercel ? [GenAiKeys.temperature, "ai.settings.temperature"] : [GenAiKeys.temperature]))
  fill(GenAiKeys.maxTokens, first(num, source, vercel ? [GenAiKeys.maxTokens, "ai.settings.maxOutputTokens", "ai.settings.maxTokens"] : [GenAiKeys.maxTokens]))
  fill(GenAiKeys.topP, first(num, source, vercel ? [GenAiKeys.topP, "ai.settings.topP"] : [GenAiKeys.topP]))
  const inputTokens = first(num, source, [GenAiKeys.inputTokens, "gen_ai.usage.prompt_tokens", ...(vercel ? ["ai.usage.promptTokens", "ai.usage.inputTokens"] : [])])
  const outputTokens = first(num, source, [GenAiKeys.outputTokens, "gen_ai.usage.completion_tokens", ...(vercel ? ["ai.usage.completionTokens", "ai.usage.outputTokens"] : [])])
  fill(GenAiKeys.inputTokens, inputTokens)
  fill(GenAiKeys.outputTokens, outputTokens)
  const nameMatch = agentOperation.exec(span.name)
  const operation = text(source[GenAiKeys.operation]) ?? (vercel ? "chat" : nameMatch?.[1])
  fill(GenAiKeys.operation, operation)
  const agentName = first(text, source, [GenAiKeys.agentName, "agent.name", "agent_name", GenAiKeys.agentId]) ??
    (nameMatch !== null && (operation === "invoke_agent" || operation === "create_agent") ? nameMatch[2]!.trim() : undefined)
  fill(GenAiKeys.agentName, agentName)
  const start = span.startTimeUnixNano!
  const end = span.endTimeUnixNano!
  attributes["spectral.span.kind"] = span.kind
  attributes[GenAiKeys.statusCode] = span.statusCode
  if (span.statusMessage !== "") attributes[GenAiKeys.statusMessage] = span.statusMessage
  attributes[GenAiKeys.latencyMs] = Number(end - start) / 1e6
  const service = text(options.resource["service.name"])
  if (service !== undefined) attributes["spectral.service.name"] = service
  if (options.scopeName !== "") attributes["spectral.scope.name"] = options.scopeName
  const { input, output } = content(source, span.events)
  const model = text(attributes[GenAiKeys.model])
  const explicitCost = first(num, source, ["gen_ai.usage.cost", "gen_ai.usage.total_cost", "llm.usage.total_cost"])
  const price = model === undefined ? undefined : options.prices.get(model)
  const cost = explicitCost ?? (price !== undefined && (inputTokens !== undefined || outputTokens !== undefined)
    ? costOf(options.prices, model!, inputTokens ?? 0, outputTokens ?? 0)
    : undefined)
  const outputText = output.map((m) => m.content).join("\n")
  return {
    id: `${span.traceId}-${span.spanId}`,
    workspaceId: options.workspaceId,
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === "" ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    ...(agentName === undefined ? {} : { agentName }),
    startTime: nanosToIso(start),
    endTime: nanosToIso(end),
    attributes,
    ...(input.length === 0 ? {} : { input: JSON.stringify(input) }),
    ...(outputText === "" ? {} : { output: outputText }),
    ...(cost === undefined || cost < 0 ? {} : { costUsd: cost }),
    ...(inputTokens === undefined || inputTokens < 0 ? {} : { inputTokens: Math.round(inputTokens) }),
    ...(outputTokens === undefined || outputTokens < 0 ? {} : { outputTokens: Math.round(outputTokens) })
  }
}
