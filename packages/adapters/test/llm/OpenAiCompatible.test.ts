import { assert, describe, it } from "@effect/vitest"
import { CallContext, costOf, GenerationParameters, PriceTable, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { Clock, ConfigProvider, Context, Effect, Fiber, Layer, Redacted, Schema, Stream } from "effect"
import { type AiError, EmbeddingModel, LanguageModel, Prompt, Tool, Toolkit } from "effect/ai"
import { OpenAiCompatible, ResponseCache, RetryPolicy, UsageLedger } from "../../src/llm/index.ts"
import * as FakeOpenAiServer from "./FakeOpenAiServer.ts"

type Server = FakeOpenAiServer.FakeOpenAiServer

const baseOptions = (server: Server, overrides: OpenAiCompatible.Options = {}): OpenAiCompatible.Options => ({
  apiKey: Redacted.make("sk-test"),
  baseUrl: server.baseUrl,
  model: "gpt-4.1-mini",
  timeoutMs: 2_000,
  maxRetries: 5,
  retryBaseDelayMs: 5,
  retryMaxDelayMs: 20,
  repairAttempts: 0,
  ...overrides
})

/** Every response JSON written to the cache, so a test can see what was (not) stored. */
class CacheWrites extends Context.Service<CacheWrites, Array<string>>()("test/llm/CacheWrites") {}

type Services = OpenAiCompatible.Provides | UsageLedger.UsageLedger | CacheWrites

const withProvider = <A, E>(server: Server, overrides: OpenAiCompatible.Options, program: Effect.Effect<A, E, Services>) => {
  const writes: Array<string> = []
  const memory = ResponseCache.makeMemory()
  const observedCache = ResponseCache.ResponseCache.of({
    get: memory.get,
    put: (key, json) => Effect.andThen(Effect.sync(() => writes.push(json)), memory.put(key, json))
  })
  return Effect.provide(
    program,
    OpenAiCompatible.layerNoDeps(baseOptions(server, overrides)).pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(ResponseCache.ResponseCache, observedCache),
        UsageLedger.UsageLedger.layerMemory,
        Layer.succeed(CacheWrites, writes)
      ))
    )
  )
}

const parameters = (overrides: Partial<GenerationParameters> = {}): GenerationParameters => ({
  provider: "openai",
  model: "default",
  temperature: 0.2,
  maxTokens: 256,
  epoch: 0,
  ...overrides
})

const asCall = (
  overrides: Partial<GenerationParameters> = {},
  workspaceId = "ws-a"
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.provideService(GenerationParameters, parameters(overrides)),
    Effect.provideService(CallContext, { workspaceId, phase: "evaluate", purpose: "judge" })
  )

const ask = (text: string, overrides: Partial<GenerationParameters> = {}, workspaceId = "ws-a") =>
  LanguageModel.generateText({
    prompt: [{ role: "system", content: "You are terse." }, { role: "user", content: text }]
  }).pipe(asCall(overrides, workspaceId))

const Person = Schema.Struct({ name: Schema.String, age: Schema.Number })

const askObject = (text: string) =>
  LanguageModel.generateObject({ prompt: text, schema: Person, objectName: "person" }).pipe(asCall())

const totals = Effect.gen(function*() {
  return yield* (yield* UsageLedger.UsageLedger).totals()
})
const records = Effect.gen(function*() {
  return yield* (yield* UsageLedger.UsageLedger).records
})

const spectralMetadata = (response: LanguageModel.GenerateTextResponse<{}>) => {
  const finish = response.content.find((part) => part.type === "finish")
  return finish?.metadata[SPECTRAL_METADATA_KEY] as Record<string, unknown> | undefined
}

const expectedCost = (model = "gpt-4.1-mini") =>
  costOf(
    PriceTable.defaultValue(),
    model,
    FakeOpenAiServer.DEFAULT_USAGE.prompt_tokens,
    FakeOpenAiServer.DEFAULT_USAGE.completion_tokens
  )

