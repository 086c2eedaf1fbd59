/**
 * One metered model call: reserve the call's worst case on the budget (prompt tokens estimated on
 * the high side, plus `maxTokens`, and their price), call `LanguageModel.generateText` with the
 * generation parameters and caller identity in context, then settle the reservation at the real
 * usage (cache hits cost nothing; a failed call counts as a call; a model with no known price is
 * counted as unpriced and, under a finite dollar budget, charged at the table's highest price).
 * Every phase that talks to a model goes through here, so nothing is spent off the books and the
 * budget is never passed. Each call is one `chat` span with the OpenTelemetry GenAI attributes
 * (operation, provider, request model and parameters, agent, usage, finish reasons); it carries
 * the call's content only where `SpanContent` allows it for the workspace.
 */
import { Clock, Effect, Exit, Predicate, Result, Schema, type Semaphore } from "effect"
import { type AiError, LanguageModel, Prompt, type Response } from "effect/ai"
import { CallContext, conservativePrice, SpanContent, costAt, GenerationParameters, type ModelPrice, ModelCallPermits, PriceTable, RunnerCallPermits, priceOf, SPECTRAL_METADATA_KEY } from "../ports/ModelCall.ts"
import { BudgetExhausted, BudgetLedger, hasFiniteUsdBudget } from "./BudgetLedger.ts"

export interface ModelAnswer {
  readonly text: string
  readonly inputTokens: number
  readonly outputTokens: number
  readonly costUsd: number
  readonly latencyMs: number
  readonly cached: boolean
  readonly finishReason: string
}

export class ModelCallFailed extends Schema.TaggedError<ModelCallFailed>()("ModelCallFailed", {
  kind: Schema.Literals(["infra", "parse"]),
  message: Schema.String
}) {}

const isParseFailure = (error: AiError.AiError) => {
  const tag = (error.reason as { readonly _tag?: string })._tag ?? ""
  return tag.includes("Output") || tag.includes("Parse") || tag.includes("Structured")
}

const callModelNow = Effect.fnUntraced(function*(
  system: string,
  user: string,
  parameters: GenerationParameters,
  context: CallContext
): Effect.fn.Return<ModelAnswer, ModelCallFailed | BudgetExhausted, LanguageModel.LanguageModel | BudgetLedger> {
  const ledger = yield* BudgetLedger
  const pricing = yield* pricingOf(parameters.model)
  const reservation = yield* ledger.reserve(context.phase, worstCaseAt(pricing.charged, system, user, parameters.maxTokens))
  const started = yield* Clock.currentTimeMillis
  // Built from constructors: `Prompt.make` on raw messages Schema-decodes them on every call.
  const prompt = Prompt.fromMessages([
    Prompt.makeMessage("system", { content: system }),
    Prompt.makeMessage("user", { content: [Prompt.makePart("text", { text: user })] })
  ])
  const response = yield* LanguageModel.generateText({ prompt }).pipe(
    Effect.provideService(GenerationParameters, parameters),
    Effect.provideService(CallContext, context),
    Effect.mapError((error) =>
      new ModelCallFailed({ kind: isParseFailure(error) ? "parse" : "infra", message: error.message })
    ),
    Effect.onExit((exit) =>
      Exit.isSuccess(exit) ? Effect.void : ledger.settle(reservation, context.purpose, { calls: 1, tokens: 0, usd: 0, cachedCalls: 0 })
    )
  )
  // The finish part read once (the response's `usage` and `finishReason` getters each search the
  // parts again): its usage, reason and the driver's metadata.
  const finish = response.content.find((part): part is Response.FinishPart => part.type === "finish")
  const inputTokens = finish?.usage.inputTokens.total ?? 0
  const outputTokens = finish?.usage.outputTokens.total ?? 0
  const finishReason = finish === undefined ? "unknown" : finish.reason
  const text = response.text
  const meta = (finish?.metadata as Record<string, unknown> | undefined)?.[SPECTRAL_METADATA_KEY] as
    | { readonly cached?: boolean; readonly costUsd?: number; readonly latencyMs?: number }
    | undefined
  const cached = meta?.cached === true
  // Host time only where the driver reports no latency of its own.
  const latencyMs = meta?.latencyMs ?? (yield* Clock.currentTimeMillis) - started
  yield* Effect.annotateCurrentSpan({
    "gen_ai.usage.input_tokens": inputTokens,
    "gen_ai.usage.output_tokens": outputTokens,
    "gen_ai.response.finish_reasons": [finishReason],
    "spectral.model_call.cached": cached
  })
  if ((yield* SpanContent).attach(context.workspaceId)) {
    yield* Effect.annotateCurrentSpan({
      "gen_ai.system_instructions": JSON.stringify([{ type: "text", content: system }]),
      "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: user }] }]),
      "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: text }], finish_reason: finishReason }])
    })
  }
  // The listed price; else what the driver reported, when it knows a price (a cost above 0); else
  // the call is unpriced: counted as such, and charged at the conservative price under a finite
  // dollar budget (its reservation held that much).
  const reported = meta?.costUsd
  const unpriced = !cached && pricing.listed === undefined && !(reported !== undefined && reported > 0)
  const costUsd = cached
    ? 0
    : pricing.listed !== undefined
    ? reported ?? costAt(pricing.listed, inputTokens, outputTokens)
    : unpriced
    ? pricing.charged === undefined ? 0 : costAt(pricing.charged, inputTokens, outputTokens)
    : reported!
  yield* ledger.settle(reservation, context.purpose, {
    calls: cached ? 0 : 1,
    tokens: cached ? 0 : inputTokens + outputTokens,
    usd: costUsd,
    cachedCalls: cached ? 1 : 0,
    ...(unpriced ? { unpricedCalls: 1 } : {})
  })
  return { text, inputTokens, outputTokens, costUsd, latencyMs, cached, finishReason }
})

