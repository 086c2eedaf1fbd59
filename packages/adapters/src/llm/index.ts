/** The LLM adapters: the OpenAI-compatible provider, its response cache port and usage ledger, secret redaction. */
export * as ChatCompletions from "./ChatCompletions.ts"
export * as OpenAiCompatible from "./OpenAiCompatible.ts"
export * as RateControl from "./RateControl.ts"
export * as Redaction from "./Redaction.ts"
export * as ResponseCache from "./ResponseCache.ts"
export * as RetryPolicy from "./RetryPolicy.ts"
export * as UsageLedger from "./UsageLedger.ts"
