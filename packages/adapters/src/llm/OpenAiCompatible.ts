/**
 * The OpenAI-compatible model provider: `effect/ai`'s `LanguageModel` and `EmbeddingModel` built on
 * the official `openai` SDK, for any base URL that speaks chat completions and embeddings (OpenAI,
 * Azure's v1 endpoint, vLLM, Ollama, LiteLLM).
 *
 * Per call it reads `GenerationParameters` and `CallContext` from the calling fiber, then: looks
 * the request up in the `ResponseCache` (key: SHA-256 of base URL, request body, epoch, workspace);
 * on a miss, runs attempts under an adaptive concurrency limit and a requests-per-minute limiter,
 * each with its own timeout (aborting the HTTP request), retrying 429 / 5xx / connection failures
 * with exponential back-off and jitter (never sooner than `Retry-After`) within a total deadline;
 * validates the answer (structured output decoded against the requested schema, truncation, empty
 * content, HTTP 200 carrying an error) and only then caches it; records one `UsageLedger` entry
 * per logical call, priced from `PriceTable`.
 *
 * Owns: configuration, request building, error mapping, retries, validation, layers. Not here: the
 * limiter (RateControl), the cache and ledger ports (ResponseCache, UsageLedger).
 */
import { createHash } from "node:crypto"
import { Cause, Clock, Config, Context, Duration, Effect, Exit, Layer, Option, Random, Redacted, Schema, Stream } from "effect"
import { AiError, EmbeddingModel, LanguageModel, type Prompt, type Response, Tool } from "effect/ai"
import * as OpenAiStructuredOutput from "effect/ai/OpenAiStructuredOutput"
import { CallContext, costOf, GenerationParameters, PriceTable, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import OpenAI from "openai"
import * as RateControl from "./RateControl.ts"
import { ResponseCache } from "./ResponseCache.ts"
import { type ModelCallOutcome, type ModelOperation, UsageLedger } from "./UsageLedger.ts"

// -----------------------------------------------------------------------------
// Options and configuration
// -----------------------------------------------------------------------------

export interface Options {
  /** Omit for servers that take no key (vLLM, Ollama); a placeholder is sent. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `https://api.openai.com/v1`. */
  readonly baseUrl?: string | undefined
  /** Used when `GenerationParameters.model` is `"default"`. Default `gpt-4.1-mini`. */
  readonly model?: string | undefined
  /** Default `text-embedding-3-small`. */
  readonly embeddingModel?: string | undefined
  /** Most requests in flight. Default 8. */
  readonly concurrency?: number | undefined
  /** Requests started per minute; unlimited when absent. */
  readonly requestsPerMinute?: number | undefined
  /** Per-attempt timeout. Default 60 000 ms. */
  readonly timeoutMs?: number | undefined
  /** Retries after the first attempt. Default 5. */
  readonly maxRetries?: number | undefined
  /** Bound on one logical call's attempts and back-offs together. Default 300 000 ms. */
  readonly deadlineMs?: number | undefined
  /** First back-off step before jitter; doubles each retry. Default 500 ms. */
  readonly retryBaseDelayMs?: number | undefined
  /** Cap on a computed back-off (a server's `Retry-After` is honoured above it). Default 30 000 ms. */
  readonly retryMaxDelayMs?: number | undefined
  /** Follow-up requests asking the model to fix unusable structured output. Default 1. */
  readonly repairAttempts?: number | undefined
  /** `json_object` (widest server support, schema sent as instructions) or `json_schema` (strict). */
  readonly structuredOutput?: "json_object" | "json_schema" | undefined
  /** Newer OpenAI models want `max_completion_tokens`; most compatible servers take `max_tokens`. */
  readonly maxTokensParameter?: "max_tokens" | "max_completion_tokens" | undefined
}

export interface ResolvedOptions {
  readonly baseUrl: string
  readonly model: string
  readonly embeddingModel: string
  readonly concurrency: number
  readonly requestsPerMinute: number | undefined
  readonly timeoutMs: number
  readonly maxRetries: number
  readonly deadlineMs: number
  readonly retryBaseDelayMs: number
  readonly retryMaxDelayMs: number
  readonly repairAttempts: number
  readonly structuredOutput: "json_object" | "json_schema"
  readonly maxTokensParameter: "max_tokens" | "max_completion_tokens"
}

export const DEFAULT_BASE_URL = "https://api.openai.com/v1"

export const resolveOptions = (options: Options): ResolvedOptions => ({
  baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
  model: options.model ?? "gpt-4.1-mini",
  embeddingModel: options.embeddingModel ?? "text-embedding-3-small",
  concurrency: Math.max(1, Math.floor(options.concurrency ?? 8)),
  requestsPerMinute: options.requestsPerMinute !== undefined && options.requestsPerMinute > 0
    ? options.requestsPerMinute
    : undefined,
  timeoutMs: options.timeoutMs ?? 60_000,
  maxRetries: Math.max(0, Math.floor(options.maxRetries ?? 5)),
  deadlineMs: options.deadlineMs ?? 300_000,
  retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
  retryMaxDelayMs: options.retryMaxDelayMs ?? 30_000,
  repairAttempts: Math.max(0, Math.floor(options.repairAttempts ?? 1)),
  structuredOutput: options.structuredOutput ?? "json_object",
  maxTokensParameter: options.maxTokensParameter ?? "max_tokens"
})

const optionalConfig = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.option(config).pipe(Config.map(Option.getOrUndefined))

/**
 * Reads the provider's settings from the environment (or any `ConfigProvider`):
 * `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `SPECTRAL_MODEL`, `SPECTRAL_EMBEDDING_MODEL`,
 * `SPECTRAL_LLM_CONCURRENCY`, `SPECTRAL_LLM_RPM`, `SPECTRAL_LLM_TIMEOUT_MS`, `SPECTRAL_LLM_MAX_RETRIES`,
 * `SPECTRAL_LLM_DEADLINE_MS`, `SPECTRAL_LLM_REPAIR_ATTEMPTS`, `SPECTRAL_LLM_STRUCTURED_OUTPUT`,
 * `SPECTRAL_LLM_MAX_TOKENS_PARAMETER`.
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: optionalConfig(Config.Redacted("OPENAI_API_KEY")),
  baseUrl: Config.String("OPENAI_BASE_URL").pipe(Config.withDefault(DEFAULT_BASE_URL)),
  model: Config.String("SPECTRAL_MODEL").pipe(Config.withDefault("gpt-4.1-mini")),
  embeddingModel: Config.String("SPECTRAL_EMBEDDING_MODEL").pipe(Config.withDefault("text-embedding-3-small")),
  concurrency: Config.Int("SPECTRAL_LLM_CONCURRENCY").pipe(Config.withDefault(8)),
  requestsPerMinute: optionalConfig(Config.Int("SPECTRAL_LLM_RPM")),
  timeoutMs: Config.Int("SPECTRAL_LLM_TIMEOUT_MS").pipe(Config.withDefault(60_000)),
  maxRetries: Config.Int("SPECTRAL_LLM_MAX_RETRIES").pipe(Config.withDefault(5)),
  deadlineMs: Config.Int("SPECTRAL_LLM_DEADLINE_MS").pipe(Config.withDefault(300_000)),
  repairAttempts: Config.Int("SPECTRAL_LLM_REPAIR_ATTEMPTS").pipe(Config.withDefault(1)),
  structuredOutput: Config.Literals(["json_object", "json_schema"], "SPECTRAL_LLM_STRUCTURED_OUTPUT").pipe(
    Config.withDefault("json_object" as const)
  ),
  maxTokensParameter: Config.Literals(["max_tokens", "max_completion_tokens"], "SPECTRAL_LLM_MAX_TOKENS_PARAMETER")
    .pipe(Config.withDefault("max_tokens" as const))
})

// -----------------------------------------------------------------------------
// The client service
// -----------------------------------------------------------------------------

/** The configured SDK client and the live limiter state, for hosts and tests. */
export class OpenAiCompatibleClient extends Context.Service<OpenAiCompatibleClient, {
  readonly client: OpenAI
  readonly options: ResolvedOptions
  /** The adaptive concurrency limit right now (lowered after 429s, restored slowly). */
  readonly effectiveConcurrency: Effect.Effect<number>
}>()("@spectral/adapters/llm/OpenAiCompatibleClient") {}

export const PROVIDER_NAME = "openai-compatible"

// -----------------------------------------------------------------------------
// Cache key
// -----------------------------------------------------------------------------

const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key]
    return sorted
  })

