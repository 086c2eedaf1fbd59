/**
 * The model response cache stored in the SQL store (embedded PGlite, through the public
 * `Storage.layerPgliteWithEvents`): two identical calls through a fresh provider instance each
 * (as two runs of an unchanged scan) — the second makes no HTTP request, is reported as a cache hit
 * at zero cost. The cache is per workspace (another workspace misses), and survives reopening the
 * store. A failed answer (HTTP 500 until the retries run out) is never stored.
 */
import { assert, describe, it } from "@effect/vitest"
import { CallContext, GenerationParameters, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { Effect, Layer, Redacted } from "effect"
import { LanguageModel } from "effect/ai"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import "../storage/PgServer.ts"
import { OpenAiCompatible, UsageLedger } from "../../src/llm/index.ts"
import { Storage } from "../../src/storage/index.ts"
import * as FakeOpenAiServer from "./FakeOpenAiServer.ts"

const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-pglite-cache-"))
  cpSync(inject("spectralPgliteTemplate"), dir, { recursive: true })
  return dir
}

const ask = (text: string, workspaceId: string) =>
  LanguageModel.generateText({ prompt: [{ role: "user", content: text }] }).pipe(
    Effect.provideService(GenerationParameters, { provider: "openai", model: "default", temperature: 0, maxTokens: 64, epoch: 0 }),
    Effect.provideService(CallContext, { workspaceId, phase: "evaluate", purpose: "judge" })
  )

const cachedFlag = (response: LanguageModel.GenerateTextResponse<{}>) =>
  (response.content.find((part) => part.type === "finish")?.metadata[SPECTRAL_METADATA_KEY] as Record<string, unknown> | undefined)?.["cached"]

/** A fresh provider instance (its own in-memory ledger) on the store's SQL ResponseCache. */
const provider = (server: FakeOpenAiServer.FakeOpenAiServer, dataDir: string) =>
  OpenAiCompatible.layerNoDeps({
    apiKey: Redacted.make("sk-test"),
    baseUrl: server.baseUrl,
    model: "gpt-4.1-mini",
    timeoutMs: 2_000,
    maxRetries: 1,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2
  }).pipe(
    Layer.provideMerge(UsageLedger.UsageLedger.layerMemory),
    Layer.provide(Storage.layerPgliteWithEvents({ dataDir, events: { poll: false } }))
  )

describe("OpenAiCompatible with the SQL response cache", () => {
  it.live("a re-run through a fresh provider costs nothing: no HTTP request, a cache hit, per workspace, after reopening", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const dataDir = freshDir()
      const first = yield* ask("what is the standard deduction?", "ws-cache-a").pipe(Effect.provide(provider(server, dataDir)))
      assert.strictEqual(server.chatRequests().length, 1)
      assert.strictEqual(cachedFlag(first), false)

      const second = yield* Effect.gen(function*() {
        const response = yield* ask("what is the standard deduction?", "ws-cache-a")
        const totals = yield* (yield* UsageLedger.UsageLedger).totals()
        return { response, totals }
      }).pipe(Effect.provide(provider(server, dataDir)))
      assert.strictEqual(server.chatRequests().length, 1, "the second run made no HTTP request")
      assert.strictEqual(cachedFlag(second.response), true)
      assert.strictEqual(second.response.text, first.text)
      assert.strictEqual(second.totals.cacheHits, 1)
      assert.strictEqual(second.totals.costUsd, 0)

      // Another workspace never sees workspace A's answers.
      yield* ask("what is the standard deduction?", "ws-cache-b").pipe(Effect.provide(provider(server, dataDir)))
      assert.strictEqual(server.chatRequests().length, 2)
    }).pipe(Effect.scoped), 60_000)

  it.live("a failed answer is not stored: the next run asks again", () =>
    Effect.gen(function*() {
      const server = yield* FakeOpenAiServer.start
      const dataDir = freshDir()
      server.script("chat", { kind: "status", status: 500 }, { kind: "status", status: 500 })
      const failed = yield* Effect.flip(ask("hello", "ws-cache-c").pipe(Effect.provide(provider(server, dataDir))))
      assert.strictEqual(failed._tag, "AiError")
      const before = server.chatRequests().length
      const answered = yield* ask("hello", "ws-cache-c").pipe(Effect.provide(provider(server, dataDir)))
      assert.strictEqual(server.chatRequests().length, before + 1)
      assert.strictEqual(cachedFlag(answered), false)
    }).pipe(Effect.scoped), 60_000)
})
