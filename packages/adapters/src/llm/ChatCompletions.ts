/**
 * The mapping between `effect/ai` and the chat-completions wire format: a `Prompt` (system, user,
 * assistant, tool messages) and tools to a request body; a completion back to response parts; and
 * the judgement of whether a completion is usable — structured output decoded against the
 * requested schema, truncation, empty or null content, refusals, an HTTP 200 carrying an error —
 * with the raw text kept on every failure; and whether a usable answer may be cached (complete, and
 * when the prompt asks for JSON, holding the JSON object the caller decodes).
 *
 * Owns: pure request/response mapping. Not here: sending, retrying, caching, accounting.
 */
import { Effect, Schema } from "effect"
import { AiError, type LanguageModel, type Prompt, type Response, Tool } from "effect/ai"
import { extractJsonObject, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import type OpenAI from "openai"

const MODULE = "OpenAiCompatible"

export type ChatBody = OpenAI.ChatCompletionCreateParamsNonStreaming
export type ChatMessage = OpenAI.ChatCompletionMessageParam

const unsupported = (description: string) =>
  AiError.make({ module: MODULE, method: "generateText", reason: new AiError.InvalidUserInputError({ description }) })

const base64Of = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

const fileUrl = (part: Prompt.FilePart): string => {
  if (part.data instanceof URL) return part.data.toString()
  if (part.data instanceof Uint8Array) return `data:${part.mediaType};base64,${base64Of(part.data)}`
  return /^(data:|https?:)/.test(part.data) ? part.data : `data:${part.mediaType};base64,${part.data}`
}

const stringifyResult = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value ?? null)

export const toChatMessages = (prompt: Prompt.Prompt): Effect.Effect<Array<ChatMessage>, AiError.AiError> =>
  Effect.suspend(() => {
    const messages: Array<ChatMessage> = []
    for (const message of prompt.content) {
      switch (message.role) {
        case "system":
          messages.push({ role: "system", content: message.content })
          break
        case "user": {
          const onlyText = message.content.every((part) => part.type === "text")
          if (onlyText) {
            messages.push({ role: "user", content: message.content.map((part) => (part as Prompt.TextPart).text).join("") })
            break
          }
          const parts: Array<OpenAI.ChatCompletionContentPart> = []
          for (const part of message.content) {
            if (part.type === "text") parts.push({ type: "text", text: part.text })
            else if (part.mediaType.startsWith("image/")) parts.push({ type: "image_url", image_url: { url: fileUrl(part) } })
            else return Effect.fail(unsupported(`File parts of type ${part.mediaType} are not supported`))
          }
          messages.push({ role: "user", content: parts })
          break
        }
        case "assistant": {
          let text = ""
          const toolCalls: Array<OpenAI.ChatCompletionMessageFunctionToolCall> = []
          const toolResults: Array<ChatMessage> = []
          for (const part of message.content) {
            if (part.type === "text") text += part.text
            else if (part.type === "tool-call" && !part.providerExecuted) {
              toolCalls.push({
                id: part.id,
                type: "function",
                function: { name: part.name, arguments: JSON.stringify(part.params ?? {}) }
              })
            } else if (part.type === "tool-result") {
              toolResults.push({ role: "tool", tool_call_id: part.id, content: stringifyResult(part.result) })
            }
          }
          messages.push({
            role: "assistant",
            content: text.length > 0 || toolCalls.length === 0 ? text : null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
          })
          messages.push(...toolResults)
          break
        }
        case "tool":
          for (const part of message.content) {
            if (part.type === "tool-result") {
              messages.push({ role: "tool", tool_call_id: part.id, content: stringifyResult(part.result) })
            }
          }
          break
      }
    }
    return Effect.succeed(messages)
  })

export const toChatTools = (
  tools: ReadonlyArray<Tool.Any>,
  toolChoice: LanguageModel.ProviderOptions["toolChoice"]
): Effect.Effect<Pick<ChatBody, "tools" | "tool_choice">, AiError.AiError> =>
  Effect.suspend(() => {
    if (tools.length === 0) return Effect.succeed({})
    const chatTools: Array<OpenAI.ChatCompletionFunctionTool> = []
    for (const tool of tools) {
      if (Tool.isProviderDefined(tool)) {
        return Effect.fail(unsupported(`Provider-defined tool ${tool.name} is not supported by chat completions`))
      }
      const description = Tool.getDescription(tool)
      const strict = Tool.getStrictMode(tool)
      chatTools.push({
        type: "function",
        function: {
          name: tool.name,
          parameters: Tool.getJsonSchema(tool) as Record<string, unknown>,
          ...(description === undefined ? {} : { description }),
          ...(strict === undefined ? {} : { strict })
        }
      })
    }
    const tool_choice: OpenAI.ChatCompletionToolChoiceOption = toolChoice === "auto" || toolChoice === "none" ||
        toolChoice === "required"
      ? toolChoice
      : "tool" in toolChoice
      ? { type: "function", function: { name: toolChoice.tool } }
      : toolChoice.mode === "required"
      ? "required"
      : "auto"
    return Effect.succeed({ tools: chatTools, tool_choice })
  })

