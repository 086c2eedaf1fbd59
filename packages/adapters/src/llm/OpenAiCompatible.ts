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
 * content, HTTP 200 carrying an error, prose where the prompt asked for JSON) and only then caches
 * it; records one `UsageLedger` entry per logical call, priced from `PriceTable`. The API key (and
 * anything shaped like a key) is redacted from every answer and every error text the provider
 * keeps, caches or returns (`Redaction`).
 *
 * Owns: configuration, the cache key, the call flow (cache → retries → validation → cache, ledger),
 * layers. Not here: wire mapping and validation (ChatCompletions), attempts and back-off
 * (RetryPolicy), the limiter (RateControl), the cache and ledger ports (ResponseCache, UsageLedger),
 * the secret patterns (Redaction).
 */
import { createHash } from "node:crypto"
import { Cause, Clock, Config, Context, Effect, Exit, Layer, Option, Redacted, Schema, Stream } from "effect"
import { AiError, EmbeddingModel, LanguageModel } from "effect/ai"
import * as OpenAiStructuredOutput from "effect/ai/OpenAiStructuredOutput"
import { CallContext, costOf, GenerationParameters, PriceTable, WorkspaceCredentials } from "@spectral/engine"
import OpenAI from "openai"
import {
  asksForJson,
  type ChatBody,
  interpret,
  isParseFailure,
  jsonInstructions,
  type StructuredTarget,
  toChatMessages,
  toChatTools,
  tokenUsageOf,
  toParts,
  toStreamParts,
  withJsonInstructions
} from "./ChatCompletions.ts"
import * as RateControl from "./RateControl.ts"
import * as Redaction from "./Redaction.ts"
import * as RetryPolicy from "./RetryPolicy.ts"
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

const MODULE = "OpenAiCompatible"

