/**
 * A prompt-template proposal: the structure inferred from an agent's observed conversation starts
 * (seeds/future-considerations.txt, trace-based template inference) — the draft with a confidence
 * and evidence per part, and the PromptTemplate it makes — stored for a person to accept or reject.
 * Nothing applies a proposal without that decision.
 */
import { Schema } from "effect"
import { Instant, NonNegativeInt, PositiveInt, UnitInterval } from "./Measure.ts"
import { ChainOfThought, ContextSelection, FewShotExample, PromptTemplate, UpstreamInjection } from "./Workspace.ts"
import { WorkspaceId } from "./WorkspaceId.ts"

const part = <S extends Schema.Top>(value: S) => Schema.Struct({ value, confidence: UnitInterval, evidence: Schema.String })

/** What `inferPromptTemplate` returns, as stored. */
export const TemplateDraft = Schema.Struct({
  agentName: Schema.String,
  observedPrompts: NonNegativeInt,
  basePrompt: part(Schema.String),
  contextSelection: part(ContextSelection),
  fewShotExamples: part(Schema.Array(FewShotExample)),
  chainOfThought: part(ChainOfThought),
  upstreamInjection: Schema.Struct({ ...part(UpstreamInjection).fields, from: Schema.Array(Schema.String) }),
  outputFields: part(Schema.Array(Schema.String))
})
export type TemplateDraft = typeof TemplateDraft.Type

/** `superseded`: a newer draft of the same agent replaced it before anyone decided. */
export const TemplateProposalStatus = Schema.Literals(["proposed", "accepted", "rejected", "superseded"])
export type TemplateProposalStatus = typeof TemplateProposalStatus.Type

export const TemplateProposal = Schema.Struct({
  id: Schema.NonEmptyString,
  workspaceId: WorkspaceId,
  /** The agent as the traces name it (the declared agent's name when one matches). */
  agentName: Schema.NonEmptyString,
  /** The declared agent it matches, when the workspace declares one. */
  declaredAgentId: Schema.optionalKey(Schema.String),
  /** Per agent: 1 for its first proposal, then one more for each new draft. */
  version: PositiveInt,
  status: TemplateProposalStatus,
  draft: TemplateDraft,
  /** The draft as a template; low-confidence parts take the declared template's value. */
  template: PromptTemplate,
  /** Hash of `template`: an unchanged draft is not proposed again. */
  fingerprint: Schema.String,
  /** Ingested traces (OTLP trace ids) of the agent when the draft was inferred. */
  tracesSeen: NonNegativeInt,
  createdAt: Instant,
  decision: Schema.optionalKey(Schema.Struct({ actor: Schema.NonEmptyString, at: Instant, reason: Schema.String }))
})
export type TemplateProposal = typeof TemplateProposal.Type
