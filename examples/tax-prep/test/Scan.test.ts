import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref, Schema } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import {
  ChangeSetRepo,
  EventBus,
  MemoryStorage,
  ScanEngine,
  ScanOrchestrator,
  ScanRepo,
  ScanTraceRepo,
  WorkspaceRepo
} from "@spectral/engine"
import { ALPHA_FOOTER, eventTypes, phaseOrder, Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { InProcessRunner } from "@spectral/cli"
import { renderHtml, renderMarkdown } from "@spectral/engine"
import { taxPrepWorkspace } from "../src/TaxPrepTeam.ts"
import { countingModel, makeLog, scanLayer, smallWorkspace } from "./ScanHarness.ts"

const simulated = scanLayer(SimulatedLanguageModel.layer({ seed: 1 }))

describe("a scan end to end (tax world, simulated model, memory storage)", () => {
  it.effect("runs every phase, stores traces with both authorities, publishes all five events and finalizes the change set", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7 })
      assert.strictEqual(outcome.scan.state, "completed")
      assert.deepStrictEqual(outcome.scan.completedPhases, [...phaseOrder])
      assert.strictEqual(outcome.scan.readiness?.mode, "synthetic_only")
      assert.strictEqual(outcome.scan.attribution?.worldModelId, "us-federal-individual-tax")

      const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)
      const baseline = traces.filter((t) => t.arm === "baseline")
      assert.strictEqual(baseline.length, 48, "one baseline trace per stimulus")
      assert.isTrue(baseline.every((t) => t.provenance === "rule_grounded" || t.provenance === "exploratory_probe"))
      assert.isTrue(baseline.some((t) => t.partition === "holdout") && baseline.some((t) => t.partition === "working"))
      const results = yield* (yield* ScanTraceRepo).results(workspace.id, outcome.scan.id)
      for (const trace of baseline.filter((t) => t.status === "ok")) {
        const authorities = results.filter((r) => r.traceId === trace.id).map((r) => r.authority).sort()
        assert.deepStrictEqual(authorities, ["rubric", "world_model"], `two authorities for ${trace.id}`)
      }

      const events = yield* (yield* EventBus).published
      for (const type of eventTypes) assert.isTrue(events.some((e) => e.type === type), `${type} published`)
      assert.strictEqual(events.filter((e) => e.type === "platform.failure_cluster.detected").length, outcome.diagnosis.clusters.length)
      assert.isTrue(events.every((e) => e.workspaceId === workspace.id))
      const convergence = events.find((e) => e.type === "scan.convergence.delta")!
      assert.strictEqual(convergence.type === "scan.convergence.delta" && convergence.payload.convergenceDelta._tag, "Absent")

      assert.isTrue(outcome.verdict.checksTotal > 0 && outcome.verdict.checksPassed <= outcome.verdict.checksTotal)
      assert.isTrue(outcome.diagnosis.clusters.length > 0, "the weak baseline fails somewhere")
      // The default judge model ("default") has no price: the verdict says the dollars are an upper bound.
      assert.isAbove(outcome.spend.total.unpricedCalls ?? 0, 0)
      assert.include(outcome.verdict.explanation, "no known price")
      const changeSet = outcome.changeSet!
      assert.strictEqual(changeSet.baselineId, null)
      assert.deepStrictEqual(changeSet.authority, outcome.scan.attribution?.authority)
      assert.isTrue(changeSet.explainability.decisionLog.length > 0)
      assert.strictEqual(outcome.card.footer, ALPHA_FOOTER)
      assert.isTrue(renderMarkdown(outcome.card).trimEnd().endsWith(ALPHA_FOOTER))
      assert.include(renderHtml(outcome.card), `<footer>${ALPHA_FOOTER}</footer>`)
    }).pipe(Effect.provide(simulated)))

  it.effect("a second scan measures against the first one's change set", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const first = yield* orchestrator.run({ workspaceId: workspace.id, seed: 3 })
      const second = yield* orchestrator.run({ workspaceId: workspace.id, seed: 3 })
      const history = yield* (yield* ScanRepo).list(workspace.id)
      assert.deepStrictEqual(history.map((s) => s.id), [second.scan.id, first.scan.id])
      assert.strictEqual(second.changeSet?.baselineId, first.changeSet?.id)
      assert.strictEqual(second.changeSet?.version, (first.changeSet?.version ?? 0) + 1)
      if (first.changeSet?.status === "accepted") {
        assert.strictEqual(second.scan.baselineChangeSetId, first.changeSet.id, "the accepted configuration is the new baseline")
      }
    }).pipe(Effect.provide(simulated)))

  it("a dependency cycle, an unknown dependency or an empty team is rejected when the workspace is decoded", () => {
    const raw = taxPrepWorkspace("simulated-small")
    const cases = [
      { agents: raw.agents.map((a) => (a.id === "intake" ? { ...a, dependsOn: ["advisor"] } : a)), names: ["intake", "advisor", "cycle"] },
      { agents: raw.agents.map((a) => (a.id === "advisor" ? { ...a, dependsOn: ["intak"] } : a)), names: ["advisor", "intak"] },
      { agents: [], names: ["no agents"] }
    ]
    for (const { agents, names } of cases) {
      const exit = Schema.decodeUnknownExit(Workspace)({ ...raw, agents })
      assert.isTrue(Exit.isFailure(exit))
      const message = String(Exit.isFailure(exit) ? exit.cause : "")
      assert.include(message, "agents")
      for (const name of names) assert.include(message, name)
    }
  })

  it.effect("a workspace that skipped decoding still cannot run with a cycle: the scan fails typed and is recorded failed", () =>
    Effect.gen(function*() {
      const valid = smallWorkspace()
      const workspace = { ...valid, agents: valid.agents.map((a) => (a.id === "intake" ? { ...a, dependsOn: ["advisor"] } : a)) }
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const error = yield* Effect.flip((yield* ScanOrchestrator).run({ workspaceId: workspace.id }))
      assert.strictEqual(error._tag, "ScanFailed")
      assert.include(error.message, "advisor")
      assert.include(error.message, "intake")
      assert.notInclude(error.message, "ScanFailed", "not wrapped twice")
      const [scan] = yield* (yield* ScanRepo).list(workspace.id)
      assert.strictEqual(scan?.state, "failed")
      assert.include(scan?.failureReason ?? "", "cycle")
    }).pipe(Effect.provide(simulated)))

  it.live("a crash mid-scan resumes after its last finished phase, makes no new calls for finished phases, and ends as an uninterrupted run", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      // Reference: the same scan on the same model without a crash.
      const reference = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 11, concurrency: 1 })
      }).pipe(Effect.provide(scanLayer(countingModel(yield* makeLog))))

      const log = yield* makeLog
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const orchestrator = yield* ScanOrchestrator
        // 48 stimuli × (2 agents + judge) in Observe; crash during Optimize.
        yield* Ref.set(log.crashAt, 48 * 3 + 20)
        const crashed = yield* Effect.exit(orchestrator.run({ workspaceId: workspace.id, seed: 11, concurrency: 1 }))
        assert.isTrue(Exit.isFailure(crashed))
        const [failed] = yield* (yield* ScanRepo).list(workspace.id)
        assert.strictEqual(failed?.state, "failed")
        assert.include(failed?.failureReason ?? "", "optimize")
        assert.deepStrictEqual(failed?.completedPhases, ["preflight", "observe", "calibrate", "diagnose", "evaluate"])
        const tracesBefore = (yield* (yield* ScanTraceRepo).traces(workspace.id, failed!.id)).length

        const callsBeforeResume = (yield* Ref.get(log.calls)).length
        // Carried on as a new submission of the same scan, on a runner of this process (`spectral scan --retry`).
        const resumed = yield* InProcessRunner.runOnRunner({ workspaceId: workspace.id, seed: 11, concurrency: 1, exclusiveStore: false, retry: failed!.id })
        assert.isTrue(resumed.resumed)
        const resumeCalls = (yield* Ref.get(log.calls)).slice(callsBeforeResume)
        assert.isTrue(resumeCalls.length > 0)
        assert.isTrue(resumeCalls.every((phase) => phase === "optimize"), "finished phases make no new model calls")
        assert.strictEqual(resumed.scan.state, "completed")
        assert.isUndefined(resumed.scan.failureReason, "a completed scan carries no stale failure")
        // The budget is never refilled by a crash: the resumed scan's ledger starts from what was spent.
        assert.isDefined(resumed.spend.byPhase["observe"], "observe's spend survives the crash")
        assert.isAtLeast(resumed.spend.total.calls, reference.spend.total.calls)
        assert.strictEqual(resumed.spend.total.calls, (yield* Ref.get(log.calls)).length + 1, "every model call is on the books, the crashed one included")
        assert.strictEqual(resumed.verdict.outcome, reference.verdict.outcome)
        assert.deepStrictEqual(resumed.verdict.delta, reference.verdict.delta)
        assert.strictEqual(resumed.changeSet?.status, reference.changeSet?.status)
        const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, failed!.id)
        assert.strictEqual(new Set(traces.map((t) => t.id)).size, traces.length, "no duplicate rows")
        assert.isTrue(traces.length >= tracesBefore)
        const changeSets = yield* (yield* ChangeSetRepo).list(workspace.id)
        assert.strictEqual(changeSets.length, 1)
      }).pipe(Effect.provide(InProcessRunner.layerMemory().pipe(Layer.provideMerge(scanLayer(countingModel(log))))))
    }))

  it.effect("concurrent scans of two workspaces keep their own budgets and spend", () =>
    Effect.gen(function*() {
      const a = smallWorkspace()
      const b = smallWorkspace((raw) => ({ ...raw, id: "other-tax-prep", name: "Other tax prep" }))
      const solo = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(a)
        return yield* (yield* ScanOrchestrator).run({ workspaceId: a.id, seed: 9 })
      }).pipe(Effect.provide(simulated))
      const [together, other] = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(a)
        yield* (yield* WorkspaceRepo).upsert(b)
        const orchestrator = yield* ScanOrchestrator
        return yield* Effect.all([orchestrator.run({ workspaceId: a.id, seed: 9 }), orchestrator.run({ workspaceId: b.id, seed: 9 })], { concurrency: 2 })
      }).pipe(Effect.provide(simulated))
      assert.strictEqual(together.spend.total.calls, solo.spend.total.calls, "one tenant's scan does not spend another's budget")
      assert.strictEqual(other.spend.total.calls, solo.spend.total.calls)
      assert.deepStrictEqual(together.verdict, solo.verdict)
    }))

  it("a malformed workspace is rejected at decode time, naming the field", () => {
    const raw = taxPrepWorkspace("simulated-small")
    const bad = { ...raw, agents: raw.agents.map((a) => ({ ...a, hyperparameters: { ...a.hyperparameters, temperature: 5 } })) }
    const exit = Schema.decodeUnknownExit(Workspace)(bad)
    assert.isTrue(Exit.isFailure(exit))
    assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "temperature")
  })
})

// Keep the layer helpers referenced for type-checking of alternative wiring.
void Layer.empty
void MemoryStorage
void ScanEngine
void WorldsEvalSetProvider