const elapsedSince = (start: number) => Effect.map(Clock.currentTimeMillis, (now) => now - start)

describe("OpenAiCompatible chat", () => {
  it.live("answers through the openai SDK with the caller's generation parameters", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: "Filing status: single." })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const response = yield* ask("Which status?", { temperature: 0.7, maxTokens: 99, topP: 0.9, seed: 42 })
          assert.strictEqual(response.text, "Filing status: single.")
          assert.strictEqual(response.finishReason, "stop")
          assert.strictEqual(response.usage.inputTokens.total, 1000)
          assert.strictEqual(response.usage.outputTokens.total, 500)
          const metadata = spectralMetadata(response)
          assert.strictEqual(metadata?.["cached"], false)
          assert.closeTo(metadata?.["costUsd"] as number, expectedCost(), 1e-12)

          const [request] = server.chatRequests()
          assert.strictEqual(request.headers.authorization, "Bearer sk-test")
          assert.strictEqual(request.body.model, "gpt-4.1-mini")
          assert.deepStrictEqual(request.body.messages, [
            { role: "system", content: "You are terse." },
            { role: "user", content: "Which status?" }
          ])
          assert.strictEqual(request.body.temperature, 0.7)
          assert.strictEqual(request.body.max_tokens, 99)
          assert.strictEqual(request.body.top_p, 0.9)
          assert.strictEqual(request.body.seed, 42)
          assert.isUndefined(request.body.response_format)

          const t = yield* totals
          assert.strictEqual(t.calls, 1)
          assert.strictEqual(t.cacheHits, 0)
          assert.strictEqual(t.inputTokens, 1000)
          assert.strictEqual(t.outputTokens, 500)
          assert.closeTo(t.costUsd, expectedCost(), 1e-12)
          const [entry] = yield* records
          assert.strictEqual(entry.workspaceId, "ws-a")
          assert.strictEqual(entry.phase, "evaluate")
          assert.strictEqual(entry.purpose, "judge")
        })
      )
    }))

  it.live("uses the model named in GenerationParameters and prices it from a host PriceTable", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const prices = new Map([["house-model", { inputPerMillion: 1000, outputPerMillion: 2000 }]])
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const response = yield* ask("hi", { model: "house-model" }).pipe(Effect.provideService(PriceTable, prices))
          assert.strictEqual(server.chatRequests()[0].body.model, "house-model")
          // 1000 input tokens at $1000/M + 500 output tokens at $2000/M = $2
          assert.closeTo(spectralMetadata(response)?.["costUsd"] as number, 2, 1e-9)
          assert.closeTo((yield* totals).costUsd, 2, 1e-9)
        })
      )
    }))

  it.live("a pinned modelVersion is sent as the snapshot's model name; retrieval is refused naming the setting, before any request", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          yield* ask("hi", { model: "gpt-4.1-mini", modelVersion: "2025-04-14" })
          assert.strictEqual(server.chatRequests()[0].body.model, "gpt-4.1-mini-2025-04-14")
          yield* ask("hi again", { model: "gpt-4.1-mini-2025-04-14", modelVersion: "2025-04-14" })
          assert.strictEqual(server.chatRequests()[1].body.model, "gpt-4.1-mini-2025-04-14", "not appended twice")
          const refused = yield* Effect.flip(ask("find it", { retrieval: { topK: 4, similarityThreshold: 0.7 } }))
          assert.strictEqual(refused.reason._tag, "InvalidRequestError")
          assert.include(refused.message, "hyperparameters.retrieval (topK 4, similarityThreshold 0.7) cannot be honoured")
          assert.strictEqual(server.chatRequests().length, 2, "nothing sent for the refused call")
        })
      )
    }))

  it.live("streams the answer as text deltas", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: "streamed" })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const parts = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runCollect, asCall())
          const text = parts.flatMap((part) => part.type === "text-delta" ? [part.delta] : []).join("")
          assert.strictEqual(text, "streamed")
          assert.isTrue(parts.some((part) => part.type === "finish"))
        })
      )
    }))
})

