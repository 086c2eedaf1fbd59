/**
 * Template inference on ingested traces, kept as proposals: a draft per agent once it has enough
 * conversation starts, not proposed twice while unchanged, a changed draft superseding the
 * undecided one, decisions only on an open proposal, and nothing applied to the workspace.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Trace, Workspace } from "../../src/contracts/index.ts"
import { MemoryStorage, TemplateProposalRepo, TraceRepo, WorkspaceRepo } from "../../src/ports/index.ts"
import { decideTemplateProposal, proposeTemplates } from "../../src/traces/index.ts"

const W = "ws-templates"

const start = (traceId: string, system: string, user: string): Trace => ({
  id: `${traceId}/s`,
  workspaceId: W,
  traceId,
  spanId: "s",
  name: "chat",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:00:01.000Z",
  agentName: "advisor",
  attributes: { "gen_ai.operation.name": "chat", "gen_ai.agent.name": "advisor", "gen_ai.request.model": "gpt-4o" },
  input: JSON.stringify([{ role: "system", content: system }, { role: "user", content: user }]),
  output: JSON.stringify({ filingStatus: "single" })
})

const system = "You advise on the federal filing status.\nThink step by step before you answer."
const traces = (prefix: string, n: number, text = system) =>
  Array.from({ length: n }, (_, i) => start(`${prefix}-${i}`, text, `Taxpayer ${i}: unmarried, ${20 + i} years old, no dependents.`))

const run = <A, E>(effect: Effect.Effect<A, E, TraceRepo | TemplateProposalRepo | WorkspaceRepo>) =>
  Effect.flatMap(MemoryStorage.make, (storage) =>
    effect.pipe(
      Effect.provideService(TraceRepo, storage.trace),
      Effect.provideService(TemplateProposalRepo, storage.templateProposal),
      Effect.provideService(WorkspaceRepo, storage.workspace)
    ))

describe("template proposals", () => {
  it.effect("an agent with enough conversation starts gets one proposal per distinct draft", () =>
    run(Effect.gen(function*() {
      const spans = yield* TraceRepo
      const repo = yield* TemplateProposalRepo
      yield* spans.append(W, traces("a", 4))
      assert.deepStrictEqual(yield* proposeTemplates(W), [], "four starts are fewer than the five a draft needs")
      yield* spans.append(W, traces("b", 2))
      const [first] = yield* proposeTemplates(W)
      assert.strictEqual(first?.status, "proposed")
      assert.strictEqual(first?.agentName, "advisor")
      assert.strictEqual(first?.version, 1)
      assert.strictEqual(first?.template.chainOfThought, "full")
      assert.include(first!.template.basePrompt, "You advise on the federal filing status.")
      assert.deepStrictEqual(first?.template.outputFields, ["filingStatus"])
      assert.strictEqual(first?.tracesSeen, 6)
      assert.deepStrictEqual(yield* proposeTemplates(W), [], "an unchanged draft is not proposed again")
      // The agent's prompt changed in production: a new draft supersedes the undecided one.
      yield* spans.append(W, traces("c", 40, "You advise on the federal filing status. Answer in JSON."))
      const [second] = yield* proposeTemplates(W)
      assert.strictEqual(second?.version, 2)
      assert.notStrictEqual(second?.fingerprint, first?.fingerprint)
      assert.deepStrictEqual((yield* repo.list(W)).map((p) => [p.version, p.status]), [[1, "superseded"], [2, "proposed"]])
    })))

  it.effect("decisions are recorded on open proposals only; a declared workspace is left as it is", () =>
    run(Effect.gen(function*() {
      const workspaces = yield* WorkspaceRepo
      yield* (yield* TraceRepo).append(W, traces("a", 6))
      const declared = { id: W, agents: [{ id: "agent-advisor", name: "advisor" }] } as unknown as Workspace
      yield* workspaces.upsert(declared)
      const [proposal] = yield* proposeTemplates(W)
      assert.strictEqual(proposal?.declaredAgentId, "agent-advisor")
      const accepted = yield* decideTemplateProposal(W, proposal!.id, "accept", "priya", "matches what we run")
      assert.strictEqual(accepted.status, "accepted")
      assert.deepStrictEqual({ actor: accepted.decision?.actor, reason: accepted.decision?.reason }, { actor: "priya", reason: "matches what we run" })
      assert.strictEqual((yield* (yield* TemplateProposalRepo).get(W, proposal!.id)).status, "accepted")
      const again = yield* Effect.flip(decideTemplateProposal(W, proposal!.id, "reject", "sam", "no"))
      assert.strictEqual(again._tag, "TemplateProposalClosed")
      assert.strictEqual(again._tag === "TemplateProposalClosed" && again.message, `template proposal ${proposal!.id} is accepted: only a proposed one can be decided`)
      assert.deepStrictEqual(yield* workspaces.get(W), declared)
    })))
})
