/**
 * Diagnose reads the baseline traces page by page for its systemic signals: on a scan with many more
 * traces than a page (and a candidate arm interleaved with the baseline), the signals are exactly the
 * ones computed from every baseline trace at once (the way Diagnose computed them before paging),
 * for any page size, and no read returns more than a page or lists every trace of the scan.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { AgentRun, ScanTrace } from "../../src/contracts/index.ts"
import type { RunMeasurement } from "../../src/measurement/Measurement.ts"
import { baselineTraceSummary, scanSignals } from "../../src/pipeline/Diagnose.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import type { ScanTraceRepo } from "../../src/ports/Repositories.ts"
import {
  detectQualitySignals,
  detectSystemicSignals,
  observationsFromScanTraces,
  type QualityObservation
} from "../../src/traces/SystemicSignals.ts"

const workspaceId = "ws-paged-signals"
const scanId = "scan-paged"
const stimuli = 60
const t0 = Date.parse("2026-01-01T00:00:00.000Z")
const agents = ["intake", "preparer", "reviewer"] as const

const context = {
  workspace: {
    id: workspaceId,
    framework: { passThreshold: 0.8 },
    agents: [
      { id: "intake", dependsOn: [] },
      { id: "preparer", dependsOn: ["intake"] },
      { id: "reviewer", dependsOn: ["preparer"] }
    ]
  },
  scan: { id: scanId, seed: 1 }
} as unknown as ScanContext

const agentRun = (agentId: string, i: number, arm: string): AgentRun => {
  const at = new Date(t0 + i * 10_000).toISOString()
  const rateLimited = arm !== "baseline" || ((agentId === "intake" || agentId === "preparer") && i >= 20 && i < 24)
  const outage = (agentId === "intake" || agentId === "preparer") && i >= 40 && i < 43
  const latencyMs = agentId === "reviewer" ? (i < 30 ? 200 : 2_000) : 100
  return {
    agentId,
    agentVersion: 1,
    rawOutput: "{}",
    status: rateLimited || outage ? "infra_failure" : "ok",
    ...(rateLimited ? { error: "HTTP 429 Too Many Requests" } : outage ? { error: "HTTP 500 internal server error" } : {}),
    latencyMs: arm === "baseline" ? latencyMs : 5 * latencyMs,
    // Some runs carry no start time: their observations are timed by the running clock.
    ...(agentId === "reviewer" && i % 7 === 0 ? {} : { startedAt: at }),
    inputTokens: 10,
    outputTokens: 5,
    costUsd: 0.001,
    cached: false
  }
}

const trace = (i: number, arm: string): ScanTrace => {
  const runs = agents.map((agent) => agentRun(agent, i, arm))
  return {
    id: `${arm}-s${i}`,
    scanId,
    workspaceId,
    stimulusId: `s${i}`,
    arm,
    epoch: 0,
    provenance: "rule_grounded",
    partition: "working",
    holdoutLayer: "working",
    segment: "single",
    stimulusWeight: 1,
    runs,
    status: runs.some((r) => r.status !== "ok") ? "infra_failure" : "ok",
    latencyMs: runs.reduce((s, r) => s + r.latencyMs, 0),
    costUsd: 0.003
  }
}

/** The baseline and a candidate arm, interleaved as a scan stores them. */
const traces: ReadonlyArray<ScanTrace> = Array.from({ length: stimuli }, (_, i) => [trace(i, "baseline"), trace(i, "candidate-1")]).flat()

/** Intake and preparer fail together on every fourth stimulus, then on every one from s40 (a shared step). */
const runs: ReadonlyArray<RunMeasurement> = traces.filter((t) => t.arm === "baseline").map((t, i): RunMeasurement => {
  const failing = i % 4 === 0 || i >= 40
  const score = failing ? 0.2 : 0.95
  return {
    stimulusId: t.stimulusId,
    epoch: 0,
    traceId: t.id,
    status: t.status,
    worldModel: score,
    rubric: score,
    blended: score,
    passed: !failing,
    agents: { intake: score, preparer: score, reviewer: i % 5 === 0 ? 0.3 : 0.9 },
    worldDimensions: {},
    rubricDimensions: {},
    explanation: failing ? "missed the dependent" : "fine",
    agentOutputs: {},
    truncatedAgents: [],
    costUsd: 0,
    latencyMs: 0
  }
})