/**
 * The cache key of a request: SHA-256 over the base URL, the full request body (model, messages,
 * parameters, seed, response format, tools) and, from outside the body, the epoch and workspace.
 */
export const requestKey = (input: {
  readonly operation: "chat" | "embedding"
  readonly baseUrl: string
  readonly body: unknown
  readonly epoch: number
  readonly workspaceId: string
}): string =>
  createHash("sha256").update(canonicalJson({ version: 1, ...input })).digest("hex")

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

const MODULE = "OpenAiCompatible"

interface AttemptFailure {
  readonly error: AiError.AiError
  readonly retryable: boolean
  readonly rateLimited: boolean
  readonly retryAfterMs: number | undefined
}

const headerRecord = (headers: Headers | undefined): Record<string, string> => {
  const record: Record<string, string> = {}
  headers?.forEach((value, key) => {
    record[key] = key === "authorization" || key === "api-key" ? "<redacted>" : value
  })
  return record
}

/** `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date). */
export const retryAfterMillis = (headers: Headers | undefined, nowMs: number): number | undefined => {
  const millis = headers?.get("retry-after-ms")
  if (millis !== undefined && millis !== null && millis.trim() !== "") {
    const value = Number(millis)
    if (Number.isFinite(value) && value >= 0) return value
  }
  const after = headers?.get("retry-after")
  if (after === undefined || after === null || after.trim() === "") return undefined
  const seconds = Number(after)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(after)
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined
}

