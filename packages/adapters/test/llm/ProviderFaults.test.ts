/**
 * What the OpenAI-compatible provider keeps and returns when the provider misbehaves, through the
 * official `openai` SDK against servers on loopback: a provider that echoes the API key (in a 401's
 * error text, or inside an answer) never gets the key into an error, an answer or the response
 * cache; a prose answer to a prompt that asks for JSON is returned (the caller records its parse
 * failure) but never cached, and such an entry already in the cache is not replayed; a dead port and
 * a server that answers 500 fail as provider errors naming what happened.
 */
import { assert, describe, it } from "@effect/vitest"
import { CallContext, GenerationParameters } from "@spectral/engine"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { createServer } from "node:net"
import { OpenAiCompatible, Redaction, ResponseCache, UsageLedger } from "../../src/llm/index.ts"
import * as FakeOpenAiServer from "./FakeOpenAiServer.ts"

const API_KEY = "sk-proj-Secret0123456789abcdef"

/** A provider on `baseUrl` whose cache is `cache` (so a test can look inside it). */
const provider = (baseUrl: string, cache: ResponseCache.ResponseCache["Service"]) =>
  OpenAiCompatible.layerNoDeps({
    apiKey: Redacted.make(API_KEY),
    baseUrl,
    model: "gpt-4.1-mini",
    timeoutMs: 2_000,
    maxRetries: 1,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
    repairAttempts: 0
  }).pipe(Layer.provide(Layer.mergeAll(Layer.succeed(ResponseCache.ResponseCache, cache), UsageLedger.UsageLedger.layerMemory)))

/** An in-memory cache that exposes what it holds. */
const inspectableCache = () => {
  const entries = new Map<string, string>()
  const cache = ResponseCache.ResponseCache.of({
    get: (key) => Effect.sync(() => Option.fromUndefinedOr(entries.get(key))),
    put: (key, json) => Effect.sync(() => void entries.set(key, json))
  })
  return { cache, entries }
}

const agentPrompt = (text: string) =>
  LanguageModel.generateText({
    prompt: [
      { role: "system", content: "Answer with one JSON object with exactly these fields: status." },
      { role: "user", content: text }
    ]
  }).pipe(
    Effect.provideService(GenerationParameters, { provider: "openai", model: "default", temperature: 0, maxTokens: 64, epoch: 0 }),
    Effect.provideService(CallContext, { workspaceId: "ws-faults", phase: "observe", purpose: "agent:intake" })
  )

const failureOf = <A>(exit: Exit.Exit<A, AiError.AiError>): AiError.AiError => {
  assert.isTrue(Exit.isFailure(exit), "the call failed")
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  return (reason as { readonly error: AiError.AiError }).error
}

/** A port nothing listens on (taken, then released). */
const deadPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)

