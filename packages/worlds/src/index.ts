/**
 * `@spectral/worlds`: world models (format, publication, rule engine), the reference tax world,
 * eval-set generation, the `EvalSetProvider` implementation, the evolution loop and the
 * WorldModelCard. Imports nothing from the engine but `@spectral/engine/contracts`.
 */
export * from "./RuleSet.ts"
export * from "./WorldModel.ts"
export * from "./RuleEngine.ts"
export * from "./tax/TaxWorldDefinition.ts"
export * from "./tax/TaxWorld.ts"
export * from "./SeededRandom.ts"
export * from "./EvalSetGeneration.ts"
export * from "./tax/TaxScenarioGenerator.ts"
export * from "./Conformity.ts"
export * from "./WorldRegistry.ts"
export * as WorldsEvalSetProvider from "./WorldsEvalSetProvider.ts"
export * from "./WorldDecide.ts"
export * from "./WorldEvolution.ts"
export * from "./evolution/EvolutionCandidateRepo.ts"
export * from "./evolution/EvolutionEventLog.ts"
export * from "./evolution/PatternTotals.ts"
export * from "./evolution/RuleScope.ts"
export * from "./WorldModelCard.ts"
export * from "./flsa/FlsaWorld.ts"
export * from "./flsa/FlsaScenarioGenerator.ts"