describe("OpenAiCompatible tools", () => {
  const LookupRule = Tool.make("lookup_rule", {
    description: "Look up a tax rule by code",
    parameters: Schema.Struct({ code: Schema.String }),
    success: Schema.String
  })
  const Rules = Toolkit.make(LookupRule)
  const RulesHandlers = Rules.toLayer({ lookup_rule: ({ code }) => Effect.succeed(`rule ${code}: filing status`) })

  it.live("sends tools, decodes tool calls, and sends tool results back", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", {
        kind: "ok",
        finishReason: "tool_calls",
        toolCalls: [{ id: "call_1", name: "lookup_rule", arguments: `{"code":"501"}` }]
      })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const response = yield* LanguageModel.generateText({ prompt: "Which rule?", toolkit: Rules }).pipe(
            asCall(),
            Effect.provide(RulesHandlers)
          )
          assert.strictEqual(response.finishReason, "tool-calls")
          assert.deepStrictEqual(response.toolCalls.map((call) => [call.name, call.params]), [["lookup_rule", { code: "501" }]])
          assert.deepStrictEqual(response.toolResults.map((result) => result.result), ["rule 501: filing status"])
          const [first] = server.chatRequests()
          assert.strictEqual(first.body.tools[0].function.name, "lookup_rule")
          assert.strictEqual(first.body.tools[0].function.description, "Look up a tax rule by code")
          assert.deepStrictEqual(first.body.tools[0].function.parameters.required, ["code"])
          assert.strictEqual(first.body.tool_choice, "auto")

          yield* LanguageModel.generateText({
            prompt: Prompt.concat(Prompt.make("Which rule?"), Prompt.fromResponseParts(response.content))
          }).pipe(asCall())
          const second = server.chatRequests()[1].body.messages
          assert.deepStrictEqual(second.slice(1).map((message: { role: string }) => message.role), ["assistant", "tool"])
          assert.strictEqual(second[1].tool_calls[0].function.arguments, `{"code":"501"}`)
          assert.strictEqual(second[2].tool_call_id, "call_1")
          assert.strictEqual(second[2].content, "rule 501: filing status")
        })
      )
    }))
})