describe("OpenAiCompatible against a misbehaving provider", () => {
  it.live("a 401 that echoes the API key: the error names the failure, the key is redacted everywhere in it", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", {
        kind: "status",
        status: 401,
        body: { error: { message: `Incorrect API key provided: ${API_KEY}. Also tried Bearer ${API_KEY}.`, type: "invalid_request_error", code: "invalid_api_key" } }
      })
      const { cache, entries } = inspectableCache()
      const error = failureOf(yield* Effect.exit(agentPrompt("single, no dependents").pipe(Effect.provide(provider(server.baseUrl, cache)))))
      const everything = `${error.message} ${JSON.stringify(error)}`
      assert.include(error.message, "Incorrect API key provided")
      assert.include(error.message, Redaction.REDACTED)
      assert.notInclude(everything, API_KEY)
      assert.notInclude(everything, "Secret0123456789")
      assert.strictEqual(entries.size, 0, "an error is never cached")
    }))

  it.live("an answer that quotes the key: the text returned and the cached answer hold [redacted], not the key", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: `{"status": "single", "note": "your key ${API_KEY} works"}` })
      const { cache, entries } = inspectableCache()
      const response = yield* agentPrompt("single").pipe(Effect.provide(provider(server.baseUrl, cache)))
      assert.notInclude(response.text, API_KEY)
      assert.include(response.text, `your key ${Redaction.REDACTED} works`)
      assert.strictEqual(entries.size, 1, "a JSON answer to a JSON prompt is cached")
      for (const stored of entries.values()) assert.notInclude(stored, API_KEY)
    }))

  it.live("prose where JSON was asked for is returned but not cached: the next identical call asks the provider again", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      server.script("chat", { kind: "ok", content: "Sorry, I cannot help with that." }, { kind: "ok", content: `{"status": "single"}` })
      const { cache, entries } = inspectableCache()
      const layer = provider(server.baseUrl, cache)
      const first = yield* agentPrompt("single").pipe(Effect.provide(layer))
      assert.strictEqual(first.text, "Sorry, I cannot help with that.", "the caller sees the answer (and records its parse failure)")
      assert.strictEqual(entries.size, 0, "prose is not cached for a JSON prompt")
      const second = yield* agentPrompt("single").pipe(Effect.provide(layer))
      assert.strictEqual(second.text, `{"status": "single"}`)
      assert.strictEqual(server.chatRequests().length, 2, "the provider was asked again")
      assert.strictEqual(entries.size, 1)
    }))

  it.live("an unparseable answer already in the cache (stored by an older build) is not replayed", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const { cache, entries } = inspectableCache()
      const layer = provider(server.baseUrl, cache)
      // Fill the cache with a good answer, then overwrite that entry with prose, as older builds stored it.
      server.script("chat", { kind: "ok", content: `{"status": "single"}` }, { kind: "ok", content: `{"status": "head_of_household"}` })
      yield* agentPrompt("which status?").pipe(Effect.provide(layer))
      const [key, json] = [...entries][0]!
      const poisoned = JSON.parse(json)
      poisoned.choices[0].message.content = `I could not answer: ${API_KEY} is invalid`
      entries.set(key, JSON.stringify(poisoned))
      const again = yield* agentPrompt("which status?").pipe(Effect.provide(layer))
      assert.strictEqual(again.text, `{"status": "head_of_household"}`, "the provider's fresh answer, not the stored prose")
      assert.strictEqual(server.chatRequests().length, 2)
    }))

  it.live("a dead port and a server answering 500 fail as provider errors saying so, after bounded attempts", () =>
    Effect.gen(function*() {
      const port = yield* deadPort
      const { cache, entries } = inspectableCache()
      const dead = failureOf(yield* Effect.exit(agentPrompt("single").pipe(Effect.provide(provider(`http://127.0.0.1:${port}/v1`, cache)))))
      assert.strictEqual(dead.reason._tag, "NetworkError")
      assert.include(dead.message, "Connection error")

      const server = yield* FakeOpenAiServer.start
      server.defaultChat = () => ({ kind: "status", status: 500, body: { error: { message: `upstream exploded for key ${API_KEY}`, type: "server_error" } } })
      const failing = failureOf(yield* Effect.exit(agentPrompt("single").pipe(Effect.provide(provider(server.baseUrl, cache)))))
      assert.include(failing.message, "500")
      assert.include(failing.message, "upstream exploded")
      assert.notInclude(JSON.stringify(failing), API_KEY)
      assert.strictEqual(server.chatRequests().length, 2, "one attempt and one retry (maxRetries 1)")
      assert.strictEqual(entries.size, 0)
    }))
})

describe("Redaction", () => {
  it("replaces the configured key, key shapes, ingest keys and bearer tokens; leaves other text alone", () => {
    const redactor = Redaction.make([Redacted.make("azure-0123456789abcdef0123"), undefined, "none"])
    assert.strictEqual(
      redactor.text("key azure-0123456789abcdef0123 / sk-abc***wxyz / spk_AbCdEfGh12345678_-x / Bearer eyJhbGciOi.J9"),
      "key [redacted] / [redacted] / [redacted] / Bearer [redacted]"
    )
    assert.strictEqual(redactor.text("none of this is secret: sk-learn, task-5"), "none of this is secret: sk-learn, task-5")
    assert.deepStrictEqual(redactor.json({ a: ["sk-0123456789ab", 3], b: { c: "ok" } }), { a: ["[redacted]", 3], b: { c: "ok" } })
  })
})
