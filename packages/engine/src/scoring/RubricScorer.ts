/**
 * The rubric authority: LLM as judge against the workspace's EvaluationFramework. It sees the
 * stimulus, the team's answer and the rubric — never the ground truth — and returns a score per
 * rubric dimension with a natural-language explanation (what Diagnose clusters). A judge answer
 * that does not parse is a parse failure of the judge, reported as such, never a silent score.
 */
import { Context, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import type { EvaluationFramework } from "../contracts/index.ts"
import type { BudgetExhausted } from "../agents/BudgetLedger.ts"
import { BudgetLedger } from "../agents/BudgetLedger.ts"
import { callModel, extractJsonObject, ModelCallFailed } from "../agents/ModelCaller.ts"
import type { ModelPhase } from "../ports/ModelCall.ts"

export interface RubricScore {
  readonly _tag: "Scored"
  readonly score: number
  readonly dimensions: Readonly<Record<string, number>>
  readonly explanation: string
  readonly costUsd: number
}

export interface RubricUnscored {
  readonly _tag: "Unscored"
  readonly reason: string
}

export interface JudgeSettings {
  readonly model: string
  readonly provider: string
  readonly temperature: number
  readonly maxTokens: number
}

export const JUDGE_MARKER = "You are an evaluation judge."

const judgeSystems = new WeakMap<EvaluationFramework["rubrics"], string>()
const rubricDimensions = new WeakMap<EvaluationFramework["rubrics"], ReadonlyArray<EvaluationFramework["rubrics"][number]["dimensions"][number]>>()

/** Every rubric's dimensions in order: once per rubrics value (a framework is an immutable value). */
const dimensionsOf = (rubrics: EvaluationFramework["rubrics"]) => {
  let dimensions = rubricDimensions.get(rubrics)
  if (dimensions === undefined) {
    dimensions = rubrics.flatMap((rubric) => rubric.dimensions)
    rubricDimensions.set(rubrics, dimensions)
  }
  return dimensions
}

/** The judge's system message for a framework's rubrics: built once per rubrics value. */
const judgeSystemOf = (rubrics: EvaluationFramework["rubrics"]): string => {
  const cached = judgeSystems.get(rubrics)
  if (cached !== undefined) return cached
  const dimensions = rubrics.flatMap((rubric) => rubric.dimensions)
  const system = [
    JUDGE_MARKER,
    "Score the answer on each rubric dimension from 0 (fails) to 1 (fully meets), and explain the main problem in one or two sentences, naming the deciding facts.",
    "Rubric dimensions:",
    ...dimensions.map((d) => `- ${d.id}: ${d.description}`),
    `Answer with one JSON object: {"scores": {${dimensions.map((d) => `"${d.id}": number`).join(", ")}}, "explanation": string}.`
  ].join("\n")
  judgeSystems.set(rubrics, system)
  return system
}

export const judgePrompt = (framework: EvaluationFramework, stimulus: string, answer: Readonly<Record<string, unknown>>) => {
  const system = judgeSystemOf(framework.rubrics)
  const user = `Input:\n${stimulus}\n\nAnswer:\n${JSON.stringify(answer)}`
  return { system, user }
}

export class RubricScorer extends Context.Service<RubricScorer, {
  readonly score: (
    workspaceId: string,
    framework: EvaluationFramework,
    stimulus: string,
    answer: Readonly<Record<string, unknown>>,
    epoch: number,
    phase?: ModelPhase
  ) => Effect.Effect<RubricScore | RubricUnscored, BudgetExhausted>
}>()("@spectral/engine/scoring/RubricScorer") {
  static readonly layerNoDeps = (settings: JudgeSettings) =>
    Layer.effect(
      RubricScorer,
      Effect.gen(function*() {
        // Provided one by one: providing the whole layer context would copy every service into each call's.
        const model = yield* LanguageModel.LanguageModel
        const ledger = yield* BudgetLedger
        const score = Effect.fnUntraced(function*(
          workspaceId: string,
          framework: EvaluationFramework,
          stimulus: string,
          answer: Readonly<Record<string, unknown>>,
          epoch: number,
          phase: ModelPhase = "evaluate"
        ) {
          const prompt = judgePrompt(framework, stimulus, answer)
          const result = yield* callModel(prompt.system, prompt.user, { ...settings, epoch }, {
            workspaceId,
            phase,
            purpose: "judge"
          }).pipe(Effect.catchTag("ModelCallFailed", Effect.succeed))
          if (result instanceof ModelCallFailed) return { _tag: "Unscored", reason: `judge call failed: ${result.message}` } satisfies RubricUnscored
          const parsed = extractJsonObject(result.text)
          const scores = parsed?.["scores"] as Record<string, unknown> | undefined
          const explanation = parsed?.["explanation"]
          const dims = dimensionsOf(framework.rubrics)
          if (scores === undefined || typeof explanation !== "string") {
            return { _tag: "Unscored", reason: "judge answer is not the requested JSON" } satisfies RubricUnscored
          }
          const dimensions: Record<string, number> = {}
          let weighted = 0
          let total = 0
          for (const d of dims) {
            const v = scores[d.id]
            if (typeof v !== "number" || !Number.isFinite(v)) {
              return { _tag: "Unscored", reason: `judge gave no score for dimension ${d.id}` } satisfies RubricUnscored
            }
            const clamped = Math.min(1, Math.max(0, v))
            dimensions[d.id] = clamped
            weighted += clamped * d.weight
            total += d.weight
          }
          return { _tag: "Scored", score: weighted / total, dimensions, explanation, costUsd: result.costUsd } satisfies RubricScore
        }, Effect.provideService(LanguageModel.LanguageModel, model), Effect.provideService(BudgetLedger, ledger))
        return RubricScorer.of({ score })
      })
    )
}