describe("OpenAiCompatible retries", () => {
  it.live("429 five times with retry-after-ms, then 200: succeeds, waits as asked, records usage once", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const rateLimited: FakeOpenAiServer.Reply = {
        kind: "status",
        status: 429,
        headers: { "retry-after-ms": "50" },
        body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }
      }
      server.script("chat", rateLimited, rateLimited, rateLimited, rateLimited, rateLimited, { kind: "ok" })
      yield* withProvider(
        server,
        { concurrency: 8 },
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const response = yield* ask("hi")
          const elapsed = yield* elapsedSince(start)
          assert.strictEqual(response.text, "hello")
          assert.strictEqual(server.chatRequests().length, 6)
          assert.isAtLeast(elapsed, 5 * 50)
          const t = yield* totals
          assert.strictEqual(t.calls, 1)
          assert.strictEqual(t.attempts, 6)
          assert.strictEqual(t.inputTokens, 1000)
          assert.closeTo(t.costUsd, expectedCost(), 1e-12)
          assert.lengthOf(yield* records, 1)
          const client = yield* OpenAiCompatible.OpenAiCompatibleClient
          assert.isBelow(yield* client.effectiveConcurrency, 8)
        })
      )
    }))

  it.live("honours Retry-After in seconds", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "status", status: 429, headers: { "retry-after": "1" } }, { kind: "ok" })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          yield* ask("hi")
          assert.isAtLeast(yield* elapsedSince(start), 1000)
          assert.strictEqual(server.chatRequests().length, 2)
        })
      )
    }))

  it.live("retries a 500 and then succeeds", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "status", status: 500 }, { kind: "status", status: 503 }, { kind: "ok" })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          assert.strictEqual((yield* ask("hi")).text, "hello")
          assert.strictEqual(server.chatRequests().length, 3)
          assert.strictEqual((yield* totals).calls, 1)
        })
      )
    }))

  it.live("does not retry a 400", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "status", status: 400, body: { error: { message: "bad request" } } })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const error = yield* Effect.flip(ask("hi"))
          assert.strictEqual(error.reason._tag, "InvalidRequestError")
          assert.strictEqual(server.chatRequests().length, 1)
        })
      )
    }))

  it.live("endless 429 ends as a rate-limited AiError after bounded attempts, never a result", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "status", status: 429, headers: { "retry-after-ms": "10" } })
      yield* withProvider(
        server,
        { maxRetries: 3 },
        Effect.gen(function*() {
          const error = yield* Effect.flip(ask("hi"))
          assert.strictEqual(error.reason._tag, "RateLimitError")
          assert.strictEqual(server.chatRequests().length, 4)
          const t = yield* totals
          assert.strictEqual(t.failures, 1)
          assert.strictEqual(t.costUsd, 0)
          const [entry] = yield* records
          assert.strictEqual(entry.outcome, "failed")
          assert.strictEqual(entry.errorTag, "RateLimitError")
          assert.strictEqual(entry.attempts, 4)
          const client = yield* OpenAiCompatible.OpenAiCompatibleClient
          assert.strictEqual(yield* client.effectiveConcurrency, 1)
        })
      )
    }))

  it.live("an insufficient_quota 429 is not retried", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({
        kind: "status",
        status: 429,
        body: { error: { message: "You exceeded your current quota", code: "insufficient_quota" } }
      })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const error = yield* Effect.flip(ask("hi"))
          assert.strictEqual(error.reason._tag, "QuotaExhaustedError")
          assert.strictEqual(server.chatRequests().length, 1)
        })
      )
    }))

  it.live("a hanging provider: each attempt is aborted at its timeout and the total time is bounded", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "hang" })
      yield* withProvider(
        server,
        { timeoutMs: 100, maxRetries: 2 },
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const error = yield* Effect.flip(ask("hi"))
          const elapsed = yield* elapsedSince(start)
          assert.strictEqual(error.reason._tag, "NetworkError")
          assert.strictEqual(server.chatRequests().length, 3)
          assert.isAtLeast(elapsed, 300)
          assert.isBelow(elapsed, 2_000)
          yield* Effect.sleep(50)
          // Every aborted attempt closed its connection: nothing is left in flight on the server.
          assert.strictEqual(server.stats.aborted, 3)
          assert.strictEqual(server.stats.inFlight, 0)
        })
      )
    }))

  it.live("the total deadline cuts retries short", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "hang" })
      yield* withProvider(
        server,
        { timeoutMs: 100, maxRetries: 50, deadlineMs: 350 },
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const error = yield* Effect.flip(ask("hi"))
          const elapsed = yield* elapsedSince(start)
          assert.strictEqual(error.reason._tag, "NetworkError")
          assert.isBelow(elapsed, 1_500)
          assert.isBelow(server.chatRequests().length, 6)
        })
      )
    }))

  it.live("interrupting a call aborts its request and releases its permit", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "hang" })
      yield* withProvider(
        server,
        { concurrency: 1 },
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(ask("first"))
          yield* Effect.sleep(100)
          assert.strictEqual(server.stats.inFlight, 1)
          yield* Fiber.interrupt(fiber)
          yield* Effect.sleep(50)
          assert.strictEqual(server.stats.inFlight, 0)
          assert.strictEqual(server.stats.aborted, 1)
          // With a concurrency of one, this only runs if the interrupted call gave its permit back.
          assert.strictEqual((yield* ask("second").pipe(Effect.timeout(1_000))).text, "hello")
        })
      )
    }))
})