// -----------------------------------------------------------------------------
// Structured output
// -----------------------------------------------------------------------------

export interface StructuredTarget {
  readonly objectName: string
  readonly jsonSchema: unknown
  readonly decode: (text: string) => Effect.Effect<unknown, Schema.SchemaError>
}

export const jsonInstructions = (target: StructuredTarget): string =>
  `Respond with a single JSON object named "${target.objectName}" and nothing else: no prose, no code fences. ` +
  `It must conform to this JSON Schema:\n${JSON.stringify(target.jsonSchema)}`

export const withJsonInstructions = (messages: Array<ChatMessage>, instructions: string): Array<ChatMessage> => {
  const first = messages[0]
  if (first !== undefined && first.role === "system" && typeof first.content === "string") {
    return [{ role: "system", content: `${first.content}\n\n${instructions}` }, ...messages.slice(1)]
  }
  return [{ role: "system", content: instructions }, ...messages]
}

/**
 * Whether a plain-text request asks for a JSON answer (a system or user message says "JSON"), as
 * the engine's agents and judge do: its answer is of use only when it holds a JSON object.
 */
export const asksForJson = (messages: ReadonlyArray<ChatMessage>): boolean =>
  messages.some((message) => {
    if (message.role !== "system" && message.role !== "user" && message.role !== "developer") return false
    const content = message.content
    const text = typeof content === "string"
      ? content
      : content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join(" ")
    return /\bjson\b/i.test(text)
  })

// -----------------------------------------------------------------------------
// Interpreting a completion
// -----------------------------------------------------------------------------

export interface Usable {
  readonly text: string
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly params: unknown }>
  readonly finishReason: Response.FinishReason
  /**
   * Only complete answers that decode are cached: a truncated or filtered one, or prose where JSON
   * was asked for, is returned (the caller records its parse failure) but not stored.
   */
  readonly cacheable: boolean
}

export const finishReasonOf = (reason: string | null | undefined): Response.FinishReason => {
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    default:
      return "unknown"
  }
}

export interface TokenUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number | undefined
  readonly reasoningTokens: number | undefined
}

export const tokenUsageOf = (completion: { readonly usage?: OpenAI.CompletionUsage | null | undefined }): TokenUsage => ({
  inputTokens: completion.usage?.prompt_tokens ?? 0,
  outputTokens: completion.usage?.completion_tokens ?? 0,
  cachedInputTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? undefined,
  reasoningTokens: completion.usage?.completion_tokens_details?.reasoning_tokens ?? undefined
})

export const usageInfo = (usage: TokenUsage) => ({
  promptTokens: usage.inputTokens,
  completionTokens: usage.outputTokens,
  totalTokens: usage.inputTokens + usage.outputTokens
})

