/**
 * What travels with every language-model call besides the prompt: the agent's generation
 * parameters and who is calling (workspace, phase, purpose). `effect/ai`'s `LanguageModel` is the
 * port; drivers (the OpenAI-compatible provider, the simulated model) read these references from
 * the calling fiber, so a host's own provider can honour them too.
 */
import { Context, Schema, type Semaphore } from "effect"

/** The scan phase a model call is booked under (`diagnose`: credit-assignment re-runs). */
export const ModelPhase = Schema.Literals(["observe", "diagnose", "evaluate", "optimize", "verdict", "other"])
export type ModelPhase = typeof ModelPhase.Type

export interface GenerationParameters {
  readonly provider: string
  readonly model: string
  readonly temperature: number
  readonly maxTokens: number
  readonly topP?: number | undefined
  readonly seed?: number | undefined
  /** A pinned snapshot of `model` (the agent's `modelVersion`); a provider sends it or refuses the call naming it. */
  readonly modelVersion?: string | undefined
  /** The agent's retrieval settings; a provider that cannot retrieve refuses the call naming them. */
  readonly retrieval?: { readonly topK: number; readonly similarityThreshold: number } | undefined
  /** Repeat index (epoch) of the run: part of the cache key, so repeats are real repeats. */
  readonly epoch: number
}

export const GenerationParameters = Context.Reference<GenerationParameters>(
  "@spectral/engine/ports/GenerationParameters",
  { defaultValue: () => ({ provider: "default", model: "default", temperature: 0, maxTokens: 1024, epoch: 0 }) }
)

export interface CallContext {
  readonly workspaceId: string
  readonly phase: ModelPhase
  /** For example `agent:intake`, `judge`, `rewrite`. */
  readonly purpose: string
  /** The team agent making the call (its id is in `purpose`), for the call's span. */
  readonly agentName?: string | undefined
}

export const CallContext = Context.Reference<CallContext>("@spectral/engine/ports/CallContext", {
  defaultValue: () => ({ workspaceId: "", phase: "other", purpose: "unspecified" })
})

/**
 * Whether a model call's span may carry its content (system instructions, prompt, answer) for a
 * workspace. No by default: the engine's spans are payload-free. A telemetry layer that knows the
 * workspace's content class says yes where content may be exported (and its exporter still
 * enforces the class on every span).
 */
export interface SpanContent {
  readonly attach: (workspaceId: string) => boolean
}

export const SpanContent = Context.Reference<SpanContent>("@spectral/engine/ports/SpanContent", {
  defaultValue: () => ({ attach: () => false })
})

/** Dollars per million tokens, by model name; hosts override it with their own layer. */
export interface ModelPrice {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
}

export const PriceTable = Context.Reference<ReadonlyMap<string, ModelPrice>>("@spectral/engine/ports/PriceTable", {
  defaultValue: () =>
    new Map<string, ModelPrice>([
      ["gpt-4.1", { inputPerMillion: 2, outputPerMillion: 8 }],
      ["gpt-4.1-mini", { inputPerMillion: 0.4, outputPerMillion: 1.6 }],
      ["gpt-4.1-nano", { inputPerMillion: 0.1, outputPerMillion: 0.4 }],
      ["gpt-4o", { inputPerMillion: 2.5, outputPerMillion: 10 }],
      ["gpt-4o-mini", { inputPerMillion: 0.15, outputPerMillion: 0.6 }],
      ["simulated-small", { inputPerMillion: 0.15, outputPerMillion: 0.6 }],
      ["simulated-large", { inputPerMillion: 2.5, outputPerMillion: 10 }]
    ])
})

/** The model's listed price; undefined when the table does not list it (an unknown price is not $0). */
export const priceOf = (prices: ReadonlyMap<string, ModelPrice>, model: string): ModelPrice | undefined => prices.get(model)

/**
 * The price a call to an unlisted model is charged at when the scan has a finite dollar budget: the
 * highest input and the highest output price in the table (the default table's when it is empty).
 * Conservative on purpose: the budget is then an upper bound on what unpriced calls may really
 * cost, and the ledger counts them (`unpricedCalls`) so the over-estimate is visible.
 */
export const conservativePrice = (prices: ReadonlyMap<string, ModelPrice>): ModelPrice => {
  const listed = [...(prices.size > 0 ? prices : PriceTable.defaultValue()).values()]
  return {
    inputPerMillion: Math.max(0, ...listed.map((p) => p.inputPerMillion)),
    outputPerMillion: Math.max(0, ...listed.map((p) => p.outputPerMillion))
  }
}

/** Dollars of a call at a given price. */
export const costAt = (price: ModelPrice, inputTokens: number, outputTokens: number): number =>
  (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000

/**
 * Dollars of a call at the model's listed price; 0 for an unlisted model (for reports of spend
 * made elsewhere, such as ingested traces). Budgeting never uses this for an unlisted model: the
 * model caller charges it at `conservativePrice` and counts it as unpriced (`priceOf` tells).
 */
export const costOf = (prices: ReadonlyMap<string, ModelPrice>, model: string, inputTokens: number, outputTokens: number): number => {
  const price = priceOf(prices, model)
  return price === undefined ? 0 : costAt(price, inputTokens, outputTokens)
}

/** Provider metadata key under which drivers report a cache hit (`{ cached: true }`). */
export const SPECTRAL_METADATA_KEY = "spectral"

/**
 * The scan's model-call permits: at most this many calls in flight across every phase and
 * candidate of one scan. Absent outside a scan (no limit from the engine; providers keep theirs).
 */
export const ModelCallPermits = Context.Reference<Semaphore.Semaphore | undefined>("@spectral/engine/ports/ModelCallPermits", {
  defaultValue: () => undefined
})

/**
 * The process's model-call permits: at most this many calls in flight across every scan the
 * process carries (a runner's fixed concurrency, `SPECTRAL_RUNNER_CONCURRENCY`). A call holds one
 * of these and one of its scan's (`ModelCallPermits`). Absent by default (no process-wide limit).
 */
export const RunnerCallPermits = Context.Reference<Semaphore.Semaphore | undefined>("@spectral/engine/ports/RunnerCallPermits", {
  defaultValue: () => undefined
})