describe("OpenAiCompatible limits", () => {
  it.live("never has more requests in flight than the concurrency limit", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "ok", delayMs: 40 })
      yield* withProvider(
        server,
        { concurrency: 3 },
        Effect.gen(function*() {
          yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => `question ${i}`), (q) => ask(q), {
            concurrency: "unbounded"
          })
          assert.strictEqual(server.chatRequests().length, 10)
          assert.strictEqual(server.stats.maxInFlight, 3)
        })
      )
    }))

  it.live("spaces request starts to the requests-per-minute limit", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      yield* withProvider(
        server,
        { requestsPerMinute: 1200 },
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          yield* Effect.forEach(["a", "b", "c", "d", "e"], (q) => ask(q), { concurrency: "unbounded" })
          // 1200 per minute = one every 50 ms: the fifth starts at least 200 ms after the first.
          assert.isAtLeast(yield* elapsedSince(start), 200)
        })
      )
    }))

  it.live("halves the concurrency on a 429 and restores it slowly on success", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "status", status: 429, headers: { "retry-after-ms": "1" } })
      yield* withProvider(
        server,
        { concurrency: 4 },
        Effect.gen(function*() {
          const client = yield* OpenAiCompatible.OpenAiCompatibleClient
          yield* ask("q0")
          assert.strictEqual(yield* client.effectiveConcurrency, 2)
          yield* ask("q1")
          assert.strictEqual(yield* client.effectiveConcurrency, 3)
          yield* ask("q2")
          yield* ask("q3")
          assert.strictEqual(yield* client.effectiveConcurrency, 3)
          yield* ask("q4")
          assert.strictEqual(yield* client.effectiveConcurrency, 4)
        })
      )
    }))
})

