/**
 * A toy two-agent team with a toy world and a toy deterministic language model, so optimize,
 * credit assignment and the budget can be tested inside the engine (no worlds, no adapters):
 * a `reader` extracts `{ quantity, price }` from "Order N: Q units at P dollars each.", then a
 * `calculator` (depending on it) answers `{ total }`. Which agent is broken is a setting: a broken
 * reader adds one to an odd quantity unless it samples at temperature ≤ 0.3; a broken calculator
 * adds an even price once too often unless its prompt says "multiply". The judge knows the arithmetic.
 */
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import type { EvalSet, EvaluationFramework, Workspace } from "../../src/contracts/index.ts"
import { EvalSetProvider } from "../../src/contracts/index.ts"
import { GenerationParameters, SPECTRAL_METADATA_KEY } from "../../src/ports/ModelCall.ts"
import { JUDGE_MARKER } from "../../src/scoring/RubricScorer.ts"

export interface ToyOptions {
  readonly broken: "reader" | "calculator" | "none"
  readonly size?: number
  readonly epochs?: number
  readonly budget?: { readonly maxCallsPerScan: number; readonly maxTokensPerScan: number; readonly maxUsdPerScan: number }
}

const order = (i: number) => ({ quantity: 2 + (i % 7), price: 3 + ((i * 5) % 11) })

export const toyEvalSet = (size: number): EvalSet => ({
  id: `toy-evalset-${size}`,
  samples: Array.from({ length: size }, (_, i) => {
    const { quantity, price } = order(i)
    return {
      id: `order-${i}`,
      input: `Order ${i}: ${quantity} units at ${price} dollars each. What is the total?`,
      expected: { total: quantity * price },
      intermediate: { facts: { quantity, price } },
      dimensions: [{ id: "total", field: "total", comparison: "exact" as const, weight: 1 }],
      stimulusWeight: 1,
      segment: `size-${quantity}`,
      stratification: {},
      holdoutLayer: i % 4 === 3 ? "random_holdout" as const : "working" as const,
      provenance: "rule_grounded" as const
    }
  }),
  holdout: { heldOutSegments: [], randomShare: 0.25 },
  hyperparameterBounds: { temperature: { min: 0, max: 1.5 }, maxTokens: { min: 16, max: 2000 } },
  attribution: {
    worldModelId: "toy-orders",
    worldModelVersion: "1.0.0",
    authority: { worldModelId: "toy-orders", worldModelVersion: "1.0.0", ruleSetHash: "toy" },
    generatedAt: "2026-01-01T00:00:00.000Z",
    seed: 1
  }
})

export const toyProvider = (size: number) =>
  Layer.succeed(EvalSetProvider, EvalSetProvider.of({
    availability: () => Effect.succeed({ available: true, reason: "toy" }),
    evalSet: () => Effect.succeed(toyEvalSet(size)),
    conformity: () => Effect.succeed([])
  }))

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

const parse = (text: string): Record<string, unknown> => {
  const start = text.indexOf("{")
  const end = text.indexOf("}", start)
  try {
    return JSON.parse(text.slice(start, end + 1)) as Record<string, unknown>
  } catch {
    return {}
  }
}

export const toyAnswer = (system: string, user: string, temperature: number, broken: ToyOptions["broken"]): string => {
  const inputAt = user.lastIndexOf("Input:\n")
  const stimulus = inputAt < 0 ? user : user.slice(inputAt + 7).split("\n\nAnswer:\n")[0]!
  const m = stimulus.match(/(\d+) units at (\d+) dollars/)
  const quantity = Number(m?.[1] ?? 0)
  const price = Number(m?.[2] ?? 0)
  if (system.startsWith(JUDGE_MARKER)) {
    const answer = parse(user.slice(user.indexOf("\n\nAnswer:\n")))
    const ok = Number(answer["total"]) === quantity * price
    return JSON.stringify({
      scores: { correctness: ok ? 1 : 0 },
      explanation: ok ? "The total is right." : `The total ${String(answer["total"])} is wrong: ${quantity} units at ${price} dollars each multiply to ${quantity * price}.`
    })
  }
  if (system.includes("prompt engineer")) return "Compute the total as quantity multiplied by price."
  if (system.includes("fields: quantity, price")) {
    const misread = broken === "reader" && temperature > 0.3 && quantity % 2 === 1
    return JSON.stringify({ quantity: misread ? quantity + 1 : quantity, price })
  }
  if (system.includes("fields: total")) {
    const factsAt = user.indexOf("(from reader):\n")
    const facts = factsAt < 0 ? { quantity, price } : parse(user.slice(factsAt))
    const q = Number(facts["quantity"])
    const p = Number(facts["price"])
    const wrong = broken === "calculator" && !/multipl/i.test(system) && p % 2 === 0
    return JSON.stringify({ total: wrong ? q * p + p : q * p })
  }
  return "{}"
}

/** A system prompt holding this makes the toy model fail (a provider error). */
export const TOY_FAILURE_MARKER = "TOY: FAIL THIS CALL"

