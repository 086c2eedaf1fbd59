/**
 * Phase outputs saved in parts: the eval set's samples and every arm's runs are stored apart from
 * the output's row (chunks of at most 1,000 items), the row and a durable step's reply hold only
 * references, and a scan resumed after a kill reads its finished phases back through those
 * references identical to what they saved (no model call for them, the same verdict); a part whose
 * chunks are missing fails the resumed scan in that phase with `StoredStateInvalid` naming the part.
 * In a workflow execution, what the workflow engine records for each phase step is that reference.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Ref, Schema } from "effect"
import type { LanguageModel } from "effect/ai"
import { ClusterWorkflowEngine, MessageStorage, TestRunner } from "effect/cluster"
import { type PhaseName, PhaseOutputPartRef, PhaseOutputSchemas, type Scan } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { declarationDigest, ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { joinPhaseOutput, phaseOutputChunkItems, phaseOutputReference, splitPhaseOutput } from "../../src/ports/PhaseOutputParts.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import type { ModelPhase } from "../../src/ports/ModelCall.ts"
import * as ScanWorkflow from "../../src/workflow/ScanWorkflow.ts"
import { toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { runSubmission } from "../workflow/RunSubmission.ts"
import { hookedToyModel } from "./HookedToyModel.ts"

const base = (model: Layer.Layer<LanguageModel.LanguageModel>) => Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(30), model)

const engineOn = (storage: Layer.Layer<ScanRepo, never, ScanRepo> | undefined, model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(storage === undefined ? base(model) : Layer.provideMerge(storage, base(model))))

/** The same with the scan workflow on an in-memory cluster: what a run of a scan left behind goes through. */
const durableOn = (storage: Layer.Layer<ScanRepo, never, ScanRepo> | undefined, model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanWorkflow.layer.pipe(
    Layer.provide(Layer.succeed(ScanWorkflow.ScanLeaseSettings)({ durationMs: 400, heartbeatMs: 50 })),
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(TestRunner.layer),
    Layer.provideMerge(engineOn(storage, model))
  )

/** Model calls by phase. */
const counting = (calls: Ref.Ref<ReadonlyArray<ModelPhase>>) => hookedToyModel(({ phase }) => Ref.update(calls, (all) => [...all, phase]))

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit), "the scan should have failed")
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  assert.isDefined(error, "with a typed failure")
  return (error as { readonly error: E }).error
}

const finishedPhases: ReadonlyArray<PhaseName> = ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize"]

/** A scan left behind after optimize by a process that died, with the outputs of `finished` saved as its own. */
const leaveBehind = (workspace: ReturnType<typeof toyWorkspace>, outputs: ReadonlyMap<PhaseName, unknown>) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const now = yield* Clock.currentTimeMillis
    const left: Scan = {
      id: `${workspace.id}:scan:2`,
      workspaceId: workspace.id,
      state: "running",
      seed: 4,
      completedPhases: finishedPhases,
      declarationDigest: declarationDigest(workspace),
      lease: { owner: "gone-host:1#gone", expiresAt: new Date(now - 1_000).toISOString() },
      createdAt: new Date(now - 60_000).toISOString(),
      updatedAt: new Date(now - 5_000).toISOString()
    }
    yield* scans.insert(left)
    for (const phase of finishedPhases) yield* scans.savePhaseOutput(workspace.id, left.id, phase, outputs.get(phase))
    return left
  })

