/**
 * One answer to "which agents may a candidate change": the strategies and the optimize phase use
 * the same `suspectAgents` and the same fallback for a cluster with no recorded blame (the team's
 * final agent), so a strategy never targets an agent the phase then undoes.
 */
import { assert, describe, it } from "@effect/vitest"
import type { AgentVersion, FailureCluster } from "../../src/contracts/index.ts"
import { failingExamplesOf } from "../../src/pipeline/StrategyInputs.ts"
import { clustersByBlamedAgent, suspectAgents } from "../../src/strategies/Strategy.ts"
import { suspectAgents as builtinSuspects } from "../../src/strategies/builtin/SuspectAgents.ts"
import { toyEvalSet, toyWorkspace } from "../optimize/ToyTeam.ts"

const workspace = toyWorkspace({ broken: "none" })
// Configuration order puts the upstream reader last; the calculator is the final agent.
const current: ReadonlyArray<AgentVersion> = workspace.agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters }))
const finalAgentIds = ["calculator"]

const cluster = (id: string, agentBlame: Record<string, number>, members: ReadonlyArray<string>): FailureCluster => ({
  id,
  scanId: "scan",
  workspaceId: workspace.id,
  label: id,
  topTerms: [],
  memberTraceIds: members,
  representativeExplanations: ["The total is wrong."],
  frequencyPct: 10,
  effectSize: 20,
  actionable: true,
  severityVariants: [],
  agentBlame
} as unknown as FailureCluster)

const evidence = (clusters: ReadonlyArray<FailureCluster>, agentBlame: Record<string, number> = {}) => ({
  clusters,
  agentFailureRates: { calculator: { parse: 0, truncated: 0 }, reader: { parse: 0, truncated: 0 } },
  agentBlame,
  current,
  finalAgentIds
})

describe("suspect agents", () => {
  it("a cluster with no recorded blame is the final agent's, for the strategies and for the failing examples", () => {
    const unblamed = cluster("c1", {}, ["t-order-1"])
    assert.deepStrictEqual(suspectAgents(evidence([unblamed])), ["calculator"])
    assert.deepStrictEqual([...clustersByBlamedAgent({ clusters: [unblamed], current, finalAgentIds }).keys()], ["calculator"])
    const context = { workspace, agents: workspace.agents, baseline: current, finalAgentIds } as never
    const runs = [{ stimulusId: "order-1", epoch: 0, traceId: "t-order-1", status: "ok" as const, blended: 0, passed: false, agents: {}, worldDimensions: {}, rubricDimensions: {}, explanation: "The total is wrong.", agentOutputs: {}, truncatedAgents: [], costUsd: 0, latencyMs: 0 }]
    const examples = failingExamplesOf(context, toyEvalSet(4), runs, { clusters: [unblamed] } as never)
    assert.deepStrictEqual(examples.map((e) => e.agentId), ["calculator"])
  })

  it("a small share of the blame is not evidence; the most-blamed agent of a cluster is", () => {
    const mostlyReader = cluster("c1", { reader: 0.9, calculator: 0.1 }, ["t1", "t2"])
    assert.deepStrictEqual(suspectAgents(evidence([mostlyReader], { reader: 0.9, calculator: 0.1 })), ["reader"])
  })

  it("the built-in strategies' helper is the same function", () => {
    assert.strictEqual(builtinSuspects, suspectAgents)
  })
})
