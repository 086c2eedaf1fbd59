/**
 * `@spectral/engine/contracts`: the schemas of every primitive, the five events and the
 * EvalSetProvider contract. This is all `@spectral/worlds` may import from the engine.
 */
export * from "./Measure.ts"
export * from "./WorkspaceId.ts"
export * from "./EvaluationFramework.ts"
export * from "./Workspace.ts"
export * from "./EvalSet.ts"
export * from "./Scan.ts"
export * from "./ScanRecord.ts"
export * from "./Diagnosis.ts"
export * from "./Composite.ts"
export * from "./Verdict.ts"
export * from "./ChangeSet.ts"
export * from "./Observation.ts"
export * from "./Card.ts"
export * from "./Events.ts"
export * from "./EvalSetProvider.ts"
export * from "./TemplateProposal.ts"
export * from "./PhaseOutputs.ts"
export * from "./ScanSummary.ts"
