/**
 * The optional model labeller: asks a language model (`effect/ai`'s `LanguageModel`, through the
 * engine's metered `callModel`) for a short root-cause label from each cluster's representative
 * explanations, and keeps the offline label (`ClusterLabel.ts`) as the default and the fallback.
 *
 * - Budgeted twice: each call goes through the scan's budget ledger (phase `diagnose`, purpose
 *   `label`; its worst case is reserved first, so labelling can never pass the scan's budget, and a
 *   refusal keeps the offline labels of this and every later cluster), and one diagnosis makes at
 *   most `maxCalls` calls (default 8; clusters are asked largest first, so the headline is asked
 *   first). Each call may answer `maxTokens` tokens (default 32).
 * - Cached: the model's answer is stored under a key of the prompt version, provider, model and
 *   the representative explanations (`labelCacheKey`); the same representatives give the same
 *   label without a call. The seed is not in the key: at temperature 0 it chooses nothing.
 * - Deterministic under a seed: temperature 0, the scan's seed passed to the provider.
 * - Validated (`validateLabel`): an answer that is empty, longer than 90 characters or 12 words,
 *   not a phrase (one word, several sentences, markup, JSON, mostly symbols), or that shares no
 *   content word with the members' explanations is rejected, and the offline label is kept with
 *   the reason recorded (`LabelRejection`). A failed call is `model_failed`, a refused one
 *   `budget_exhausted`, one past the cap `call_cap`.
 *
 * Owns the prompt, the validation, the cache port (`LabelCache`, with a memory layer) and the loop;
 * not which clusters exist nor how the offline label is chosen.
 */
import { Context, Effect, Layer, Option, Result } from "effect"
import type { LanguageModel } from "effect/ai"
import type { LabelRejection, LabelSource } from "../contracts/Diagnosis.ts"
import type { BudgetLedger } from "../agents/BudgetLedger.ts"
import { callModel } from "../agents/ModelCaller.ts"
import { hashHex } from "../random/Deterministic.ts"
import { cleanExplanation, contentWords } from "./ExplanationText.ts"
import { severityTemplateOf } from "./SeverityTemplate.ts"

/** Bumped whenever the prompt changes, so cached answers to an older prompt are not reused. */
export const LabelPromptVersion = "label-v1"

/** A model's label longer than this (characters) is rejected; the offline labels are cut at 90 too. */
export const MaxModelLabelChars = 90
const MaxModelLabelWords = 12
/** Characters of each representative explanation put in the prompt. */
const PromptExplanationChars = 600

/** Marks the labeller's system prompt (a scripted or simulated model can recognise it). */
export const LABEL_MARKER = "You name the root cause of a group of failures"

/** The model's answers by cache key; a SQL driver can keep them across processes. */
export class LabelCache extends Context.Service<LabelCache, {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>>
  readonly put: (key: string, answer: string) => Effect.Effect<void>
}>()("@spectral/engine/clustering/LabelCache") {
  /** A process-local map; entries live as long as the layer. */
  static readonly layerMemory: Layer.Layer<LabelCache> = Layer.sync(LabelCache, () => makeMemoryLabelCache())
}

export const makeMemoryLabelCache = (): LabelCache["Service"] => {
  const entries = new Map<string, string>()
  return LabelCache.of({
    get: (key) => Effect.sync(() => Option.fromUndefinedOr(entries.get(key))),
    put: (key, answer) => Effect.sync(() => void entries.set(key, answer))
  })
}

export interface ModelLabellerSettings {
  readonly workspaceId: string
  readonly provider: string
  readonly model: string
  readonly seed: number
  /** Model calls this labelling may make (cache hits are free). Default 8. */
  readonly maxCalls?: number
  /** Tokens each answer may take. Default 32. */
  readonly maxTokens?: number
}

/** One cluster to label. */
export interface LabelRequest {
  /** The label from the members' words. */
  readonly offlineLabel: string
  /** What the model is shown (most central first). */
  readonly representatives: ReadonlyArray<string>
  /** Every member's explanation: what a label must share a content word with. */
  readonly members: ReadonlyArray<string>
}

export interface LabelOutcome {
  readonly label: string
  readonly labelSource: LabelSource
  /** The offline label, when `label` is the model's. */
  readonly offlineLabel?: string
  /** Why the offline label was kept, when the model was asked (or would have been). */
  readonly rejection?: LabelRejection
}

/** The prompt for one cluster. */
export const labelPrompt = (representatives: ReadonlyArray<string>): { readonly system: string; readonly user: string } => ({
  system: `${LABEL_MARKER} of an AI agent, from what a judge wrote about each failure. ` +
    "Answer with one short noun phrase (2 to 10 words) that a person would write as a heading, in the judge's own words for the cause. " +
    "No quantities, ids, step numbers, quotes, or explanation: the phrase only.",
  user: `The judge's explanations of failures in one group:\n${
    representatives.map((text, i) => `${i + 1}. ${clip(cleanExplanation(text))}`).join("\n")
  }\n\nRoot-cause label:`
})

const clip = (text: string) => (text.length <= PromptExplanationChars ? text : `${text.slice(0, PromptExplanationChars - 1)}…`)

