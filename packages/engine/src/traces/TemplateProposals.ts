/**
 * Template inference on ingested traces, kept as proposals: `proposeTemplates` infers a draft
 * PromptTemplate per agent from its stored conversation starts (agents matched to the declared
 * ones by name) and stores it as a `proposed` TemplateProposal — once per distinct draft, a newer
 * draft superseding an undecided older one. `decideTemplateProposal` records a person's accept or
 * reject, only on a proposal still open (a typed error names the state otherwise). Nothing here
 * changes a workspace or its agents: an accepted proposal carries the template for the host to
 * declare (or to propose as a change set); no template is ever applied without that decision.
 */
import { Effect, Schema } from "effect"
import { nowIso } from "../clock/Time.ts"
import type { TemplateProposal, TemplateProposalStatus, WorkspaceAgent } from "../contracts/index.ts"
import { TemplateProposalRepo, TraceRepo, WorkspaceRepo } from "../ports/Repositories.ts"
import { hashHex } from "../random/Deterministic.ts"
import { inferAgents } from "./AgentInference.ts"
import { inferPromptTemplate, observedPromptsOf, templateFromDraft } from "./TemplateInference.ts"

export interface ProposeOptions {
  /** Conversation starts an agent needs before a draft is proposed (default 5). */
  readonly minPrompts?: number
  /** Draft parts below this confidence take the declared template's value (default 0.5). */
  readonly minConfidence?: number
  readonly actor?: string
}

/** A decision on a proposal that is no longer open (already decided or superseded). */
export class TemplateProposalClosed extends Schema.TaggedError<TemplateProposalClosed>()("TemplateProposalClosed", {
  proposalId: Schema.String,
  status: Schema.String
}) {
  override get message(): string {
    return `template proposal ${this.proposalId} is ${this.status}: only a proposed one can be decided`
  }
}

const declaredAgents = Effect.fnUntraced(function*(workspaceId: string) {
  const repo = yield* WorkspaceRepo
  return yield* repo.get(workspaceId).pipe(
    Effect.map((workspace): ReadonlyArray<WorkspaceAgent> => workspace.agents),
    // Traces may arrive for a workspace nobody declared yet (an ingest key alone): no declared agents.
    Effect.catchIf((error) => error.reason._tag === "NotFound", () => Effect.succeed([]))
  )
})

/** Infer a draft per agent from the workspace's stored traces and store the new ones as proposals. */
export const proposeTemplates = Effect.fn("TemplateProposals.proposeTemplates")(function*(workspaceId: string, options: ProposeOptions = {}) {
  const repo = yield* TemplateProposalRepo
  const spans = yield* (yield* TraceRepo).list(workspaceId)
  if (spans.length === 0) return []
  const declared = yield* declaredAgents(workspaceId)
  const inference = inferAgents(spans, { declared })
  const existing = yield* repo.list(workspaceId)
  const now = yield* nowIso
  const created: Array<TemplateProposal> = []
  for (const agent of inference.agents) {
    const prompts = observedPromptsOf(spans, inference, agent.name)
    if (prompts.length < (options.minPrompts ?? 5)) continue
    const draft = inferPromptTemplate(agent.name, prompts)
    const match = declared.find((a) => a.id === agent.declaredId)
    const inferred = templateFromDraft(draft, {
      minConfidence: options.minConfidence ?? 0.5,
      ...(match === undefined ? {} : { declared: match.template })
    })
    const template = { ...inferred, outputFields: inferred.outputFields.filter((field) => field !== "") }
    const fingerprint = hashHex(JSON.stringify(template))
    const mine = existing.filter((p) => p.agentName === agent.name)
    if (mine.some((p) => p.fingerprint === fingerprint && p.status !== "superseded")) continue
    for (const open of mine.filter((p) => p.status === "proposed")) {
      // Someone deciding it meanwhile wins; a decided proposal is not superseded.
      yield* repo.update({ ...open, status: "superseded" }, "proposed").pipe(
        Effect.catchIf((error) => error.reason._tag === "Conflict", () => Effect.void)
      )
    }
    const version = mine.reduce((max, p) => Math.max(max, p.version), 0) + 1
    const proposal: TemplateProposal = {
      id: `template:${agent.name}:${version}`,
      workspaceId,
      agentName: agent.name,
      ...(match === undefined ? {} : { declaredAgentId: match.id }),
      version,
      status: "proposed",
      draft,
      template,
      fingerprint,
      tracesSeen: agent.traceCount,
      createdAt: now
    }
    yield* repo.insert(proposal)
    created.push(proposal)
  }
  return created
})

/** Accept or reject an open proposal, recording who, when and why. */
export const decideTemplateProposal = Effect.fn("TemplateProposals.decideTemplateProposal")(function*(
  workspaceId: string,
  proposalId: string,
  decision: "accept" | "reject",
  actor: string,
  reason: string
) {
  const repo = yield* TemplateProposalRepo
  const proposal = yield* repo.get(workspaceId, proposalId)
  if (proposal.status !== "proposed") return yield* new TemplateProposalClosed({ proposalId, status: proposal.status })
  const status: TemplateProposalStatus = decision === "accept" ? "accepted" : "rejected"
  const decided: TemplateProposal = { ...proposal, status, decision: { actor, at: yield* nowIso, reason } }
  yield* repo.update(decided, "proposed").pipe(
    Effect.catchIf(
      (error) => error.reason._tag === "Conflict",
      () => Effect.flatMap(repo.get(workspaceId, proposalId), (now) => new TemplateProposalClosed({ proposalId, status: now.status }))
    )
  )
  return decided
})