const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** A stored response body, when it is still a JSON object. */
const decodeJson = (json: string): object | undefined => {
  const parsed = Option.getOrUndefined(parseJson(json))
  return typeof parsed === "object" && parsed !== null ? parsed : undefined
}

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
  // What a provider echoes back (an error quoting the key) never leaves this module unredacted.
  const redactor = Redaction.make([options.apiKey])
  const client = new OpenAI({
    apiKey: options.apiKey === undefined ? "no-key" : Redacted.value(options.apiKey),
    baseURL: resolved.baseUrl,
    maxRetries: 0,
    timeout: resolved.timeoutMs + 5_000
  })
  // A workspace's own key (WorkspaceCredentials), when it has one, replaces the configured key per
  // request; what the provider echoes of it is redacted like the configured key.
  const workspaceRedactors = new Map<string, Redaction.Redactor>()
  const credentialsFor = (method: string, workspaceId: string) =>
    Effect.gen(function*() {
      const credentials = yield* WorkspaceCredentials
      const own = yield* credentials.apiKeyFor(workspaceId).pipe(
        Effect.mapError((error) =>
          AiError.make({
            module: "OpenAiCompatible",
            method,
            reason: new AiError.AuthenticationError({ kind: "InvalidKey", description: `workspace ${workspaceId}'s llm-api-key: ${error.message}` })
          })
        )
      )
      if (Option.isNone(own)) return { options: {}, redact: redactor }
      const value = Redacted.value(own.value)
      let redact = workspaceRedactors.get(value)
      if (redact === undefined) {
        redact = Redaction.make([options.apiKey, own.value])
        workspaceRedactors.set(value, redact)
      }
      return { options: { headers: { Authorization: `Bearer ${value}` } }, redact }
    })
  const chatUrl = `${resolved.baseUrl}/chat/completions`
  const embeddingsUrl = `${resolved.baseUrl}/embeddings`
  const codecTransformer: LanguageModel.CodecTransformer = resolved.structuredOutput === "json_schema"
    ? OpenAiStructuredOutput.toCodecOpenAI
    : LanguageModel.defaultCodecTransformer

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

  /** Sends with retries; a request that never got an answer is recorded (no tokens, no cost) and fails. */
  const sendRecorded = <A>(
    request: {
      readonly operation: ModelOperation
      readonly model: string
      readonly method: string
      readonly url: string
      readonly startedAt: number
    },
    send: (signal: AbortSignal) => PromiseLike<A>,
    redact: Redaction.Redactor = redactor
  ): Effect.Effect<RetryPolicy.Attempted<A>, AiError.AiError> =>
    RetryPolicy.withRetries(rate, resolved, request, send, redact.text).pipe(
      Effect.map((attempted) => ({ ...attempted, value: redact.json(attempted.value) })),
      Effect.catch((exhausted) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          yield* record({
            operation: request.operation,
            model: request.model,
            cached: false,
            outcome: "failed",
            errorTag: exhausted.error.reason._tag,
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            savedUsd: 0,
            attempts: exhausted.attempts,
            latencyMs: now - request.startedAt
          })
          return yield* Effect.fail(exhausted.error)
        })
      )
    )

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

  const generateText = (providerOptions: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const parameters = yield* GenerationParameters
      const call = yield* CallContext
      const prices = yield* PriceTable
      // Chat completions has no retrieval: an agent that asks for it is refused, naming the setting,
      // rather than run without it. A pinned `modelVersion` is the snapshot's name (`gpt-4.1-mini-2025-04-14`).
      if (parameters.retrieval !== undefined) {
        return yield* AiError.make({
          module: "OpenAiCompatible",
          method: "generateText",
          reason: new AiError.InvalidRequestError({
            parameter: "retrieval",
            description: `hyperparameters.retrieval (topK ${parameters.retrieval.topK}, similarityThreshold ${parameters.retrieval.similarityThreshold}) cannot be honoured: the OpenAI-compatible provider has no retrieval; remove it from ${call.purpose} or give that agent a provider that retrieves`
          })
        })
      }
      const baseModel = parameters.model === "default" || parameters.model === "" ? resolved.model : parameters.model
      const model = parameters.modelVersion === undefined || parameters.modelVersion === "" || baseModel.endsWith(`-${parameters.modelVersion}`)
        ? baseModel
        : `${baseModel}-${parameters.modelVersion}`
      const target = yield* structuredTarget(providerOptions.responseFormat)
      const baseMessages = yield* toChatMessages(providerOptions.prompt)
      const messages = target !== undefined && resolved.structuredOutput === "json_object"
        ? withJsonInstructions(baseMessages, jsonInstructions(target))
        : baseMessages
      const tools = yield* toChatTools(providerOptions.tools, providerOptions.toolChoice)
      // A text request asking for JSON: its answer is cached (and replayed) only when it holds JSON.
      const expectsJson = target === undefined && asksForJson(messages)
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

      // The cache: a stored answer is re-validated (the schema may have changed; an entry stored
      // before answers had to decode may not) and costs nothing; one that no longer passes is not replayed.
      const stored = yield* cache.get(key).pipe(
        Effect.catch((error) => Effect.as(Effect.logWarning("Response cache read failed", error), Option.none()))
      )
      if (Option.isSome(stored)) {
        const decoded = decodeJson(stored.value) as OpenAI.ChatCompletion | undefined
        const completion = decoded === undefined ? undefined : redactor.json(decoded)
        const usable = completion === undefined
          ? undefined
          : yield* Effect.option(interpret(completion, target, 0, expectsJson))
        if (completion !== undefined && usable !== undefined && Option.isSome(usable) && usable.value.cacheable) {
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
      const auth = yield* credentialsFor("generateText", call.workspaceId)
      let request = body
      let repairsLeft = resolved.repairAttempts
      let operation: ModelOperation = "chat"
      while (true) {
        const sent = yield* sendRecorded(
          { operation, model, method: "generateText", url: chatUrl, startedAt },
          (signal) => client.chat.completions.create(request, { signal, ...auth.options }),
          auth.redact
        )
        const { value: completion, attempts } = sent
        const { usage, costUsd } = priced(completion)
        const interpreted = yield* Effect.exit(interpret(completion, target, costUsd, expectsJson))
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

  /** Vectors in input order, or undefined when the answer does not fit the request. */
  const vectorsOf = (response: OpenAI.CreateEmbeddingResponse, count: number): Array<Array<number>> | undefined => {
    if (!Array.isArray(response.data) || response.data.length !== count) return undefined
    const vectors = [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding)
    const usable = vectors.every((vector) =>
      Array.isArray(vector) && vector.length > 0 && vector.every((x) => typeof x === "number" && Number.isFinite(x))
    )
    return usable ? vectors : undefined
  }

  const embeddingModel = yield* EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      Effect.gen(function*() {
        const prices = yield* PriceTable
        const call = yield* CallContext
        const startedAt = yield* Clock.currentTimeMillis
        const latency = Effect.map(Clock.currentTimeMillis, (now) => now - startedAt)
        const model = resolved.embeddingModel
        const body = { model, input: [...inputs], encoding_format: "float" as const }
        const key = requestKey({
          operation: "embedding",
          baseUrl: resolved.baseUrl,
          body,
          epoch: 0,
          workspaceId: call.workspaceId
        })
        const entry = (fields: {
          readonly cached: boolean
          readonly outcome: ModelCallOutcome
          readonly inputTokens: number
          readonly costUsd: number
          readonly savedUsd: number
          readonly attempts: number
          readonly errorTag?: string
        }) =>
          Effect.flatMap(latency, (latencyMs) =>
            record({ operation: "embedding", model, outputTokens: 0, latencyMs, ...fields }))

        const stored = yield* cache.get(key).pipe(
          Effect.catch((error) => Effect.as(Effect.logWarning("Response cache read failed", error), Option.none()))
        )
        if (Option.isSome(stored)) {
          const decoded = decodeJson(stored.value) as OpenAI.CreateEmbeddingResponse | undefined
          const response = decoded === undefined ? undefined : redactor.json(decoded)
          const vectors = response === undefined ? undefined : vectorsOf(response, inputs.length)
          if (response !== undefined && vectors !== undefined) {
            const inputTokens = response.usage?.prompt_tokens ?? 0
            yield* entry({
              cached: true,
              outcome: "success",
              inputTokens,
              costUsd: 0,
              savedUsd: costOf(prices, model, inputTokens, 0),
              attempts: 0
            })
            return { results: vectors, usage: { inputTokens } }
          }
        }

        const auth = yield* credentialsFor("embedMany", call.workspaceId)
        const { value: response, attempts } = yield* sendRecorded(
          { operation: "embedding", model, method: "embedMany", url: embeddingsUrl, startedAt },
          (signal) => client.embeddings.create(body, { signal, ...auth.options }),
          auth.redact
        )
        const inputTokens = response.usage?.prompt_tokens ?? 0
        const costUsd = costOf(prices, model, inputTokens, 0)
        const vectors = vectorsOf(response, inputs.length)
        if (vectors === undefined) {
          yield* entry({
            cached: false,
            outcome: "parse_failure",
            errorTag: "InvalidOutputError",
            inputTokens,
            costUsd,
            savedUsd: 0,
            attempts
          })
          return yield* AiError.make({
            module: MODULE,
            method: "embedMany",
            reason: new AiError.InvalidOutputError({
              description: `Expected ${inputs.length} finite embedding vectors, got: ${
                JSON.stringify(response).slice(0, 2000)
              }`
            })
          })
        }
        yield* entry({ cached: false, outcome: "success", inputTokens, costUsd, savedUsd: 0, attempts })
        yield* cache.put(key, JSON.stringify(response)).pipe(
          Effect.catch((error) => Effect.logWarning("Response cache write failed", error))
        )
        return { results: vectors, usage: { inputTokens } }
      })
  })

  return {
    languageModel,
    embeddingModel,
    client: OpenAiCompatibleClient.of({ client, options: resolved, effectiveConcurrency: rate.effectiveConcurrency })
  } satisfies OpenAiCompatibleServices
})

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