interface Pricing {
  readonly listed: ModelPrice | undefined
  readonly charged: ModelPrice | undefined
}

/**
 * How a model's calls are priced: its listed price, or (unlisted) the conservative price they are
 * charged at when the scan's dollar budget is finite (undefined without one: charged $0, counted
 * as unpriced).
 */
const pricingOf = (model: string): Effect.Effect<Pricing, never, BudgetLedger> =>
  Effect.flatMap(Effect.service(PriceTable), (prices): Effect.Effect<Pricing, never, BudgetLedger> => {
    const listed = priceOf(prices, model)
    if (listed !== undefined) return Effect.succeed({ listed, charged: listed })
    return Effect.map(
      Effect.flatMap(Effect.service(BudgetLedger), (ledger) => ledger.snapshot),
      ({ budget }) => ({ listed, charged: hasFiniteUsdBudget(budget) ? conservativePrice(prices) : undefined })
    )
  })

/**
 * What one call may cost at most, as its reservation holds it: its prompt's tokens estimated on the
 * high side plus `maxTokens`, and their price (an unlisted model's at the conservative price under
 * a finite dollar budget). Callers that must keep spend back (a strategy's `complete`) ask before
 * calling.
 */
export const worstCaseOf = (
  system: string,
  user: string,
  parameters: Pick<GenerationParameters, "model" | "maxTokens">
): Effect.Effect<{ readonly tokens: number; readonly usd: number }, never, BudgetLedger> =>
  Effect.map(pricingOf(parameters.model), ({ charged }) => worstCaseAt(charged, system, user, parameters.maxTokens))

const worstCaseAt = (charged: ModelPrice | undefined, system: string, user: string, maxTokens: number) => {
  const estimatedInput = estimateTokens(system) + estimateTokens(user)
  return { tokens: estimatedInput + maxTokens, usd: charged === undefined ? 0 : costAt(charged, estimatedInput, maxTokens) }
}

const holding = <A, E, R>(permits: Semaphore.Semaphore | undefined, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  permits === undefined ? effect : permits.withPermits(1)(effect)

/**
 * One metered model call, holding one of the scan's call permits (`ModelCallPermits`) while it is
 * in flight, so the scan's concurrency bounds model calls however many stimuli are in progress, and
 * one of the process's (`RunnerCallPermits`) where a runner fixes its own concurrency.
 */
export const callModel = (
  system: string,
  user: string,
  parameters: GenerationParameters,
  context: CallContext
): Effect.Effect<ModelAnswer, ModelCallFailed | BudgetExhausted, LanguageModel.LanguageModel | BudgetLedger> =>
  Effect.flatMap(Effect.service(ModelCallPermits), (permits) =>
    Effect.flatMap(Effect.service(RunnerCallPermits), (runnerPermits) =>
      Effect.withSpan(
        // The scan's permit first: a call waiting for the runner holds none of the runner's.
        holding(permits, holding(runnerPermits, callModelNow(system, user, parameters, context))),
        "chat",
        { kind: "client", captureStackTrace: false, attributes: callAttributes(parameters, context) }
      )))

/** The call's span attributes known before it is made (GenAI semantic conventions; no content). */
const callAttributes = (parameters: GenerationParameters, context: CallContext): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": parameters.provider,
    "gen_ai.request.model": parameters.model,
    "gen_ai.request.temperature": parameters.temperature,
    "gen_ai.request.max_tokens": parameters.maxTokens,
    "spectral.workspace.id": context.workspaceId,
    "spectral.phase": context.phase,
    "spectral.model_call.purpose": context.purpose
  }
  if (parameters.topP !== undefined) attributes["gen_ai.request.top_p"] = parameters.topP
  if (context.purpose.startsWith("agent:")) attributes["gen_ai.agent.id"] = context.purpose.slice(6)
  if (context.agentName !== undefined) attributes["gen_ai.agent.name"] = context.agentName
  return attributes
}

/**
 * A high-side token estimate for budget reservations: one token per three characters (tokenizers
 * of current models average about four).
 */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 3)

/** JSON text to a value, `undefined` when it is not JSON (a plain parse: the value is checked by the caller). */
const parseJson = (text: string): unknown => Result.getOrUndefined(Result.try(() => JSON.parse(text) as unknown))

const BACKSLASH = 92
const QUOTE = 34
const OPEN = 123
const CLOSE = 125

/**
 * Extract the first JSON object from a model's text (tolerates prose and code fences around it).
 * An answer that is one JSON object from its first `{` to its end (most are) is parsed at once: a
 * valid object's braces match where the scan below would end, so it is the same object.
 */
export const extractJsonObject = (text: string): Record<string, unknown> | undefined => {
  const start = text.indexOf("{")
  if (start < 0) return undefined
  if (text.trimEnd().endsWith("}")) {
    const whole = parseJson(start === 0 ? text : text.slice(start))
    if (Predicate.isObject(whole) && !Array.isArray(whole)) return whole as Record<string, unknown>
  }
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
      continue
    }
    if (c === QUOTE) inString = true
    else if (c === OPEN) depth++
    else if (c === CLOSE) {
      depth--
      if (depth === 0) {
        const value = parseJson(text.slice(start, i + 1))
        return Predicate.isObject(value) && !Array.isArray(value) ? value as Record<string, unknown> : undefined
      }
    }
  }
  return undefined
}