/** What the provider said, when it is not usable: a typed error, billed, with the raw text kept. */
export const interpret = (
  completion: OpenAI.ChatCompletion,
  target: StructuredTarget | undefined,
  costUsd: number,
  /** A plain-text request that asks for JSON (`asksForJson`): cacheable only when the text holds a JSON object. */
  expectsJson = false
): Effect.Effect<Usable, AiError.AiError> =>
  Effect.gen(function*() {
    const raw = completion as unknown as Record<string, unknown>
    const usage = tokenUsageOf(completion)
    const rawBody = JSON.stringify(completion)
    const metadata = (extra: Record<string, Schema.MutableJson>) => ({
      [SPECTRAL_METADATA_KEY]: { costUsd, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, ...extra }
    })
    const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined
    if (raw["error"] !== undefined && raw["error"] !== null || choice === undefined || choice.message === undefined) {
      // An HTTP 200 that carries an error (or no answer at all): a provider fault, retried like a 5xx.
      return yield* AiError.make({
        module: MODULE,
        method: "generateText",
        reason: new AiError.InternalProviderError({
          description: `HTTP 200 without a usable choice: ${rawBody.slice(0, 2000)}`,
          metadata: metadata({ rawResponse: rawBody })
        })
      })
    }
    const text = choice.message.content ?? ""
    const finishReason = finishReasonOf(choice.finish_reason)
    if (typeof choice.message.refusal === "string" && choice.message.refusal.length > 0) {
      return yield* AiError.make({
        module: MODULE,
        method: "generateText",
        reason: new AiError.ContentPolicyError({
          description: `The model refused: ${choice.message.refusal}`,
          metadata: metadata({ rawResponse: text, refusal: choice.message.refusal })
        })
      })
    }
    const toolCalls: Array<{ id: string; name: string; params: unknown }> = []
    for (const call of choice.message.tool_calls ?? []) {
      if (call.type !== "function") continue
      const params = yield* Effect.try({
        try: () => JSON.parse(call.function.arguments === "" ? "{}" : call.function.arguments) as unknown,
        catch: () =>
          AiError.make({
            module: MODULE,
            method: "generateText",
            reason: new AiError.InvalidOutputError({
              description: `Tool call ${call.function.name} has arguments that are not JSON: ${call.function.arguments}`,
              usage: usageInfo(usage),
              metadata: metadata({ rawResponse: call.function.arguments, finishReason: choice.finish_reason ?? null })
            })
          })
      })
      toolCalls.push({ id: call.id, name: call.function.name, params })
    }
    if (target !== undefined && toolCalls.length === 0) {
      const structuredFailure = (description: string) =>
        AiError.make({
          module: MODULE,
          method: "generateObject",
          reason: new AiError.StructuredOutputError({
            description,
            responseText: text,
            usage: usageInfo(usage),
            metadata: metadata({ rawResponse: text, finishReason: choice.finish_reason ?? null })
          })
        })
      if (finishReason === "length") {
        return yield* structuredFailure(
          `The answer was cut off at the token limit (finish_reason "length"); raw text kept in responseText`
        )
      }
      if (text.trim().length === 0) {
        return yield* structuredFailure(`The model returned ${choice.message.content === null ? "null" : "empty"} content`)
      }
      yield* Effect.mapError(target.decode(text), (error) => structuredFailure(`Unusable structured output: ${error.message}`))
    } else if (text.trim().length === 0 && toolCalls.length === 0) {
      return yield* AiError.make({
        module: MODULE,
        method: "generateText",
        reason: new AiError.InvalidOutputError({
          description: `The model returned ${choice.message.content === null ? "null" : "empty"} content (finish_reason ${
            choice.finish_reason ?? "none"
          })`,
          usage: usageInfo(usage),
          metadata: metadata({ rawResponse: text, finishReason: choice.finish_reason ?? null })
        })
      })
    }
    const decodes = target !== undefined || toolCalls.length > 0 || !expectsJson || extractJsonObject(text) !== undefined
    return {
      text,
      toolCalls,
      finishReason,
      cacheable: (finishReason === "stop" || finishReason === "tool-calls") && decodes
    }
  })

export const isParseFailure = (error: AiError.AiError): boolean =>
  error.reason._tag === "StructuredOutputError" || error.reason._tag === "InvalidOutputError"

export const toParts = (
  completion: OpenAI.ChatCompletion,
  usable: Usable,
  spectral: Record<string, Schema.MutableJson>
): Array<Response.PartEncoded> => {
  const usage = tokenUsageOf(completion)
  const parts: Array<Response.PartEncoded> = [{
    type: "response-metadata",
    id: completion.id,
    modelId: completion.model,
    ...(typeof completion.created === "number" ? { timestamp: new Date(completion.created * 1000).toISOString() } : {})
  }]
  if (usable.text.length > 0) parts.push({ type: "text", text: usable.text })
  for (const call of usable.toolCalls) {
    parts.push({ type: "tool-call", id: call.id, name: call.name, params: call.params, providerExecuted: false })
  }
  parts.push({
    type: "finish",
    reason: usable.finishReason,
    usage: {
      inputTokens: {
        total: usage.inputTokens,
        uncached: usage.inputTokens - (usage.cachedInputTokens ?? 0),
        ...(usage.cachedInputTokens === undefined ? {} : { cacheRead: usage.cachedInputTokens })
      },
      outputTokens: {
        total: usage.outputTokens,
        ...(usage.reasoningTokens === undefined ? {} : { reasoning: usage.reasoningTokens })
      }
    },
    metadata: { [SPECTRAL_METADATA_KEY]: spectral }
  })
  return parts
}

export const toStreamParts = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> =>
  parts.flatMap((part): Array<Response.StreamPartEncoded> => {
    switch (part.type) {
      case "text":
        return [
          { type: "text-start", id: "text-0" },
          { type: "text-delta", id: "text-0", delta: part.text },
          { type: "text-end", id: "text-0" }
        ]
      case "response-metadata":
      case "tool-call":
      case "finish":
        return [part]
      default:
        return []
    }
  })
