export * from "./SimulatedLanguageModel.ts"
export * from "./TaxReading.ts"
export * from "./TaxSkills.ts"
