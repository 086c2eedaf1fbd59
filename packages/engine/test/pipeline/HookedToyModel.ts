/**
 * The toy team's model (`ToyTeam.toyAnswer`, the reader broken) with a hook run before every call:
 * it sees the call's index and phase and may wait, hang or fail the call as a provider would.
 */
import { Effect, Layer, Ref, Stream } from "effect"
import { type AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import { CallContext, GenerationParameters, type ModelPhase } from "../../src/ports/ModelCall.ts"
import { toyAnswer } from "../optimize/ToyTeam.ts"

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

export const hookedToyModel = (before: (call: { readonly index: number; readonly phase: ModelPhase }) => Effect.Effect<void, AiError.AiError>) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      return yield* LanguageModel.make({
        generateText: (options) =>
          Effect.gen(function*() {
            yield* before({ index: yield* Ref.getAndUpdate(calls, (n) => n + 1), phase: (yield* CallContext).phase })
            const params = yield* GenerationParameters
            const text = toyAnswer(textOf(options.prompt, "system"), textOf(options.prompt, "user"), params.temperature, "reader")
            const parts: Array<Response.PartEncoded> = [
              { type: "text", text },
              { type: "finish", reason: "stop", usage: { inputTokens: { total: 10 }, outputTokens: { total: 10 } } }
            ]
            return parts
          }),
        streamText: () => Stream.die("not used")
      })
    })
  )
