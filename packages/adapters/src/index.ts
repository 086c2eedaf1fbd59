export {}
export * from "./storage/index.ts"
export * from "./llm/index.ts"
export * from "./simulated/index.ts"
export * from "./otlp/index.ts"
export * from "./events/index.ts"
export * from "./telemetry/index.ts"
export * from "./cluster/index.ts"
