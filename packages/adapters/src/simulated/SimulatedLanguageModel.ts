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
import { appendFileSync } from "node:fs"
import { AiError, LanguageModel, Prompt, Response } from "effect/ai"
import { GenerationParameters, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { simulatedAnswer } from "./SimulatedAnswer.ts"

/** FNV-1a over the prompt: enough to tell prompts apart in a call log. */
const digestOf = (system: string, user: string): string => {
  let h = 0x811c9dc5
  const text = system + "\u0000" + user
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, "0")
}

export interface SimulatedOptions {
  /** Seed of the model's own randomness (a different seed is a different "model sample"). */
  readonly seed: number
  /** Simulated latency per call in milliseconds (0: answer at once). */
  readonly latencyMs?: number
  /**
   * A file each call appends one line to (`<pid>\t<model>\t<digest of the prompt>`), so a test
   * counts the calls several processes made, and which prompts were asked twice.
   */
  readonly callLog?: string
}

const messageText = (m: Prompt.Message): string =>
  typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string => {
  const messages = prompt.content.filter((m) => m.role === role)
  // One message (the engine's calls): its own text, the same string every time for a given prompt.
  if (messages.length === 1 && typeof messages[0]!.content === "string") return messages[0]!.content
  return messages.map(messageText).join("\n")
}

const makeUsage = (input: number, output: number) =>
  new Response.Usage({
    inputTokens: { uncached: undefined, total: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: undefined, reasoning: undefined }
  })

const usages = new Map<number, Response.Usage>()
const USAGE_CAPACITY = 4096
/** One pair's key: exact while the output count is below 2^20 and the input below 2^32 (any other pair is built, not kept). */
const OUTPUT_SPAN = 1_048_576

/**
 * The response's `Usage` for a token count pair: a Schema class whose constructor validates, so
 * one instance per pair is kept and shared (it is immutable), under a numeric key (no key string per call).
 */
const usageOf = (input: number, output: number): Response.Usage => {
  if (!Number.isInteger(input) || !Number.isInteger(output) || input < 0 || output < 0 || output >= OUTPUT_SPAN || input >= 2 ** 32) {
    return makeUsage(input, output)
  }
  const key = input * OUTPUT_SPAN + output
  const hit = usages.get(key)
  if (hit !== undefined) return hit
  const usage = makeUsage(input, output)
  if (usages.size >= USAGE_CAPACITY) usages.delete(usages.keys().next().value!)
  usages.set(key, usage)
  return usage
}

const tokens = (text: string) => Math.ceil(text.length / 4)

/** The simulated model's latency: the configured delay when there is one, else 250 ms plus 12 ms per output token. */
export const latencyMs = (outputTokens: number, configured: number | undefined): number =>
  configured !== undefined && configured > 0 ? configured : 250 + 12 * outputTokens

/** The answer's text and finish part (encoded) for one prompt under the call's parameters. */
const answerOf = (options: SimulatedOptions, prompt: Prompt.Prompt, params: GenerationParameters) => {
  const system = textOf(prompt, "system")
  const user = textOf(prompt, "user")
  if (options.callLog !== undefined) appendFileSync(options.callLog, `${process.pid}\t${params.model}\t${digestOf(system, user)}\n`)
  let text = simulatedAnswer(system, user, params, options.seed)
  let reason: "stop" | "length" = "stop"
  if (tokens(text) > params.maxTokens) {
    text = text.slice(0, params.maxTokens * 4)
    reason = "length"
  }
  return {
    text,
    reason,
    usage: { inputTokens: { total: Math.ceil((system.length + user.length) / 4) }, outputTokens: { total: tokens(text) } },
    // The latency the engine records is the simulated model's own, deterministic figure
    // (a fixed time to first token plus a time per output token), not host wall time.
    metadata: { [SPECTRAL_METADATA_KEY]: { simulated: true, latencyMs: latencyMs(tokens(text), options.latencyMs) } }
  }
}

/**
 * The simulated LanguageModel service. Its answers are built in this process as typed values, so a
 * plain text request (a `Prompt`, no toolkit) gets its response parts constructed directly rather
 * than encoded and then Schema-decoded by `LanguageModel.make` (there is no wire to decode from);
 * anything else (a raw prompt, tools, `generateObject`) goes through `LanguageModel.make`.
 */
export const make = (options: SimulatedOptions) =>
  Effect.gen(function*() {
    const base = yield* LanguageModel.make({
      generateText: (providerOptions) =>
        Effect.gen(function*() {
          const params = yield* GenerationParameters
          if (options.latencyMs !== undefined && options.latencyMs > 0) yield* Effect.sleep(options.latencyMs)
          const answer = answerOf(options, providerOptions.prompt, params)
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text: answer.text },
            { type: "finish", reason: answer.reason, usage: answer.usage, metadata: answer.metadata }
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
    const respond = (prompt: Prompt.Prompt, params: GenerationParameters) => {
      const answer = answerOf(options, prompt, params)
      return new LanguageModel.GenerateTextResponse<{}>([
        Response.makePart("text", { text: answer.text }),
        Response.makePart("finish", {
          reason: answer.reason,
          usage: usageOf(answer.usage.inputTokens.total, answer.usage.outputTokens.total),
          response: undefined,
          metadata: answer.metadata
        })
      ])
    }
    // One call is a couple of steps (no generator): it runs once per model call of a scan.
    const direct = (prompt: Prompt.Prompt) =>
      Effect.flatMap(Effect.service(GenerationParameters), (params) =>
        options.latencyMs !== undefined && options.latencyMs > 0
          ? Effect.andThen(Effect.sleep(options.latencyMs), Effect.sync(() => respond(prompt, params)))
          : Effect.sync(() => respond(prompt, params)))
    const generateText = ((request: LanguageModel.GenerateTextOptions<{}>) =>
      Prompt.isPrompt(request.prompt) && request.toolkit === undefined
        ? direct(request.prompt)
        : base.generateText(request as never)) as unknown as typeof base.generateText
    return LanguageModel.LanguageModel.of({ ...base, generateText })
  })

/** The simulated model as the LanguageModel service. */
export const layer = (options: SimulatedOptions): Layer.Layer<LanguageModel.LanguageModel> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