describe("OpenAiCompatible structured output", () => {
  it.live("asks for a JSON object and decodes it through the schema", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: `{"name":"Ada","age":36}` })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const response = yield* askObject("Who?")
          assert.deepStrictEqual(response.value, { name: "Ada", age: 36 })
          const request = server.chatRequests()[0]
          assert.deepStrictEqual(request.body.response_format, { type: "json_object" })
          assert.match(request.body.messages[0].content, /JSON Schema/)
        })
      )
    }))

  it.live("json_schema mode sends the schema as a strict response format", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: `{"name":"Ada","age":36}` })
      yield* withProvider(
        server,
        { structuredOutput: "json_schema" },
        Effect.gen(function*() {
          assert.deepStrictEqual((yield* askObject("Who?")).value, { name: "Ada", age: 36 })
          const format = server.chatRequests()[0].body.response_format
          assert.strictEqual(format.type, "json_schema")
          assert.strictEqual(format.json_schema.name, "person")
          assert.strictEqual(format.json_schema.strict, true)
          assert.deepStrictEqual(format.json_schema.schema.required, ["name", "age"])
        })
      )
    }))

  const malformed: ReadonlyArray<{ readonly name: string; readonly reply: FakeOpenAiServer.Reply; readonly raw: string }> = [
    { name: "truncated JSON", reply: { kind: "ok", content: `{"name":"Ada","ag` }, raw: `{"name":"Ada","ag` },
    {
      name: "JSON inside prose",
      reply: { kind: "ok", content: `Sure! Here it is: {"name":"Ada","age":36}` },
      raw: `Sure! Here it is: {"name":"Ada","age":36}`
    },
    { name: "empty content", reply: { kind: "ok", content: "" }, raw: "" },
    { name: "null content", reply: { kind: "ok", content: null }, raw: "" },
    { name: "wrong schema", reply: { kind: "ok", content: `{"name":1}` }, raw: `{"name":1}` },
    {
      name: "finish_reason length",
      reply: { kind: "ok", content: `{"name":"Ada","age":36}`, finishReason: "length" },
      raw: `{"name":"Ada","age":36}`
    }
  ]

  for (const variant of malformed) {
    it.live(`${variant.name}: a typed parse failure with the raw text kept, billed, never cached`, () =>
      Effect.gen(function*() {
        const server = yield* FakeOpenAiServer.start
        server.script("chat", variant.reply, variant.reply)
        yield* withProvider(
          server,
          {},
          Effect.gen(function*() {
            const error: AiError.AiError = yield* Effect.flip(askObject("Who?"))
            assert.strictEqual(error.reason._tag, "StructuredOutputError")
            if (error.reason._tag === "StructuredOutputError") {
              assert.strictEqual(error.reason.responseText, variant.raw)
              assert.strictEqual(error.reason.usage?.promptTokens, 1000)
              assert.strictEqual(
                (error.reason.metadata[SPECTRAL_METADATA_KEY] as Record<string, unknown>)["rawResponse"],
                variant.raw
              )
            }
            const t = yield* totals
            assert.strictEqual(t.failures, 1)
            assert.closeTo(t.costUsd, expectedCost(), 1e-12)
            // Not cached: nothing stored, and the same request goes to the provider again.
            assert.lengthOf(yield* CacheWrites, 0)
            yield* Effect.flip(askObject("Who?"))
            assert.strictEqual(server.chatRequests().length, 2)
          })
        )
      }))
  }

  it.live("a repair attempt fixes unusable output; both calls are billed and recorded", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: `Sure: {"name":"Ada"` }, { kind: "ok", content: `{"name":"Ada","age":36}` })
      yield* withProvider(
        server,
        { repairAttempts: 1 },
        Effect.gen(function*() {
          assert.deepStrictEqual((yield* askObject("Who?")).value, { name: "Ada", age: 36 })
          const [, repair] = server.chatRequests()
          const messages = repair.body.messages
          assert.deepStrictEqual(messages.at(-2), { role: "assistant", content: `Sure: {"name":"Ada"` })
          assert.match(messages.at(-1).content, /could not be used/)
          const entries = yield* records
          assert.deepStrictEqual(entries.map((entry) => [entry.operation, entry.outcome]), [
            ["chat", "parse_failure"],
            ["chat-repair", "success"]
          ])
          assert.closeTo((yield* totals).costUsd, 2 * expectedCost(), 1e-12)
          // The repaired answer is cached under the original request.
          yield* askObject("Who?")
          assert.strictEqual(server.chatRequests().length, 2)
        })
      )
    }))

  it.live("text with finish_reason length is returned as such but not cached", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "ok", content: "The standard deduction is", finishReason: "length" })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const response = yield* ask("hi")
          assert.strictEqual(response.finishReason, "length")
          assert.lengthOf(yield* CacheWrites, 0)
          yield* ask("hi")
          assert.strictEqual(server.chatRequests().length, 2)
        })
      )
    }))

  it.live("empty text content is a typed failure, not a silent empty answer", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: null })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const error = yield* Effect.flip(ask("hi"))
          assert.strictEqual(error.reason._tag, "InvalidOutputError")
          assert.lengthOf(yield* CacheWrites, 0)
        })
      )
    }))
})