/** The cache key of a cluster's label: prompt version, provider, model and the representatives. */
export const labelCacheKey = (settings: Pick<ModelLabellerSettings, "provider" | "model">, representatives: ReadonlyArray<string>): string =>
  hashHex(JSON.stringify([LabelPromptVersion, settings.provider, settings.model, representatives.map(cleanExplanation)]))

const rejection = (reason: LabelRejection["reason"], detail: string): LabelRejection => ({ reason, detail })

const stemsOf = (text: string): ReadonlyArray<string> => contentWords(severityTemplateOf(cleanExplanation(text)).template).stems

/**
 * The model's answer as a label, or why it is not one. The answer's first non-empty line is taken,
 * a "Label:" prefix, surrounding quotes or emphasis and a final full stop removed; then it must be
 * 1–90 characters, 2–12 words, one phrase (no sentence break, markup or JSON; mostly letters), and
 * share at least one content word (Porter stem) with the members' explanations.
 */
export const validateLabel = (answer: string, members: ReadonlyArray<string>): Result.Result<string, LabelRejection> => {
  const line = answer.split(/\r?\n/u).map((l) => l.trim()).find((l) => l.length > 0) ?? ""
  const label = line
    .replace(/^(?:root[- ]cause(?: label)?|label|answer)\s*[:\-–]\s*/iu, "")
    .replace(/^["'“‘`*_]+|["'”’`*_]+$/gu, "")
    .replace(/\.$/u, "")
    .replace(/\s+/gu, " ")
    .trim()
  if (label.length === 0) return Result.fail(rejection("empty", "the model answered nothing"))
  const words = label.split(" ").filter((w) => /\p{L}/u.test(w))
  if (label.length > MaxModelLabelChars || words.length > MaxModelLabelWords) {
    return Result.fail(rejection("too_long", `${label.length} characters, ${words.length} words (at most ${MaxModelLabelChars} and ${MaxModelLabelWords})`))
  }
  const letters = (label.match(/\p{L}/gu) ?? []).length
  const problem = words.length < 2
    ? "fewer than two words"
    : /[{}[\]<>|#]|^[-*+]\s|https?:|```/u.test(label)
    ? "markup, JSON or a link"
    : /[.!?;]\s+\S/u.test(label)
    ? "more than one sentence"
    : /[\u0000-\u001F\u007F-\u009F\uFFFD]/u.test(label)
    ? "control or undecodable characters"
    : letters * 2 < label.replace(/\s/gu, "").length
    ? "mostly symbols or digits"
    : undefined
  if (problem !== undefined) return Result.fail(rejection("not_a_phrase", `"${label}": ${problem}`))
  const memberStems = new Set(members.flatMap(stemsOf))
  if (!stemsOf(label).some((stem) => memberStems.has(stem))) {
    return Result.fail(rejection("off_topic", `"${label}" shares no content word with the cluster's explanations`))
  }
  return Result.succeed(label)
}

const offline = (request: LabelRequest, why: LabelRejection): LabelOutcome => ({ label: request.offlineLabel, labelSource: "offline", rejection: why })

/**
 * A label for each request, in order (ask them largest cluster first). Never fails: every error
 * keeps that cluster's offline label with the reason.
 */
export const modelLabels = (
  requests: ReadonlyArray<LabelRequest>,
  settings: ModelLabellerSettings,
  cache: LabelCache["Service"]
): Effect.Effect<ReadonlyArray<LabelOutcome>, never, LanguageModel.LanguageModel | BudgetLedger> =>
  Effect.gen(function*() {
    const maxCalls = settings.maxCalls ?? 8
    const parameters = { provider: settings.provider, model: settings.model, temperature: 0, maxTokens: settings.maxTokens ?? 32, seed: settings.seed, epoch: 0 }
    const context = { workspaceId: settings.workspaceId, phase: "diagnose" as const, purpose: "label" }
    let calls = 0
    let refused: LabelRejection | undefined
    const outcomes: Array<LabelOutcome> = []
    for (const request of requests) {
      const key = labelCacheKey(settings, request.representatives)
      let answer = Option.getOrUndefined(yield* cache.get(key))
      if (answer === undefined) {
        if (refused !== undefined) {
          outcomes.push(offline(request, refused))
          continue
        }
        if (calls >= maxCalls) {
          outcomes.push(offline(request, rejection("call_cap", `this diagnosis already made its ${maxCalls} label call(s)`)))
          continue
        }
        calls++
        const prompt = labelPrompt(request.representatives)
        const result = yield* Effect.result(callModel(prompt.system, prompt.user, parameters, context))
        if (Result.isFailure(result)) {
          const error = result.failure
          if (error._tag === "BudgetExhausted") {
            refused = rejection("budget_exhausted", error.message)
            outcomes.push(offline(request, refused))
          } else {
            outcomes.push(offline(request, rejection("model_failed", `${error.kind} failure: ${error.message}`)))
          }
          continue
        }
        answer = result.success.text
        yield* cache.put(key, answer)
      }
      const validated = validateLabel(answer, request.members)
      outcomes.push(
        Result.isSuccess(validated)
          ? { label: validated.success, labelSource: "model", offlineLabel: request.offlineLabel }
          : offline(request, validated.failure)
      )
    }
    return outcomes
  })