/** The signals as Diagnose computed them before paging: every trace of the scan read at once, then filtered to the baseline. */
const allAtOnce = (all: ReadonlyArray<ScanTrace>, arms: "baseline" | "every arm" = "baseline") => {
  const baselineTraces = arms === "every arm" ? all : all.filter((t) => t.arm === "baseline")
  const infrastructure = detectSystemicSignals(observationsFromScanTraces(baselineTraces)).map((signal) => ({
    kind: signal.kind,
    agents: [...signal.agents],
    description: signal.description,
    ...("stimuli" in signal ? { stimuli: [...signal.stimuli] } : {})
  }))
  const threshold = context.workspace.framework.passThreshold
  const startOf = new Map<string, number>()
  for (const t of baselineTraces) {
    const times = t.runs.map((r) => (r.startedAt === undefined ? Number.NaN : Date.parse(r.startedAt))).filter(Number.isFinite)
    if (times.length > 0) startOf.set(t.id, Math.min(...times))
  }
  const observations: Array<QualityObservation> = []
  runs.forEach((run, index) => {
    if (run.status !== "ok") return
    const atMs = startOf.get(run.traceId) ?? index
    for (const [agent, score] of Object.entries(run.agents)) observations.push({ agent, stimulusId: run.stimulusId, atMs, failed: score < threshold })
  })
  const quality = detectQualitySignals(observations, {
    dependsOn: Object.fromEntries(context.workspace.agents.map((a) => [a.id, a.dependsOn]))
  }).map((signal) => ({ kind: signal.kind, agents: [...signal.agents], description: signal.description, stimuli: [...signal.stimuli] }))
  return [...infrastructure, ...quality]
}

/** The memory driver, refusing to list a whole scan and recording how many traces each page read returned. */
const pagedStore = Effect.gen(function*() {
  const storage = yield* MemoryStorage.make
  yield* storage.scanTrace.insertTraces(workspaceId, traces)
  const pages: Array<number> = []
  const repo: ScanTraceRepo["Service"] = {
    ...storage.scanTrace,
    traces: () => Effect.die("Diagnose read every trace of the scan at once"),
    tracesPage: (ws, scan, page) => Effect.tap(storage.scanTrace.tracesPage(ws, scan, page), (rows) => Effect.sync(() => void pages.push(rows.length)))
  }
  return { repo, pages, all: yield* storage.scanTrace.traces(workspaceId, scanId) }
})

describe("Diagnose's systemic signals, page by page", () => {
  it.effect("equal the all-at-once signals for every page size, reading no more than a page at a time", () =>
    Effect.gen(function*() {
      const { all } = yield* pagedStore
      const expected = allAtOnce(all)
      // The scenario shows every kind of signal, and the candidate arm would change them if it leaked in.
      assert.deepStrictEqual(
        [...new Set(expected.map((s) => s.kind))].sort(),
        ["correlated_failure", "correlated_quality_failure", "failure_rate_step", "latency_cliff", "rate_limit_bunching"]
      )
      assert.notDeepEqual(allAtOnce(all, "every arm"), expected)
      for (const pageSize of [1, 7, 20, 60, 61, 500]) {
        const { pages, repo } = yield* pagedStore
        const signals = yield* scanSignals(context, runs, repo, pageSize)
        assert.deepStrictEqual(signals, expected, `page size ${pageSize}`)
        assert.isTrue(pages.every((n) => n <= pageSize), `page size ${pageSize}: pages ${pages.join(",")}`)
        assert.strictEqual(pages.reduce((s, n) => s + n, 0), stimuli, `page size ${pageSize}: every baseline trace read once`)
        assert.strictEqual(pages.length, Math.floor(stimuli / pageSize) + 1, `page size ${pageSize}: pages read`)
      }
    }))

  it.effect("keeps one observation per baseline agent run and one start time per baseline trace", () =>
    Effect.gen(function*() {
      const { all, repo } = yield* pagedStore
      const summary = yield* baselineTraceSummary(repo, workspaceId, scanId, 7)
      const baseline = all.filter((t) => t.arm === "baseline")
      assert.deepStrictEqual(summary.observations, observationsFromScanTraces(baseline))
      assert.strictEqual(summary.startOf.size, stimuli)
      assert.strictEqual(summary.startOf.get("baseline-s3"), t0 + 30_000)
    }))

  it.effect("a scan without baseline traces has no trace signals", () =>
    Effect.gen(function*() {
      const { repo } = yield* pagedStore
      const summary = yield* baselineTraceSummary(repo, workspaceId, "scan-without-traces", 7)
      assert.deepStrictEqual(summary.observations, [])
      assert.strictEqual(summary.startOf.size, 0)
    }))
})