describe("OpenAiCompatible response cache", () => {
  it.live("an identical request is served from the cache: no HTTP request, cached, zero cost", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const first = yield* ask("hi")
          const second = yield* ask("hi")
          assert.strictEqual(server.chatRequests().length, 1)
          assert.strictEqual(second.text, first.text)
          assert.strictEqual(spectralMetadata(first)?.["cached"], false)
          assert.strictEqual(spectralMetadata(second)?.["cached"], true)
          assert.strictEqual(spectralMetadata(second)?.["costUsd"], 0)
          const t = yield* totals
          assert.strictEqual(t.calls, 1)
          assert.strictEqual(t.cacheHits, 1)
          assert.strictEqual(t.inputTokens, 1000)
          assert.closeTo(t.costUsd, expectedCost(), 1e-12)
          assert.closeTo(t.savedUsd, expectedCost(), 1e-12)
        })
      )
    }))

  it.live("a different temperature, epoch, workspace, model or prompt misses the cache", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          yield* ask("hi")
          yield* ask("hi", { temperature: 0.9 })
          yield* ask("hi", { epoch: 1 })
          yield* ask("hi", {}, "ws-b")
          yield* ask("hi", { model: "gpt-4o" })
          yield* ask("hi", { seed: 7 })
          yield* ask("hello")
          assert.strictEqual(server.chatRequests().length, 7)
          yield* ask("hi", { epoch: 1 })
          yield* ask("hi", {}, "ws-b")
          assert.strictEqual(server.chatRequests().length, 7)
          assert.strictEqual((yield* totals).cacheHits, 2)
        })
      )
    }))

  it.live("errors are not cached, nor an HTTP 200 that carries an error", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script(
        "chat",
        { kind: "status", status: 500 },
        { kind: "json", body: { error: { message: "upstream overloaded" } } },
        { kind: "ok", content: "finally" }
      )
      yield* withProvider(
        server,
        { maxRetries: 0 },
        Effect.gen(function*() {
          const serverError = yield* Effect.flip(ask("hi"))
          assert.strictEqual(serverError.reason._tag, "InternalProviderError")
          const carriedError = yield* Effect.flip(ask("hi"))
          assert.strictEqual(carriedError.reason._tag, "InternalProviderError")
          assert.match(carriedError.message, /upstream overloaded/)
          assert.lengthOf(yield* CacheWrites, 0)
          assert.strictEqual((yield* ask("hi")).text, "finally")
          assert.strictEqual((yield* ask("hi")).text, "finally")
          assert.strictEqual(server.chatRequests().length, 3)
        })
      )
    }))

  it.live("the cache key covers the base URL", () =>
    Effect.gen(function*() {
      const key = (baseUrl: string) =>
        OpenAiCompatible.requestKey({ operation: "chat", baseUrl, body: { model: "m" }, epoch: 0, workspaceId: "w" })
      assert.notStrictEqual(key("http://a/v1"), key("http://b/v1"))
      assert.strictEqual(key("http://a/v1"), key("http://a/v1"))
      assert.match(key("http://a/v1"), /^[0-9a-f]{64}$/)
    }))

  it.live("a host-provided cache (layerNoDeps) is used and survives the provider", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const shared = ResponseCache.makeMemory()
      const provider = OpenAiCompatible.layerNoDeps(baseOptions(server)).pipe(
        Layer.provide(Layer.succeed(ResponseCache.ResponseCache, shared)),
        Layer.provide(UsageLedger.UsageLedger.layerMemory)
      )
      yield* Effect.provide(ask("hi"), provider)
      // A fresh provider (a re-run) with the same cache costs nothing.
      const rerun = yield* Effect.provide(ask("hi"), provider)
      assert.strictEqual(server.chatRequests().length, 1)
      assert.strictEqual(spectralMetadata(rerun)?.["cached"], true)
    }))
})

describe("OpenAiCompatible embeddings", () => {
  it.live("embeds through /embeddings in input order, with retries and usage", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("embeddings", { kind: "status", status: 429, headers: { "retry-after-ms": "5" } })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const model = yield* EmbeddingModel.EmbeddingModel
          const response = yield* model.embedMany(["a", "bbb"]).pipe(asCall())
          assert.deepStrictEqual(response.embeddings.map((e) => e.vector), [[1, 0, 0.5], [3, 1, 0.5]])
          const embeddingRequests = server.requests.filter((r) => r.path === "/v1/embeddings")
          assert.strictEqual(embeddingRequests.length, 2)
          assert.strictEqual(embeddingRequests[1].body.model, "text-embedding-3-small")
          const [entry] = yield* records
          assert.strictEqual(entry.operation, "embedding")
          assert.strictEqual(entry.attempts, 2)
          assert.strictEqual(entry.inputTokens, 6)
        })
      )
    }))
})

