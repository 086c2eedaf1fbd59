/**
 * The simulated model builds a plain text request's response parts itself (no encode-then-decode);
 * that response must be the one `LanguageModel.make` would have decoded: the same text, finish
 * reason, usage and metadata as a request that takes the decoding path (a string prompt), for
 * answers that stop and answers cut at `maxTokens`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { LanguageModel, Prompt } from "effect/ai"
import { GenerationParameters, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { SimulatedLanguageModel } from "../../src/index.ts"

const system = "You read a taxpayer's situation.\n\nAnswer with one JSON object with exactly these fields: maritalStatus, paidOverHalfHomeCost."
const user = "Input:\nI am married and my wife moved out in March. I paid most of the rent. My son lives with me all year."

const both = (maxTokens: number) =>
  Effect.gen(function*() {
    const direct = yield* LanguageModel.generateText({
      prompt: Prompt.fromMessages([
        Prompt.makeMessage("system", { content: system }),
        Prompt.makeMessage("user", { content: [Prompt.makePart("text", { text: user })] })
      ])
    })
    // A raw prompt goes through LanguageModel.make: encoded parts, Schema-decoded.
    const decoded = yield* LanguageModel.generateText({ prompt: [{ role: "system", content: system }, { role: "user", content: user }] })
    return { direct, decoded }
  }).pipe(
    Effect.provideService(GenerationParameters, { provider: "simulated", model: "simulated-small", temperature: 0.2, maxTokens, epoch: 0 }),
    Effect.provide(SimulatedLanguageModel.layer({ seed: 7 }))
  )

describe("simulated model: the response it builds directly", () => {
  it.effect("is the response the decoding path gives (text, finish reason, usage, metadata)", () =>
    Effect.gen(function*() {
      for (const maxTokens of [400, 5]) {
        const { direct, decoded } = yield* both(maxTokens)
        assert.strictEqual(direct.text, decoded.text)
        assert.isAbove(direct.text.length, 0)
        assert.strictEqual(direct.finishReason, decoded.finishReason)
        assert.strictEqual(direct.finishReason, maxTokens === 5 ? "length" : "stop")
        assert.deepStrictEqual(direct.usage.inputTokens.total, decoded.usage.inputTokens.total)
        assert.deepStrictEqual(direct.usage.outputTokens.total, decoded.usage.outputTokens.total)
        const meta = (r: typeof direct) => (r.content.find((p) => p.type === "finish")?.metadata as Record<string, unknown>)[SPECTRAL_METADATA_KEY]
        assert.deepStrictEqual(meta(direct), meta(decoded))
        assert.deepStrictEqual(direct.content.map((p) => p.type), decoded.content.map((p) => p.type))
      }
    }))
})
