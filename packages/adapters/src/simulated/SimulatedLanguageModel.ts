/**
 * A SIMULATED language model (not a real one): an `effect/ai` LanguageModel whose answers are
 * deterministic for (seed, prompt, parameters, epoch) — with common random numbers across prompt
 * wordings for one stimulus — and depend on the prompt and hyperparameters
 * the way a real model's do — guidance and examples fix blind spots, chain of thought helps, high
 * temperature misreads and fabricates, too few max tokens truncates. It knows the tax-prep skills
 * of the example team (intake, filing-status advice, judging), the overtime skills of the bench's
 * second team (worker-fact extraction, FLSA overtime, judging) and a prompt engineer's skill
 * (rewriting an instruction from the judge's explanations); any other prompt gets a generic
 * answer with the requested fields. For offline runs, tests and the engine's own benchmarks of
 * mechanics — never the only evidence of the engine's quality. The answers themselves are
 * SimulatedAnswer.ts; this module is the LanguageModel around them (`make`, `layer`).
 */
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import { GenerationParameters, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { simulatedAnswer } from "./SimulatedAnswer.ts"

export interface SimulatedOptions {
  /** Seed of the model's own randomness (a different seed is a different "model sample"). */
  readonly seed: number
  /** Simulated latency per call in milliseconds (0: answer at once). */
  readonly latencyMs?: number
}

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

const tokens = (text: string) => Math.ceil(text.length / 4)

/** The simulated model's latency: the configured delay when there is one, else 250 ms plus 12 ms per output token. */
export const latencyMs = (outputTokens: number, configured: number | undefined): number =>
  configured !== undefined && configured > 0 ? configured : 250 + 12 * outputTokens

/** The simulated LanguageModel service. */
export const make = (options: SimulatedOptions) =>
  LanguageModel.make({
    generateText: (providerOptions) =>
      Effect.gen(function*() {
        const params = yield* GenerationParameters
        const system = textOf(providerOptions.prompt, "system")
        const user = textOf(providerOptions.prompt, "user")
        if (options.latencyMs !== undefined && options.latencyMs > 0) yield* Effect.sleep(options.latencyMs)
        let text = simulatedAnswer(system, user, params, options.seed)
        let reason: "stop" | "length" = "stop"
        if (tokens(text) > params.maxTokens) {
          text = text.slice(0, params.maxTokens * 4)
          reason = "length"
        }
        const parts: Array<Response.PartEncoded> = [
          { type: "text", text },
          {
            type: "finish",
            reason,
            usage: { inputTokens: { total: tokens(system + user) }, outputTokens: { total: tokens(text) } },
            // The latency the engine records is the simulated model's own, deterministic figure
            // (a fixed time to first token plus a time per output token), not host wall time.
            metadata: { [SPECTRAL_METADATA_KEY]: { simulated: true, latencyMs: latencyMs(tokens(text), options.latencyMs) } }
          }
        ]
        return parts
      }),
    streamText: () =>
      Stream.fail(AiError.make({
        module: "SimulatedLanguageModel",
        method: "streamText",
        reason: new AiError.InvalidRequestError({ description: "the simulated model does not stream" } as never)
      }))
  })

/** The simulated model as the LanguageModel service. */
export const layer = (options: SimulatedOptions): Layer.Layer<LanguageModel.LanguageModel> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
