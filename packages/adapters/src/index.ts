export {}
export * from "./storage/index.ts"
export * from "./llm/index.ts"
export * from "./simulated/index.ts"