/** A system prompt holding this makes the toy model fail on every third order (orders 0, 3, 6, …). */
export const TOY_FLAKY_MARKER = "TOY: FLAKY PROVIDER"

/**
 * The toy model. `judge` replaces the judge's answer (the user prompt in, the reply text out);
 * returning undefined makes the judge's call fail, as a provider outage of the judge would.
 */
export const toyModel = (broken: ToyOptions["broken"], overrides: { readonly judge?: (user: string) => string | undefined } = {}): Layer.Layer<LanguageModel.LanguageModel> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function*() {
          const params = yield* GenerationParameters
          const system = textOf(options.prompt, "system")
          const user = textOf(options.prompt, "user")
          const orderNumber = Number(user.match(/Order (\d+):/)?.[1] ?? -1)
          if (system.includes(TOY_FAILURE_MARKER) || (system.includes(TOY_FLAKY_MARKER) && orderNumber % 3 === 0)) {
            return yield* AiError.make({ module: "ToyModel", method: "generateText", reason: new AiError.InvalidRequestError({ description: "the toy provider failed" } as never) })
          }
          const judged = overrides.judge !== undefined && system.startsWith(JUDGE_MARKER) ? overrides.judge(user) : null
          if (judged === undefined) {
            return yield* AiError.make({ module: "ToyModel", method: "generateText", reason: new AiError.InvalidRequestError({ description: "the toy judge is down" } as never) })
          }
          const text = judged ?? toyAnswer(system, user, params.temperature, broken)
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text },
            {
              type: "finish",
              reason: "stop",
              usage: { inputTokens: { total: Math.ceil((system.length + user.length) / 4) }, outputTokens: { total: Math.ceil(text.length / 4) } },
              metadata: { [SPECTRAL_METADATA_KEY]: { simulated: true } }
            }
          ]
          return parts
        }),
      streamText: () =>
        Stream.fail(AiError.make({ module: "ToyModel", method: "streamText", reason: new AiError.InvalidRequestError({ description: "no streaming" } as never) }))
    })
  )

const template = (basePrompt: string, outputFields: ReadonlyArray<string>, upstream: boolean) => ({
  basePrompt,
  contextSelection: { mode: "full" as const, maxChars: 2000, truncation: "tail" as const },
  chainOfThought: "none" as const,
  fewShotExamples: [],
  upstreamInjection: upstream ? { mode: "json" as const, label: "Order facts" } : { mode: "none" as const, label: "" },
  guidance: [],
  outputFields
})

export const toyFramework = (options: ToyOptions): EvaluationFramework => ({
  id: "toy-framework",
  version: 1,
  rubrics: [{ id: "orders", name: "Orders", dimensions: [{ id: "correctness", name: "Correctness", description: "The total is right.", weight: 1 }] }],
  objective: { worldModelWeight: 0.6, vectors: [{ name: "quality", kind: "quality", direction: "maximize", weight: 1 }, { name: "cost", kind: "cost", direction: "minimize", weight: 0.2 }] },
  hardConstraints: [],
  economics: { ...(options.budget ?? { maxCallsPerScan: 100_000, maxTokensPerScan: 100_000_000, maxUsdPerScan: 100 }), costPerFailureUsd: 10 },
  verdict: {
    alpha: 0.05,
    minDelta: 0.02,
    maxHoldoutGap: 0.2,
    maxAgentRegression: 0.03,
    maxDimensionRegression: 0.05,
    sanityMaxDelta: 0.95,
    maxInfraFailureRate: 0.05,
    maxParseFailureRate: 0.1,
    maxJudgeFailureRate: 0.05,
    minJudgeAgreement: 0.7,
    maxConsistencyRegression: 0.05,
    minSamples: 10,
    minChangedShare: 0.02,
    maxChangedShare: 1,
    maxConvergenceDelta: 0.15
  },
  passThreshold: 0.8,
  epochs: options.epochs ?? 1,
  evalSetSize: options.size ?? 40,
  optimization: { maxCandidates: 8, maxRounds: 2 }
})

export const toyWorkspace = (options: ToyOptions): Workspace => ({
  id: `toy-${options.broken}`,
  name: "Toy order desk",
  worldModelId: "toy-orders",
  agents: [
    {
      id: "calculator",
      name: "Calculator",
      role: "Computes the order total from the facts.",
      dependsOn: ["reader"],
      template: template("Compute the order total in dollars.", ["total"], true),
      hyperparameters: { provider: "toy", model: "toy", temperature: 0.2, maxTokens: 200 }
    },
    {
      id: "reader",
      name: "Reader",
      role: "Reads quantity and price from the order.",
      dependsOn: [],
      groundTruthKey: "facts",
      template: template("Read the quantity and the unit price.", ["quantity", "price"], false),
      hyperparameters: { provider: "toy", model: "toy", temperature: 0.9, maxTokens: 200 }
    }
  ],
  framework: toyFramework(options),
  autonomy: { mode: "manual", killSwitch: false, minBlendedDelta: 0.02, minWorldModelScore: 0.5, maxRulesAffected: 12, requireValidatedChangeSet: true }
})