describe("phase outputs in parts", () => {
  it("an observe output splits into references and chunks of at most 1,000 items, and joins back identical", () => {
    const runs = Array.from({ length: 2_345 }, (_, i) => ({ stimulusId: `s-${i}`, passed: i % 2 === 0 }))
    const output = { evalSet: { id: "set", samples: [{ id: "s-0", provenance: "rule_grounded" }] }, baseline: { arm: "baseline", runs } }
    const { parts, stored } = splitPhaseOutput("observe", output)
    assert.deepStrictEqual(stored, {
      evalSet: { id: "set", samples: { _tag: "PhaseOutputPart", part: "evalSet.samples", items: 1, chunks: 1 } },
      baseline: { arm: "baseline", runs: { _tag: "PhaseOutputPart", part: "baseline.runs", items: 2_345, chunks: 3 } }
    })
    assert.deepStrictEqual(parts.map((p) => [p.part, p.chunks.map((c) => c.length)]), [["evalSet.samples", [1]], ["baseline.runs", [1_000, 1_000, 345]]])
    assert.isTrue(parts.every((p) => p.chunks.every((c) => c.length <= phaseOutputChunkItems)))
    const chunks = parts.flatMap((p) => p.chunks.map((items, chunk) => ({ part: p.part, chunk, items })))
    // Chunks come back in any order.
    assert.deepStrictEqual(joinPhaseOutput("observe", stored, [...chunks].reverse()), output)
    // One missing: the reference stays, saying which.
    const joined = joinPhaseOutput("observe", stored, chunks.filter((c) => !(c.part === "baseline.runs" && c.chunk === 1)))
    const runsBack = (joined as { readonly baseline: { readonly runs: unknown } }).baseline.runs
    assert.isTrue(Schema.is(PhaseOutputPartRef)(runsBack))
    assert.deepStrictEqual(runsBack, { _tag: "PhaseOutputPart", part: "baseline.runs", items: 2_345, chunks: 3, unresolved: "chunk 1 of 3 is missing" })
    // What a durable step replies: the sizes of the parts only.
    assert.deepStrictEqual(phaseOutputReference("observe", output), { phase: "observe", parts: [{ part: "evalSet.samples", items: 1 }, { part: "baseline.runs", items: 2_345 }] })
    // No winner, no part; an output of a phase without parts is stored as it is.
    assert.deepStrictEqual(splitPhaseOutput("optimize", { winner: null, decisionLog: [] }), { stored: { winner: null, decisionLog: [] }, parts: [] })
    assert.deepStrictEqual(splitPhaseOutput("verdict", { verdict: 1 }), { stored: { verdict: 1 }, parts: [] })
  })

  it.live("a scan resumed after optimize reads its finished phases back through their references, identical to what they saved", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      const calls = yield* Ref.make<ReadonlyArray<ModelPhase>>([])
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const scans = yield* ScanRepo
        const orchestrator = yield* ScanOrchestrator
        const finished = yield* orchestrator.run({ workspaceId: workspace.id, seed: 4 })
        const outputs = yield* scans.phaseOutputs(workspace.id, finished.scan.id)
        const optimize = Schema.decodeUnknownSync(PhaseOutputSchemas.optimize)(outputs.get("optimize"))
        assert.isNotNull(optimize.winner, "the toy scan has a winner, so optimize has a part too")
        assert.isAbove(splitPhaseOutput("observe", outputs.get("observe")).parts.length, 1)

        const left = yield* leaveBehind(workspace, outputs)
        yield* Ref.set(calls, [])
        const resumed = yield* runSubmission({ workspaceId: workspace.id, seed: 4 })
        assert.isTrue(resumed.plan.resumed)
        assert.strictEqual(resumed.scan.id, left.id)
        assert.strictEqual(resumed.scan.state, "completed")
        // The finished phases made no model call again, and what they handed on was what they saved.
        const phasesCalled = new Set(yield* Ref.get(calls))
        assert.isFalse(phasesCalled.has("observe"), "observe is not measured again")
        const verdict = (yield* orchestrator.savedPhaseOutput(workspace.id, left.id, "verdict")).verdict
        assert.deepStrictEqual(verdict.checks, finished.verdict.checks)
        assert.strictEqual(verdict.outcome, finished.verdict.outcome)
        for (const phase of finishedPhases) {
          const readBack = yield* orchestrator.savedPhaseOutput(workspace.id, left.id, phase)
          const original = yield* Schema.decodeUnknownEffect(PhaseOutputSchemas[phase] as Schema.Codec<unknown, unknown>)(outputs.get(phase))
          assert.deepStrictEqual(readBack, original, `${phase} reads back as it was saved`)
        }
      }).pipe(Effect.provide(durableOn(undefined, counting(calls))))
    }))

  it.live("a resumed scan whose saved observe part lost a chunk fails in observe with StoredStateInvalid naming the part, and loses nothing", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      const calls = yield* Ref.make<ReadonlyArray<ModelPhase>>([])
      const leftId = `${workspace.id}:scan:2`
      // What a store returns for a part with a chunk missing (the SQL store's tests delete one for real).
      const lostChunk = Layer.effect(
        ScanRepo,
        Effect.map(Effect.service(ScanRepo), (repo) => {
          const cut = (phase: PhaseName, scanId: string, value: unknown): unknown => {
            if (phase !== "observe" || scanId !== leftId) return value
            const { parts, stored } = splitPhaseOutput(phase, value)
            return joinPhaseOutput(phase, stored, parts.flatMap((p) => p.chunks.map((items, chunk) => ({ part: p.part, chunk, items }))).filter((c) => c.part !== "baseline.runs"))
          }
          return ScanRepo.of({
            ...repo,
            phaseOutputs: (workspaceId, scanId) =>
              Effect.map(repo.phaseOutputs(workspaceId, scanId), (all) => new Map([...all].map(([phase, value]) => [phase, cut(phase, scanId, value)] as const)))
          })
        })
      )
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const scans = yield* ScanRepo
        const orchestrator = yield* ScanOrchestrator
        const finished = yield* orchestrator.run({ workspaceId: workspace.id, seed: 4 })
        const outputs = yield* scans.phaseOutputs(workspace.id, finished.scan.id)
        yield* leaveBehind(workspace, outputs)
        yield* Ref.set(calls, [])
        const error = failure(yield* Effect.exit(runSubmission({ workspaceId: workspace.id, seed: 4 })))
        assert.strictEqual(error._tag, "ScanFailed")
        if (error._tag !== "ScanFailed") return
        assert.strictEqual(error.phase, "observe")
        assert.strictEqual(error.cause._tag, "StoredStateInvalid")
        assert.include(error.cause._tag === "StoredStateInvalid" ? error.cause.issue : "", "part baseline.runs of observe: chunk 0 of")
        assert.deepStrictEqual(yield* Ref.get(calls), [], "nothing is measured again on a partial value")
        const row = yield* scans.get(workspace.id, leftId)
        assert.strictEqual(row.state, "failed")
        assert.deepStrictEqual(row.failure?.phase, "observe")
        assert.deepStrictEqual(row.completedPhases, finishedPhases)
      }).pipe(Effect.provide(durableOn(lostChunk, counting(calls))))
    }))

  it.live("in a workflow execution each phase's recorded result is the reference to its saved output, not the output", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      const calls = yield* Ref.make<ReadonlyArray<ModelPhase>>([])
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const summary = yield* ScanWorkflow.ScanWorkflow.execute({ workspaceId: workspace.id, requestId: "parts-1", seed: 4, concurrency: 4 })
        assert.strictEqual(summary.state, "completed")
        const saved = yield* (yield* ScanRepo).phaseOutputs(workspace.id, summary.scanId)
        const driver = yield* MessageStorage.MemoryDriver
        const recorded = new Map<string, unknown>()
        for (const entry of driver.requests.values()) {
          const envelope = entry.envelope
          if (envelope._tag !== "Request" || envelope.tag !== "activity") continue
          const name = (envelope.payload as { readonly name?: unknown }).name
          if (typeof name !== "string" || !name.startsWith("scan/") || name === "scan/start") continue
          for (const reply of entry.replies) {
            // An activity's reply is its encoded workflow result: Complete with the Activity's exit.
            const result = reply._tag === "WithExit" && reply.exit._tag === "Success" ? (reply.exit.value as { readonly _tag?: string; readonly exit?: { readonly _tag?: string; readonly value?: unknown } }) : undefined
            if (result?._tag === "Complete" && result.exit?._tag === "Success") recorded.set(name.slice("scan/".length), result.exit.value)
          }
        }
        assert.deepStrictEqual([...recorded.keys()].sort(), [...saved.keys()].sort(), "one recorded result per phase")
        for (const [phase, output] of saved) assert.deepStrictEqual(recorded.get(phase), phaseOutputReference(phase, output), `${phase} records its reference`)
        const observe = recorded.get("observe") as { readonly parts: ReadonlyArray<{ readonly part: string; readonly items: number }> }
        assert.deepStrictEqual(observe.parts.map((p) => p.part), ["evalSet.samples", "baseline.runs"])
        assert.isAbove(observe.parts[1]!.items, 0)
      }).pipe(
        Effect.provide(ScanWorkflow.layer.pipe(
          Layer.provideMerge(ClusterWorkflowEngine.layer),
          Layer.provideMerge(TestRunner.layer),
          Layer.provideMerge(engineOn(undefined, counting(calls)))
        ))
      )
    }))
})
