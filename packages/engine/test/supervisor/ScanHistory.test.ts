/**
 * The supervisor's history built from stored scans: `summarizeScan` reads only the baseline arm's
 * world-model per-agent scores (epochs averaged per stimulus, infrastructure failures left out) and
 * each agent's own spend; `loadScanHistory` summarizes a workspace's completed scans oldest first,
 * each once: the summaries it keeps in storage are what the next history reads.
 * End to end on the toy team: a scan, a person accepts its change set, a second scan measures it,
 * and the supervisor sees the reader improve.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ChangeSets } from "../../src/changesets/ChangeSetLifecycle.ts"
import type { AgentRun, EvalResult, ScanTrace } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { classifyAgents, loadScanHistory, scanSummarySettings, summarizeScan } from "../../src/supervisor/index.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const run = (agentId: string, costUsd: number, agentVersion = 1): AgentRun => ({
  agentId,
  agentVersion,
  prompt: "p",
  rawOutput: "{}",
  status: "ok",
  latencyMs: 1,
  inputTokens: 1,
  outputTokens: 1,
  costUsd,
  cached: false
})

const trace = (id: string, stimulusId: string, arm: string, runs: ReadonlyArray<AgentRun>, status: ScanTrace["status"] = "ok"): ScanTrace => ({
  id,
  scanId: "s1",
  workspaceId: "ws",
  stimulusId,
  arm,
  epoch: 0,
  provenance: "rule_grounded",
  partition: "working",
  holdoutLayer: "working",
  segment: "x",
  stimulusWeight: 1,
  runs,
  status,
  latencyMs: 1,
  costUsd: runs.reduce((s, r) => s + r.costUsd, 0)
})

const result = (traceId: string, agents: Record<string, number>, authority: EvalResult["authority"] = "world_model"): EvalResult => ({
  id: `${traceId}:${authority}`,
  scanId: "s1",
  workspaceId: "ws",
  traceId,
  authority,
  score: 0.5,
  passed: false,
  dimensions: {},
  agents
})

describe("summarizeScan", () => {
  it("reads the baseline arm's world-model per-agent scores and each agent's own spend", () => {
    const traces = [
      trace("t1a", "s-1", "baseline", [run("reader", 0.001), run("calc", 0.003)]),
      trace("t1b", "s-1", "baseline", [run("reader", 0.003), run("calc", 0.003)]),
      trace("t2", "s-2", "baseline", [run("reader", 0.002), run("calc", 0.003)]),
      trace("t3", "s-3", "baseline", [run("reader", 0.002)], "infra_failure"),
      trace("c1", "s-1", "candidate-x", [run("reader", 0.5, 2)])
    ]
    const results = [
      result("t1a", { reader: 1, calc: 0 }),
      result("t1b", { reader: 0.5, calc: 1 }),
      result("t2", { reader: 0.25, calc: 1 }),
      result("t2", { reader: 0, calc: 0 }, "rubric"),
      result("t3", { reader: 0, calc: 0 }),
      result("c1", { reader: 1 })
    ]
    const summary = summarizeScan(
      { id: "s1", workspaceId: "ws", createdAt: "2026-01-01T00:00:00.000Z", attribution: { worldModelId: "w", worldModelVersion: "0.1.0", authority: { worldModelId: "w", worldModelVersion: "0.1.0", ruleSetHash: "h" }, generatedAt: "x", seed: 1 } },
      traces,
      results
    )
    assert.deepStrictEqual(summary.attribution, { worldModelId: "w", worldModelVersion: "0.1.0" })
    const reader = summary.agents.find((a) => a.agentId === "reader")!
    // Stimulus s-1: epochs 1 and 0.5 → 0.75; s-2: 0.25. The infra failure and the candidate are not counted.
    assert.strictEqual(reader.stimuli, 2)
    assert.closeTo(reader.quality.estimate, 0.5, 1e-12)
    assert.isAtMost(reader.quality.low, 0.5)
    assert.isAtLeast(reader.quality.high, 0.5)
    assert.closeTo(reader.costUsd, 0.002, 1e-12)
    assert.strictEqual(reader.agentVersion, 1)
    const calc = summary.agents.find((a) => a.agentId === "calc")!
    assert.closeTo(calc.quality.estimate, 0.75, 1e-12)
    assert.closeTo(calc.costUsd, 0.003, 1e-12)
  })

  it("an agent scored on one stimulus has no interval and is left out", () => {
    const summary = summarizeScan({ id: "s1", workspaceId: "ws", createdAt: "t" }, [trace("t1", "s-1", "baseline", [run("reader", 0)])], [result("t1", { reader: 1 })])
    assert.deepStrictEqual(summary.agents, [])
  })
})

const engine = ScanEngine.layer().pipe(
  Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("reader")))
)

describe("loadScanHistory", () => {
  it.effect("summarizes completed scans oldest first; the supervisor sees the accepted fix improve the reader", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const first = yield* orchestrator.run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
      assert.strictEqual(first.changeSet?.status, "proposed")
      assert.include(first.changeSet!.agents.filter((a) => a.version > 1).map((a) => a.agentId), "reader")
      yield* (yield* ChangeSets).accept(workspace.id, first.changeSet!.id, "alice", "reviewed")
      yield* orchestrator.run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
      const history = yield* loadScanHistory(workspace.id)
      assert.deepStrictEqual(history.map((s) => s.scanId), [`${workspace.id}:scan:1`, `${workspace.id}:scan:2`])
      const readerAt = (i: number) => history[i]!.agents.find((a) => a.agentId === "reader")!
      assert.strictEqual(readerAt(0).stimuli, 40)
      assert.strictEqual(readerAt(0).agentVersion, 1)
      assert.strictEqual(readerAt(1).agentVersion, 2)
      assert.isAbove(readerAt(1).quality.estimate, readerAt(0).quality.high)
      assert.deepStrictEqual(history[0]!.attribution, { worldModelId: "toy-orders", worldModelVersion: "1.0.0" })
      const reader = classifyAgents(history).find((s) => s.agentId === "reader")!
      assert.strictEqual(reader.status, "ACTIVE")
      assert.strictEqual(reader.trend, "improving")
      assert.strictEqual(reader.latest?.agentVersion, 2)
      // `limit` keeps the newest scans; cached summaries are reused as given.
      const newest = yield* loadScanHistory(workspace.id, { limit: 1, cached: new Map([[history[1]!.scanId, { ...history[1]!, agents: [] }]]) })
      assert.deepStrictEqual(newest.map((s) => [s.scanId, s.agents.length]), [[`${workspace.id}:scan:2`, 0]])
    }).pipe(Effect.provide(engine)))

  it.effect("keeps each completed scan's summary in storage: the next history reads no scan's rows, and is the same", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      yield* orchestrator.run({ workspaceId: workspace.id, seed: 5, concurrency: 4 })
      yield* orchestrator.run({ workspaceId: workspace.id, seed: 6, concurrency: 4 })
      const scans = yield* ScanRepo
      assert.strictEqual((yield* scans.summaries(workspace.id, scanSummarySettings())).size, 0)
      const history = yield* loadScanHistory(workspace.id)
      const kept = yield* scans.summaries(workspace.id, scanSummarySettings())
      assert.deepStrictEqual(history, history.map((summary) => kept.get(summary.scanId)!))
      // With every scan's rows unreadable, the history is still there, the same, from the kept summaries.
      const rows = yield* ScanTraceRepo
      const unreadable = ScanTraceRepo.of({ ...rows, traces: () => Effect.die("read a scan's traces"), results: () => Effect.die("read a scan's results") })
      assert.deepStrictEqual(yield* loadScanHistory(workspace.id).pipe(Effect.provideService(ScanTraceRepo, unreadable)), history)
      // Other settings are other summaries: computed from the rows, and kept apart.
      const wider = yield* loadScanHistory(workspace.id, { level: 0.8, resamples: 499 })
      assert.deepStrictEqual(wider.map((s) => s.agents[0]!.quality.level), [0.8, 0.8])
      assert.strictEqual((yield* scans.summaries(workspace.id, scanSummarySettings({ level: 0.8, resamples: 499 }))).size, 2)
      assert.deepStrictEqual(yield* loadScanHistory(workspace.id), history)
    }).pipe(Effect.provide(engine)))
})