const classifyFailure = (cause: unknown, method: string, url: string, nowMs: number): AttemptFailure => {
  const fail = (reason: AiError.AiErrorReason, retryable: boolean, retryAfterMs?: number): AttemptFailure => ({
    error: AiError.make({ module: MODULE, method, reason }),
    retryable,
    rateLimited: reason._tag === "RateLimitError",
    retryAfterMs
  })
  if (cause instanceof OpenAI.APIConnectionError) {
    return fail(new AiError.NetworkError({ reason: "TransportError", method: "POST", url, description: cause.message, cause }), true)
  }
  if (cause instanceof OpenAI.APIError && typeof cause.status === "number") {
    const status = cause.status
    const body = cause.error === undefined ? undefined : JSON.stringify(cause.error)
    const http = { response: { status, headers: headerRecord(cause.headers) }, ...(body === undefined ? {} : { body }) }
    const description = cause.message
    if (status === 429) {
      if (cause.code === "insufficient_quota") {
        return fail(new AiError.QuotaExhaustedError({ http }), false)
      }
      const retryAfterMs = retryAfterMillis(cause.headers, nowMs)
      return fail(
        new AiError.RateLimitError({
          http,
          ...(retryAfterMs === undefined ? {} : { retryAfter: Duration.millis(retryAfterMs) })
        }),
        true,
        retryAfterMs
      )
    }
    const reason = AiError.reasonFromHttpStatus({ status, http, description })
    return fail(reason, status >= 500 || status === 408 || status === 409)
  }
  const description = cause instanceof Error ? cause.message : String(cause)
  return fail(new AiError.UnknownError({ description }), false)
}

const timedOut = (method: string, url: string, timeoutMs: number): AttemptFailure => ({
  error: AiError.make({
    module: MODULE,
    method,
    reason: new AiError.NetworkError({
      reason: "TransportError",
      method: "POST",
      url,
      description: `No response within ${timeoutMs} ms; the request was aborted`
    })
  }),
  retryable: true,
  rateLimited: false,
  retryAfterMs: undefined
})

// -----------------------------------------------------------------------------
// Prompt → chat messages
// -----------------------------------------------------------------------------

type ChatBody = OpenAI.ChatCompletionCreateParamsNonStreaming
type ChatMessage = OpenAI.ChatCompletionMessageParam

const unsupported = (description: string) =>
  AiError.make({ module: MODULE, method: "generateText", reason: new AiError.InvalidUserInputError({ description }) })

const base64Of = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

const fileUrl = (part: Prompt.FilePart): string => {
  if (part.data instanceof URL) return part.data.toString()
  if (part.data instanceof Uint8Array) return `data:${part.mediaType};base64,${base64Of(part.data)}`
  return /^(data:|https?:)/.test(part.data) ? part.data : `data:${part.mediaType};base64,${part.data}`
}

const stringifyResult = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value ?? null)

const toChatMessages = (prompt: Prompt.Prompt): Effect.Effect<Array<ChatMessage>, AiError.AiError> =>
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

