/**
 * Traces: what the engine learns from production traces — agents and their dependencies,
 * hyperparameter baselines, prompt-template drafts, curated samples and sample sets, retention,
 * and systemic signals across agents. Ingest (OTLP) is an adapter; this module is what it feeds.
 */
export * from "./GenAiView.ts"
export * from "./AgentInference.ts"
export * from "./TemplateInference.ts"
export * from "./TemplateProposals.ts"
export * from "./Curation.ts"
export * from "./Retention.ts"
export * from "./SystemicSignals.ts"
