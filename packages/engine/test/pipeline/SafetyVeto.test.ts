/**
 * Safety vetoes a winner: the toy team's scan, whose winning change improves the team, against a
 * toy world whose conformity check reports a violation for any agent the change touches. The
 * same scan against the toy world that accepts every change is the control.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type ConformityRequest, EvalSetProvider, type InvariantViolation } from "../../src/contracts/index.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import type { SafetyOutput } from "../../src/pipeline/Safety.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyEvalSet, toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const options = { broken: "reader" } as const

/** The toy world, with the invariant that no agent's configuration may change. */
const frozenWorld = (requests: Array<ConformityRequest>) =>
  Layer.succeed(EvalSetProvider, EvalSetProvider.of({
    availability: () => Effect.succeed({ available: true, reason: "toy" }),
    evalSet: () => Effect.succeed(toyEvalSet(40)),
    conformity: (request) =>
      Effect.sync(() => {
        requests.push(request)
        return request.proposed.flatMap((p): ReadonlyArray<InvariantViolation> => {
          const before = request.baseline.find((b) => b.agentId === p.agentId)
          return JSON.stringify(before) === JSON.stringify(p)
            ? []
            : [{ invariant: "frozen_team", rule: "no-reconfiguration", agentId: p.agentId, message: `the ${p.agentId}'s configuration is frozen by the world` }]
        })
      })
  }))

const scan = (provider: Layer.Layer<EvalSetProvider>) =>
  Effect.gen(function*() {
    const workspace = toyWorkspace(options)
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
    return { outcome, optimize: outputs.get("optimize") as OptimizeOutput, safety: outputs.get("safety") as SafetyOutput }
  }).pipe(Effect.provide(ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, provider, toyModel(options.broken))))))

describe("a safety violation", () => {
  it.effect("the same winner passes safety against a world that allows the change (the control)", () =>
    Effect.gen(function*() {
      const { outcome, optimize } = yield* scan(toyProvider(40))
      assert.isNotNull(optimize.winner)
      assert.strictEqual(outcome.verdict.outcome, "go", outcome.verdict.explanation)
      assert.strictEqual(outcome.verdict.checks.find((c) => c.gate === "safety")?.status, "pass")
      assert.strictEqual(outcome.changeSet?.status, "proposed")
    }))

  it.effect("drives the scan to no_go, names the violation in the failing check, and rejects the change set", () =>
    Effect.gen(function*() {
      const requests: Array<ConformityRequest> = []
      const { outcome, optimize, safety } = yield* scan(frozenWorld(requests))
      assert.isNotNull(optimize.winner, "a candidate won the tournament")
      const winner = optimize.winner!
      assert.isAbove(winner.workingDelta, 0)
      assert.deepStrictEqual(winner.candidate.changed, ["reader"])

      // The world was asked about the winner's configuration against the baseline.
      assert.strictEqual(requests.length, 1)
      assert.deepStrictEqual(requests[0]!.proposed, winner.candidate.agents)
      assert.deepStrictEqual(requests[0]!.baseline.map((a) => a.version), [1, 1])
      assert.deepStrictEqual(safety.violations.map((v) => [v.invariant, v.agentId]), [["frozen_team", "reader"]])

      const verdict = outcome.verdict
      assert.strictEqual(verdict.outcome, "no_go")
      const failing = verdict.checks.filter((c) => c.status === "fail")
      assert.deepStrictEqual(failing.map((c) => [c.gate, c.check]), [["safety", "frozen_team:reader"]], "safety is the only check that fails")
      assert.strictEqual(failing[0]!.reason, "no-reconfiguration: the reader's configuration is frozen by the world")
      assert.match(verdict.explanation, /^Safety: the change violates the world's invariants\./)

      const changeSet = outcome.changeSet!
      assert.strictEqual(changeSet.status, "rejected")
      assert.deepStrictEqual(changeSet.agents, requests[0]!.baseline, "the change set keeps the baseline, not the unsafe change")
      assert.include(changeSet.explainability.reasoning, "Safety violation (frozen_team, rule no-reconfiguration, agent reader): the reader's configuration is frozen by the world")
      assert.include(changeSet.explainability.reasoning, `Verdict no_go: ${verdict.checksPassed} of ${verdict.checksTotal} checks pass.`)
      assert.match(changeSet.explainability.summary, /verdict no_go/)
      // The decision log ends with the winner vetoed by the world, not only "won".
      const last = changeSet.explainability.decisionLog.at(-1)!
      assert.strictEqual(last.outcome, "rejected_by_safety")
      assert.strictEqual(last.reason, "frozen_team (rule no-reconfiguration, agent reader): the reader's configuration is frozen by the world")
      assert.strictEqual(outcome.card.changeSetStatus, "rejected")
      assert.strictEqual(outcome.card.verdict.outcome, "no_go")
    }))
})