const toChatTools = (
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

interface StructuredTarget {
  readonly objectName: string
  readonly jsonSchema: unknown
  readonly decode: (text: string) => Effect.Effect<unknown, Schema.SchemaError>
}

const jsonInstructions = (target: StructuredTarget): string =>
  `Respond with a single JSON object named "${target.objectName}" and nothing else: no prose, no code fences. ` +
  `It must conform to this JSON Schema:\n${JSON.stringify(target.jsonSchema)}`

const withJsonInstructions = (messages: Array<ChatMessage>, instructions: string): Array<ChatMessage> => {
  const first = messages[0]
  if (first !== undefined && first.role === "system" && typeof first.content === "string") {
    return [{ role: "system", content: `${first.content}\n\n${instructions}` }, ...messages.slice(1)]
  }
  return [{ role: "system", content: instructions }, ...messages]
}

// -----------------------------------------------------------------------------
// Interpreting a completion
// -----------------------------------------------------------------------------

interface Usable {
  readonly text: string
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly params: unknown }>
  readonly finishReason: Response.FinishReason
  /** Only complete answers are cached: a truncated or filtered one is returned but not stored. */
  readonly cacheable: boolean
}

const finishReasonOf = (reason: string | null | undefined): Response.FinishReason => {
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

interface TokenUsage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number | undefined
  readonly reasoningTokens: number | undefined
}

const tokenUsageOf = (completion: { readonly usage?: OpenAI.CompletionUsage | null | undefined }): TokenUsage => ({
  inputTokens: completion.usage?.prompt_tokens ?? 0,
  outputTokens: completion.usage?.completion_tokens ?? 0,
  cachedInputTokens: completion.usage?.prompt_tokens_details?.cached_tokens ?? undefined,
  reasoningTokens: completion.usage?.completion_tokens_details?.reasoning_tokens ?? undefined
})

const usageInfo = (usage: TokenUsage) => ({
  promptTokens: usage.inputTokens,
  completionTokens: usage.outputTokens,
  totalTokens: usage.inputTokens + usage.outputTokens
})

/** What the provider said, when it is not usable: a typed error, billed, with the raw text kept. */
const interpret = (
  completion: OpenAI.ChatCompletion,
  target: StructuredTarget | undefined,
  costUsd: number
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
    return {
      text,
      toolCalls,
      finishReason,
      cacheable: finishReason === "stop" || finishReason === "tool-calls"
    }
  })

const isParseFailure = (error: AiError.AiError): boolean =>
  error.reason._tag === "StructuredOutputError" || error.reason._tag === "InvalidOutputError"

