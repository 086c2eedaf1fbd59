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
 * mechanics — never the only evidence of the engine's quality.
 */
import { Effect, Layer, Schema, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import { GenerationParameters, JUDGE_MARKER, META_PROMPT_MARKER, SPECTRAL_METADATA_KEY } from "@spectral/engine"
import { calculateOvertime, extractWorker, judgeOvertime } from "./FlsaSkills.ts"
import { rewriteInstruction } from "./MetaPromptSkill.ts"
import { advise, intake, judge, type PromptFeatures, type Random } from "./TaxSkills.ts"

export interface SimulatedOptions {
  /** Seed of the model's own randomness (a different seed is a different "model sample"). */
  readonly seed: number
  /** Simulated latency per call in milliseconds (0: answer at once). */
  readonly latencyMs?: number
}

const hash = (text: string, seed: number): number => {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const generator = (seed: number): Random => {
  let state = seed >>> 0
  return {
    next: () => {
      state = (state + 0x6d2b79f5) >>> 0
      let t = state
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }
}

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

const jsonAfter = (text: string, marker: RegExp): Record<string, unknown> | undefined => {
  const m = marker.exec(text)
  if (m === null) return undefined
  const start = text.indexOf("{", m.index)
  const end = text.indexOf("\n", start)
  const value = parseJson(text.slice(start, end < 0 ? undefined : end))
  return value._tag === "Some" && typeof value.value === "object" && value.value !== null ? value.value as Record<string, unknown> : undefined
}

const stimulusOf = (user: string): string => {
  const at = user.lastIndexOf("Input:\n")
  if (at < 0) return user
  const rest = user.slice(at + "Input:\n".length)
  const answerAt = rest.indexOf("\n\nAnswer:\n")
  return answerAt < 0 ? rest : rest.slice(0, answerAt)
}

/** The answer text the simulated model gives to one prompt. */
export const simulatedAnswer = (system: string, user: string, params: { temperature: number; epoch: number; seed?: number | undefined }, modelSeed: number): string => {
  // Common random numbers: the model's dice for an agent's answer depend on the stimulus, the
  // agent's output fields, the repeat and the seeds — not on the prompt's wording — so a prompt
  // change acts through what the prompt says (guidance, examples, reasoning, temperature), and two
  // configurations are compared on the same draws, like a real model run with a fixed seed.
  const fieldsKey = system.match(/exactly these fields: ([^\n]+)\./)?.[1] ?? ""
  const key = system.startsWith(JUDGE_MARKER) || system.startsWith(META_PROMPT_MARKER)
    ? `${system}\u0000${user}\u0000${params.temperature}`
    : `${stimulusOf(user)}\u0000${fieldsKey}`
  const rng = generator(hash(`${key}\u0000${params.epoch}\u0000${params.seed ?? 0}`, modelSeed))
  const lowerSystem = system.toLowerCase()
  if (system.startsWith(JUDGE_MARKER)) {
    const dims = [...system.matchAll(/^- ([\w.-]+): /gm)].map((m) => m[1]!)
    const answerAt = user.indexOf("\n\nAnswer:\n")
    const answer = answerAt < 0 ? {} : parseJson(user.slice(answerAt + "\n\nAnswer:\n".length)).pipe((o) => (o._tag === "Some" ? o.value as Record<string, unknown> : {}))
    const stimulus = stimulusOf(user)
    return JSON.stringify(/\bovertime\b/i.test(stimulus) ? judgeOvertime(stimulus, answer, dims, rng) : judge(stimulus, answer, dims, rng))
  }
  if (system.startsWith(META_PROMPT_MARKER)) return rewriteInstruction(user, params.temperature, rng)
  const fieldsMatch = system.match(/exactly these fields: ([^\n]+)\./)
  const fields = fieldsMatch === null ? [] : fieldsMatch[1]!.split(",").map((f) => f.trim())
  const features: PromptFeatures = {
    system: lowerSystem,
    examples: user.split("\n\n").filter((block) => block.startsWith("Example ")).join("\n").toLowerCase(),
    chainOfThought: /reason step by step/.test(lowerSystem) ? "full" : /think briefly/.test(lowerSystem) ? "brief" : "none",
    temperature: params.temperature
  }
  // Too hot: sometimes no JSON at all.
  if (rng.next() < Math.max(0, params.temperature - 1) * 0.5) return "Honestly it depends on a few things; I would guess head of household."
  let body: Record<string, unknown>
  if (fields.includes("filingStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = advise(upstream, stimulusOf(user), features, rng)
  } else if (fields.includes("maritalStatus")) {
    body = intake(stimulusOf(user), features, rng).facts
  } else if (fields.includes("exemptionStatus")) {
    const upstream = jsonAfter(user, /\(from [^)]+\):/)
    body = calculateOvertime(upstream, stimulusOf(user), features, rng)
  } else if (fields.includes("primaryDuty")) {
    body = extractWorker(stimulusOf(user), features, rng)
  } else {
    body = Object.fromEntries(fields.map((f) => [f, ""]))
  }
  const json = JSON.stringify(Object.fromEntries(Object.entries(body).filter(([k]) => fields.length === 0 || fields.includes(k))))
  const overtime = fields.includes("exemptionStatus") || fields.includes("primaryDuty")
  const reasoning = features.chainOfThought === "full" && overtime
    ? "Reasoning: I checked coverage, the pay basis and salary level, the primary duty against each exemption, then the hours over 40.\n"
    : features.chainOfThought === "full"
    ? "Reasoning: I checked marital status on December 31, who lived in the home and for how long, who paid the costs, and each status test in turn.\n"
    : features.chainOfThought === "brief"
    ? "Reasoning: checked the deciding facts.\n"
    : ""
  return reasoning + json
}

const tokens = (text: string) => Math.ceil(text.length / 4)

/** The simulated model's latency: the configured delay when there is one, else 250 ms plus 12 ms per output token. */
export const simulatedLatencyMs = (outputTokens: number, configured: number | undefined): number =>
  configured !== undefined && configured > 0 ? configured : 250 + 12 * outputTokens

export const SimulatedLanguageModel = {
  layer: (options: SimulatedOptions): Layer.Layer<LanguageModel.LanguageModel> =>
    Layer.effect(
      LanguageModel.LanguageModel,
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
                metadata: { [SPECTRAL_METADATA_KEY]: { simulated: true, latencyMs: simulatedLatencyMs(tokens(text), options.latencyMs) } }
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
    )
}
