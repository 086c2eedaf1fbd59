export {}
export * from "./llm/index.ts"