describe("OpenAiCompatible embeddings cache", () => {
  it.live("identical inputs are served from the cache; a short answer fails and is not cached", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("embeddings", { kind: "json", body: { object: "list", data: [], usage: { prompt_tokens: 3 } } })
      yield* withProvider(
        server,
        {},
        Effect.gen(function*() {
          const model = yield* EmbeddingModel.EmbeddingModel
          const embeddingRequests = () => server.requests.filter((r) => r.path === "/v1/embeddings").length
          const short = yield* Effect.flip(model.embedMany(["a", "bbb"]).pipe(asCall()))
          assert.strictEqual(short.reason._tag, "InvalidOutputError")
          assert.lengthOf(yield* CacheWrites, 0)
          const first = yield* model.embedMany(["a", "bbb"]).pipe(asCall())
          const second = yield* model.embedMany(["a", "bbb"]).pipe(asCall())
          assert.deepStrictEqual(second.embeddings.map((e) => e.vector), first.embeddings.map((e) => e.vector))
          assert.strictEqual(embeddingRequests(), 2)
          yield* model.embedMany(["a", "bbb"]).pipe(asCall({}, "ws-b"))
          assert.strictEqual(embeddingRequests(), 3)
          const t = yield* totals
          assert.strictEqual(t.cacheHits, 1)
          assert.strictEqual(t.failures, 1)
        })
      )
    }))
})

describe("OpenAiCompatible configuration", () => {
  it.live("layerConfig reads the environment variables", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const env = ConfigProvider.layer(ConfigProvider.fromEnv({
        env: {
          OPENAI_API_KEY: "sk-env",
          OPENAI_BASE_URL: server.baseUrl,
          SPECTRAL_MODEL: "gpt-4o-mini",
          SPECTRAL_LLM_CONCURRENCY: "2",
          SPECTRAL_LLM_TIMEOUT_MS: "1234",
          SPECTRAL_LLM_MAX_RETRIES: "1"
        }
      }))
      yield* Effect.gen(function*() {
        yield* ask("hi")
        const request = server.chatRequests()[0]
        assert.strictEqual(request.body.model, "gpt-4o-mini")
        assert.strictEqual(request.headers.authorization, "Bearer sk-env")
        const client = yield* OpenAiCompatible.OpenAiCompatibleClient
        assert.strictEqual(client.options.concurrency, 2)
        assert.strictEqual(client.options.timeoutMs, 1234)
        assert.strictEqual(client.options.maxRetries, 1)
        assert.strictEqual(client.options.embeddingModel, "text-embedding-3-small")
        assert.isUndefined(client.options.requestsPerMinute)
      }).pipe(Effect.provide(OpenAiCompatible.layerConfig.pipe(Layer.provide(env))))
    }))

  it.live("a malformed setting fails the layer with a ConfigError", () =>
    Effect.gen(function*() {
      const env = ConfigProvider.layer(ConfigProvider.fromEnv({ env: { SPECTRAL_LLM_CONCURRENCY: "many" } }))
      const error = yield* Effect.flip(
        Effect.provide(ask("hi"), OpenAiCompatible.layerConfig.pipe(Layer.provide(env)))
      )
      assert.strictEqual(error._tag, "ConfigError")
    }))

  it.live("defaults", () =>
    Effect.sync(() => {
      const options = OpenAiCompatible.resolveOptions({})
      assert.strictEqual(options.baseUrl, "https://api.openai.com/v1")
      assert.strictEqual(options.model, "gpt-4.1-mini")
      assert.strictEqual(options.embeddingModel, "text-embedding-3-small")
      assert.strictEqual(options.concurrency, 8)
      assert.isUndefined(options.requestsPerMinute)
      assert.strictEqual(options.timeoutMs, 60_000)
      assert.strictEqual(options.maxRetries, 5)
    }))

  it.live("parses Retry-After forms", () =>
    Effect.sync(() => {
      const headers = (init: Record<string, string>) => new Headers(init)
      assert.strictEqual(RetryPolicy.retryAfterMillis(headers({ "retry-after-ms": "50" }), 0), 50)
      assert.strictEqual(RetryPolicy.retryAfterMillis(headers({ "retry-after": "2" }), 0), 2000)
      assert.strictEqual(
        RetryPolicy.retryAfterMillis(headers({ "retry-after": "Thu, 01 Jan 1970 00:00:05 GMT" }), 1000),
        4000
      )
      assert.isUndefined(RetryPolicy.retryAfterMillis(headers({}), 0))
    }))
})
