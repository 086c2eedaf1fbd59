/**
 * The canonical GenAI reading of a stored Trace (one span). Ingest adapters resolve the many
 * attribute spellings in the wild (gen_ai.system vs gen_ai.provider.name, Vercel `ai.*`, indexed
 * prompts, message events) into the canonical keys named here; the observation functions read only
 * these. Prompt and completion content live in `Trace.input` (a JSON array of `{role, content}`) and
 * `Trace.output` (the completion text), never in attributes the engine copies elsewhere.
 */
import { Option, Schema } from "effect"
import type { Trace } from "../contracts/index.ts"

const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** JSON text parsed, or undefined when it is not JSON. */
export const parseJsonText = (value: string): unknown => Option.getOrUndefined(parseJson(value))

export const GenAiKeys = {
  provider: "gen_ai.provider.name",
  model: "gen_ai.request.model",
  temperature: "gen_ai.request.temperature",
  maxTokens: "gen_ai.request.max_tokens",
  topP: "gen_ai.request.top_p",
  operation: "gen_ai.operation.name",
  agentName: "gen_ai.agent.name",
  agentId: "gen_ai.agent.id",
  agentType: "agent.type",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  /** Derived by the ingest adapter: OTLP status code (0 unset, 1 ok, 2 error). */
  statusCode: "spectral.status.code",
  statusMessage: "spectral.status.message",
  /** Derived: exact span latency in milliseconds (from the nanosecond timestamps). */
  latencyMs: "spectral.latency_ms",
  /** HTTP status of the model call when the span carries one (429 for rate limiting). */
  httpStatus: "http.response.status_code",
  errorType: "error.type",
  /** Derived: the stimulus / conversation the span belongs to, when the exporter names one. */
  conversation: "gen_ai.conversation.id"
} as const

/** Operations that are a model call (their span carries the request parameters). */
export const ModelCallOperations: ReadonlySet<string> = new Set(["chat", "text_completion", "generate_content", "completion"])

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 ? value : undefined

const numeric = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value)
    return Number.isFinite(parsed) ? parsed : undefined
  }
  if (typeof value === "bigint") return Number(value)
  return undefined
}

export interface GenAiView {
  readonly provider: string | undefined
  readonly model: string | undefined
  readonly temperature: number | undefined
  readonly maxTokens: number | undefined
  readonly topP: number | undefined
  readonly operation: string | undefined
  readonly agentName: string | undefined
  readonly agentType: string | undefined
  readonly isModelCall: boolean
  readonly isError: boolean
  readonly httpStatus: number | undefined
  readonly latencyMs: number
  readonly startMs: number
  readonly conversation: string | undefined
}

export const genAiView = (trace: Trace): GenAiView => {
  const a = trace.attributes
  const operation = text(a[GenAiKeys.operation])
  const model = text(a[GenAiKeys.model])
  const startMs = Date.parse(trace.startTime)
  const statusCode = numeric(a[GenAiKeys.statusCode])
  const httpStatus = numeric(a[GenAiKeys.httpStatus]) ?? numeric(a[GenAiKeys.errorType])
  return {
    provider: text(a[GenAiKeys.provider]),
    model,
    temperature: numeric(a[GenAiKeys.temperature]),
    maxTokens: numeric(a[GenAiKeys.maxTokens]),
    topP: numeric(a[GenAiKeys.topP]),
    operation,
    agentName: trace.agentName ?? text(a[GenAiKeys.agentName]),
    agentType: text(a[GenAiKeys.agentType]),
    isModelCall: operation !== undefined ? ModelCallOperations.has(operation) : model !== undefined && operation === undefined,
    isError: statusCode === 2 || (httpStatus !== undefined && httpStatus >= 400) || text(a[GenAiKeys.errorType]) !== undefined,
    httpStatus,
    latencyMs: numeric(a[GenAiKeys.latencyMs]) ?? Math.max(0, Date.parse(trace.endTime) - startMs),
    startMs,
    conversation: text(a[GenAiKeys.conversation])
  }
}

export interface ChatMessage {
  readonly role: string
  readonly content: string
}

/** `Trace.input` as chat messages: a JSON array of `{role, content}`, or plain text as one user message. */
export const messagesOf = (input: string | undefined): ReadonlyArray<ChatMessage> => {
  if (input === undefined || input === "") return []
  if (input.startsWith("[")) {
    const parsed = parseJsonText(input)
    if (Array.isArray(parsed)) {
      return parsed.flatMap((m) =>
        typeof m === "object" && m !== null && typeof (m as { content?: unknown }).content === "string"
          ? [{ role: String((m as { role?: unknown }).role ?? "user"), content: (m as { content: string }).content }]
          : []
      )
    }
  }
  return [{ role: "user", content: input }]
}

/** The start of the conversation: the system text and the first user turn. */
export const conversationStart = (input: string | undefined): { readonly system: string; readonly user: string } => {
  const messages = messagesOf(input)
  const system = messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => m.content).join("\n")
  const user = messages.find((m) => m.role === "user")?.content ?? ""
  return { system, user }
}
