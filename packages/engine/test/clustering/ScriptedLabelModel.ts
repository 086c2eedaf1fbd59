/**
 * A scripted language model for the labeller's tests: `answer(user)` gives the reply text, or
 * undefined to fail the call as a provider outage would. It counts its calls and records the
 * generation parameters each call was made with.
 */
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import { GenerationParameters, type GenerationParameters as Parameters } from "../../src/ports/ModelCall.ts"

export interface ScriptedModel {
  readonly layer: Layer.Layer<LanguageModel.LanguageModel>
  readonly calls: () => number
  readonly parameters: () => ReadonlyArray<Parameters>
  readonly prompts: () => ReadonlyArray<{ readonly system: string; readonly user: string }>
}

export const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

export const scriptedModel = (answer: (user: string, system: string, parameters: Parameters) => string | undefined): ScriptedModel => {
  const seen: Array<Parameters> = []
  const prompts: Array<{ system: string; user: string }> = []
  const layer = Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function*() {
          const parameters = yield* GenerationParameters
          seen.push(parameters)
          const system = textOf(options.prompt, "system")
          const user = textOf(options.prompt, "user")
          prompts.push({ system, user })
          const text = answer(user, system, parameters)
          if (text === undefined) {
            return yield* AiError.make({ module: "ScriptedLabelModel", method: "generateText", reason: new AiError.InvalidRequestError({ description: "the scripted provider failed" } as never) })
          }
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text },
            { type: "finish", reason: "stop", usage: { inputTokens: { total: Math.ceil(user.length / 4) }, outputTokens: { total: Math.ceil(text.length / 4) } } }
          ]
          return parts
        }),
      streamText: () =>
        Stream.fail(AiError.make({ module: "ScriptedLabelModel", method: "streamText", reason: new AiError.InvalidRequestError({ description: "no streaming" } as never) }))
    })
  )
  return { layer, calls: () => seen.length, parameters: () => seen, prompts: () => prompts }
}