const toParts = (
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

const toStreamParts = (parts: ReadonlyArray<Response.PartEncoded>): Array<Response.StreamPartEncoded> =>
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

// -----------------------------------------------------------------------------
// The provider
// -----------------------------------------------------------------------------

export interface OpenAiCompatibleServices {
  readonly languageModel: LanguageModel.LanguageModel
  readonly embeddingModel: EmbeddingModel.EmbeddingModel
  readonly client: OpenAiCompatibleClient["Service"]
}

export const make = Effect.fnUntraced(function*(options: Options) {
  const resolved = resolveOptions(options)
  const cache = yield* ResponseCache
  const ledger = yield* UsageLedger
  const rate = yield* RateControl.make({
    maxConcurrency: resolved.concurrency,
    requestsPerMinute: resolved.requestsPerMinute
  })
  const client = new OpenAI({
    apiKey: options.apiKey === undefined ? "no-key" : Redacted.value(options.apiKey),
    baseURL: resolved.baseUrl,
    maxRetries: 0,
    timeout: resolved.timeoutMs + 5_000
  })
  const chatUrl = `${resolved.baseUrl}/chat/completions`
  const embeddingsUrl = `${resolved.baseUrl}/embeddings`
  const codecTransformer: LanguageModel.CodecTransformer = resolved.structuredOutput === "json_schema"
    ? OpenAiStructuredOutput.toCodecOpenAI
    : LanguageModel.defaultCodecTransformer

  /** One logical request: attempts, back-off and the deadline. Fails with the last attempt's error. */
  const withRetries = <A>(
    method: string,
    url: string,
    send: (signal: AbortSignal) => Promise<A>
  ): Effect.Effect<{ readonly value: A; readonly attempts: number }, AiError.AiError> =>
    Effect.gen(function*() {
      let attempts = 0
      let deadlineAt: number | undefined
      while (true) {
        attempts += 1
        const exit = yield* rate.admit((admission) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            deadlineAt ??= now + resolved.deadlineMs
            const timeoutMs = Math.max(1, Math.min(resolved.timeoutMs, deadlineAt - now))
            const result = yield* Effect.tryPromise({ try: (signal) => send(signal), catch: (cause): unknown => cause }).pipe(
              Effect.timeoutOrElse({
                duration: Duration.millis(timeoutMs),
                orElse: () => Effect.fail(timedOut(method, url, timeoutMs))
              }),
              Effect.catch((cause: unknown) =>
                isAttemptFailure(cause)
                  ? Effect.fail(cause)
                  : Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.fail(classifyFailure(cause, method, url, at)))
              ),
              Effect.exit
            )
            if (Exit.isSuccess(result)) yield* rate.onSuccess
            else {
              const failure = Cause.findErrorOption(result.cause)
              if (Option.isSome(failure) && failure.value.rateLimited) yield* rate.onRateLimited(admission)
            }
            return result
          })
        )
        if (Exit.isSuccess(exit)) return { value: exit.value, attempts }
        const found = Cause.findErrorOption(exit.cause)
        if (Option.isNone(found)) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
        const failure = found.value
        if (!failure.retryable || attempts > resolved.maxRetries) return yield* Effect.fail(failure.error)
        const backoffMs = failure.retryAfterMs !== undefined
          // Never sooner than asked; a little later so a crowd of callers does not return at once.
          ? Math.ceil(failure.retryAfterMs * (1 + 0.1 * (yield* Random.next))) + 1
          : Math.min(resolved.retryMaxDelayMs, resolved.retryBaseDelayMs * 2 ** (attempts - 1)) *
            (0.5 + 0.5 * (yield* Random.next))
        const now = yield* Clock.currentTimeMillis
        if (deadlineAt !== undefined && now + backoffMs > deadlineAt) return yield* Effect.fail(failure.error)
        yield* Effect.sleep(Duration.millis(backoffMs))
      }
    })

  const record = (entry: {
    readonly operation: ModelOperation
    readonly model: string
    readonly cached: boolean
    readonly outcome: ModelCallOutcome
    readonly errorTag?: string | undefined
    readonly inputTokens: number
    readonly outputTokens: number
    readonly costUsd: number
    readonly savedUsd: number
    readonly attempts: number
    readonly latencyMs: number
  }) =>
    Effect.gen(function*() {
      const call = yield* CallContext
      yield* ledger.record({ ...entry, workspaceId: call.workspaceId, phase: call.phase, purpose: call.purpose })
    })

  const structuredTarget = (
    format: LanguageModel.ProviderOptions["responseFormat"]
  ): Effect.Effect<StructuredTarget | undefined, AiError.AiError> => {
    if (format.type !== "json") return Effect.succeed(undefined)
    return Effect.try({
      try: () => {
        const { codec, jsonSchema } = codecTransformer(format.schema as unknown as Schema.ConstraintCodec<unknown, unknown, never, never>)
        const decoder = Schema.decodeUnknownEffect(Schema.fromJsonString(codec as Schema.Codec<unknown, unknown>))
        return {
          objectName: format.objectName,
          jsonSchema,
          decode: (text: string) => decoder(text) as Effect.Effect<unknown, Schema.SchemaError>
        }
      },
      catch: (error) =>
        AiError.make({
          module: MODULE,
          method: "generateObject",
          reason: new AiError.UnsupportedSchemaError({ description: error instanceof Error ? error.message : String(error) })
        })
    })
  }

  const decodeCached = (json: string): OpenAI.ChatCompletion | undefined => {
    const parsed: unknown = (() => {
      try {
        return JSON.parse(json)
      } catch {
        return undefined
      }
    })()
    return typeof parsed === "object" && parsed !== null ? parsed as OpenAI.ChatCompletion : undefined
  }

  const generateText = (providerOptions: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const parameters = yield* GenerationParameters
      const call = yield* CallContext
      const prices = yield* PriceTable
      const model = parameters.model === "default" || parameters.model === "" ? resolved.model : parameters.model
      const target = yield* structuredTarget(providerOptions.responseFormat)
      const baseMessages = yield* toChatMessages(providerOptions.prompt)
      const messages = target !== undefined && resolved.structuredOutput === "json_object"
        ? withJsonInstructions(baseMessages, jsonInstructions(target))
        : baseMessages
      const tools = yield* toChatTools(providerOptions.tools, providerOptions.toolChoice)
      const body: ChatBody = {
        model,
        messages,
        temperature: parameters.temperature,
        [resolved.maxTokensParameter]: parameters.maxTokens,
        ...(parameters.topP === undefined ? {} : { top_p: parameters.topP }),
        ...(parameters.seed === undefined ? {} : { seed: parameters.seed }),
        ...(target === undefined
          ? {}
          : resolved.structuredOutput === "json_schema"
          ? {
            response_format: {
              type: "json_schema" as const,
              json_schema: { name: target.objectName, schema: target.jsonSchema as Record<string, unknown>, strict: true }
            }
          }
          : { response_format: { type: "json_object" as const } }),
        ...tools
      }
      providerOptions.span.attribute("gen_ai.request.model", model)
      providerOptions.span.attribute("spectral.workspace_id", call.workspaceId)
      const key = requestKey({
        operation: "chat",
        baseUrl: resolved.baseUrl,
        body,
        epoch: parameters.epoch,
        workspaceId: call.workspaceId
      })
      const startedAt = yield* Clock.currentTimeMillis
      const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - startedAt)
      const priced = (completion: OpenAI.ChatCompletion) => {
        const usage = tokenUsageOf(completion)
        return { usage, costUsd: costOf(prices, model, usage.inputTokens, usage.outputTokens) }
      }

      // The cache: a stored answer is re-validated (the schema may have changed) and costs nothing.
      const stored = yield* cache.get(key).pipe(
        Effect.catch((error) => Effect.as(Effect.logWarning("Response cache read failed", error), Option.none()))
      )
      if (Option.isSome(stored)) {
        const completion = decodeCached(stored.value)
        const usable = completion === undefined
          ? undefined
          : yield* Effect.option(interpret(completion, target, 0))
        if (completion !== undefined && usable !== undefined && Option.isSome(usable)) {
          const { usage, costUsd: savedUsd } = priced(completion)
          const latencyMs = yield* elapsed
          yield* record({
            operation: "chat",
            model,
            cached: true,
            outcome: "success",
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            costUsd: 0,
            savedUsd,
            attempts: 0,
            latencyMs
          })
          return toParts(completion, usable.value, { cached: true, costUsd: 0, savedUsd, latencyMs, attempts: 0, cacheKey: key })
        }
      }

      // The provider, with at most `repairAttempts` follow-ups for unusable structured output.
      let request = body
      let repairsLeft = resolved.repairAttempts
      let operation: ModelOperation = "chat"
      while (true) {
        const sent = yield* Effect.exit(
          withRetries("generateText", chatUrl, (signal) => client.chat.completions.create(request, { signal }))
        )
        if (Exit.isFailure(sent)) {
          const error = Cause.findErrorOption(sent.cause)
          yield* record({
            operation,
            model,
            cached: false,
            outcome: "failed",
            errorTag: Option.isSome(error) ? error.value.reason._tag : "Interrupted",
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            savedUsd: 0,
            attempts: 0,
            latencyMs: yield* elapsed
          })
          return yield* Effect.failCause(sent.cause)
        }
        const { value: completion, attempts } = sent.value
        const { usage, costUsd } = priced(completion)
        const interpreted = yield* Effect.exit(interpret(completion, target, costUsd))
        const latencyMs = yield* elapsed
        if (Exit.isSuccess(interpreted)) {
          yield* record({
            operation,
            model,
            cached: false,
            outcome: "success",
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            costUsd,
            savedUsd: 0,
            attempts,
            latencyMs
          })
          if (interpreted.value.cacheable) {
            yield* cache.put(key, JSON.stringify(completion)).pipe(
              Effect.catch((error) => Effect.logWarning("Response cache write failed", error))
            )
          }
          return toParts(completion, interpreted.value, { cached: false, costUsd, latencyMs, attempts, cacheKey: key })
        }
        const error = Cause.findErrorOption(interpreted.cause)
        const billed = Option.isSome(error) && isParseFailure(error.value)
        yield* record({
          operation,
          model,
          cached: false,
          outcome: billed ? "parse_failure" : "failed",
          errorTag: Option.isSome(error) ? error.value.reason._tag : "Unknown",
          inputTokens: usage.inputTokens,
          outputTokens: usage.outputTokens,
          costUsd,
          savedUsd: 0,
          attempts,
          latencyMs
        })
        if (!billed || target === undefined || repairsLeft <= 0 || Option.isNone(error)) {
          return yield* Effect.failCause(interpreted.cause)
        }
        repairsLeft -= 1
        operation = "chat-repair"
        const rawText = completion.choices?.[0]?.message?.content ?? ""
        request = {
          ...body,
          messages: [
            ...body.messages,
            { role: "assistant", content: rawText },
            {
              role: "user",
              content: `That reply could not be used (${error.value.reason.message}). ` +
                `Reply again with only the JSON object, conforming to the schema.`
            }
          ]
        }
      }
    })

  const languageModel = yield* LanguageModel.make({
    codecTransformer,
    generateText,
    streamText: (providerOptions) =>
      Stream.fromIterableEffect(Effect.map(generateText(providerOptions), toStreamParts))
  })

  const embeddingModel = yield* EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      Effect.gen(function*() {
        const prices = yield* PriceTable
        const startedAt = yield* Clock.currentTimeMillis
        const latency = Effect.map(Clock.currentTimeMillis, (now) => now - startedAt)
        const model = resolved.embeddingModel
        const sent = yield* Effect.exit(
          withRetries("embedMany", embeddingsUrl, (signal) =>
            client.embeddings.create({ model, input: [...inputs], encoding_format: "float" }, { signal }))
        )
        if (Exit.isFailure(sent)) {
          const error = Cause.findErrorOption(sent.cause)
          yield* record({
            operation: "embedding",
            model,
            cached: false,
            outcome: "failed",
            errorTag: Option.isSome(error) ? error.value.reason._tag : "Interrupted",
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            savedUsd: 0,
            attempts: 0,
            latencyMs: yield* latency
          })
          return yield* Effect.failCause(sent.cause)
        }
        const { value: response, attempts } = sent.value
        const inputTokens = response.usage?.prompt_tokens ?? 0
        const costUsd = costOf(prices, model, inputTokens, 0)
        yield* record({
          operation: "embedding",
          model,
          cached: false,
          outcome: "success",
          inputTokens,
          outputTokens: 0,
          costUsd,
          savedUsd: 0,
          attempts,
          latencyMs: yield* latency
        })
        const data = Array.isArray(response.data) ? [...response.data].sort((a, b) => a.index - b.index) : []
        return { results: data.map((item) => item.embedding), usage: { inputTokens } }
      })
  })

  return {
    languageModel,
    embeddingModel,
    client: OpenAiCompatibleClient.of({ client, options: resolved, effectiveConcurrency: rate.effectiveConcurrency })
  } satisfies OpenAiCompatibleServices
})

