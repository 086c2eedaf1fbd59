/** The LLM adapters: the OpenAI-compatible provider, its response cache port and usage ledger. */
export * as OpenAiCompatible from "./OpenAiCompatible.ts"
export * as RateControl from "./RateControl.ts"
export * as ResponseCache from "./ResponseCache.ts"
export * as UsageLedger from "./UsageLedger.ts"