const isAttemptFailure = (u: unknown): u is AttemptFailure =>
  typeof u === "object" && u !== null && "error" in u && "retryable" in u && AiError.isAiError(u.error)

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

export type Provides = LanguageModel.LanguageModel | EmbeddingModel.EmbeddingModel | OpenAiCompatibleClient

/** The provider; the host supplies `ResponseCache` and `UsageLedger` (for example SQL-backed ones). */
export const layerNoDeps = (options: Options): Layer.Layer<Provides, never, ResponseCache | UsageLedger> =>
  Layer.effectContext(
    Effect.map(make(options), ({ languageModel, embeddingModel, client }) =>
      Context.make(LanguageModel.LanguageModel, languageModel).pipe(
        Context.add(EmbeddingModel.EmbeddingModel, embeddingModel),
        Context.add(OpenAiCompatibleClient, client)
      ))
  )

/** The provider with an in-memory response cache and usage ledger, both exposed. */
export const layer = (options: Options): Layer.Layer<Provides | ResponseCache | UsageLedger> =>
  layerNoDeps(options).pipe(Layer.provideMerge(Layer.merge(ResponseCache.layerMemory, UsageLedger.layerMemory)))

/** `layerNoDeps` configured from `config`. */
export const layerConfigNoDeps: Layer.Layer<Provides, Config.ConfigError, ResponseCache | UsageLedger> = Layer.unwrap(
  Effect.gen(function*() {
    return layerNoDeps(yield* config)
  })
)

/** `layer` configured from `config` (environment variables by default). */
export const layerConfig: Layer.Layer<Provides | ResponseCache | UsageLedger, Config.ConfigError> = Layer.unwrap(
  Effect.gen(function*() {
    return layer(yield* config)
  })
)
