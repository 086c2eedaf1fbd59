/**
 * The Verdict phase as a scan runs it: what it hands the gates (the framework's hard constraints,
 * whether the tournament selected the candidate on the working set) and what `verdict.issued` says.
 * The phase runs on the in-memory bus with a scan repository that only keeps the verdict.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import type { CalibrationRecord, CompositeScore, EvalSet, HardConstraint, VerdictResult } from "../../src/contracts/index.ts"
import { VerdictEngine } from "../../src/gates/VerdictEngine.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import { ScanRepo } from "../../src/ports/Repositories.ts"
import type { ArmMeasurement, RunMeasurement } from "../../src/measurement/Measurement.ts"
import type { ObserveOutput } from "../../src/pipeline/Observe.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"
import { buildChangeSet, changeSetIdFor } from "../../src/pipeline/Complete.ts"
import { Verdict } from "../../src/pipeline/Verdict.ts"
import { thresholds } from "./fixtures.ts"

const WORKING = 60
const HOLDOUT = 40

const idsOf = (holdout: number) => [...Array.from({ length: WORKING }, (_, i) => ({ id: `w${i}`, holdout: false })), ...Array.from({ length: holdout }, (_, i) => ({ id: `h${i}`, holdout: true }))]

const evalSetOf = (holdout: number) => ({
  id: "es",
  samples: idsOf(holdout).map((s) => ({ id: s.id, stimulusWeight: 1, holdoutLayer: s.holdout ? "random_holdout" : "working", provenance: "rule_grounded" })),
  attribution: { authority: { worldModelId: "w", worldModelVersion: "1", ruleSetHash: "h" } }
}) as unknown as EvalSet

const run = (stimulusId: string, blended: number, extra: Partial<RunMeasurement> = {}): RunMeasurement => ({
  stimulusId,
  epoch: 0,
  traceId: `t:${stimulusId}`,
  status: "ok",
  blended,
  worldModel: blended,
  rubric: blended,
  passed: blended >= 0.5,
  agents: {},
  worldDimensions: {},
  rubricDimensions: {},
  agentOutputs: {},
  truncatedAgents: [],
  costUsd: 0.002,
  latencyMs: 100,
  ...extra
})

const level = (i: number) => 0.4 + 0.4 * ((i * 0.6180339887) % 1)
const wobble = (i: number) => [0.03, -0.03, 0.01, -0.01][i % 4]!

/** An arm: the baseline level plus `working` on working stimuli and `holdout` on holdout ones. */
const armOf = (name: string, working: number, holdout: number, extra: Partial<RunMeasurement> = {}, holdoutCount = HOLDOUT): ArmMeasurement => ({
  arm: name,
  runs: idsOf(holdoutCount).map((s, i) => run(s.id, level(i) + (s.holdout ? holdout : working) + (name === "baseline" ? 0 : wobble(i)), extra))
})

export interface Setup {
  readonly mode?: string
  readonly previousVersion?: number
  readonly hardConstraints?: ReadonlyArray<HardConstraint>
  readonly candidate?: ArmMeasurement | null
  readonly holdout?: number
}

const runPhase = (setup: Setup) =>
  Effect.gen(function*() {
    const saved = yield* Ref.make<VerdictResult | undefined>(undefined)
    const repo = Layer.succeed(ScanRepo, ScanRepo.of({ saveVerdict: (v: VerdictResult) => Ref.set(saved, v) } as unknown as ScanRepo["Service"]))
    const context = {
      workspace: {
        id: "ws",
        autonomy: { mode: setup.mode ?? "manual", killSwitch: false },
        framework: { id: "f", version: 1, verdict: { ...thresholds, minSamples: 30 }, objective: { worldModelWeight: 0.5, vectors: [] }, hardConstraints: setup.hardConstraints ?? [] }
      },
      scan: { id: "scan-1", seed: 3 },
      baseline: [],
      previousChangeSet: setup.previousVersion === undefined ? undefined : { id: `ws:cs:${setup.previousVersion}`, version: setup.previousVersion }
    } as unknown as ScanContext
    const holdout = setup.holdout ?? HOLDOUT
    const observe: ObserveOutput = { evalSet: evalSetOf(holdout), baseline: armOf("baseline", 0, 0, {}, holdout) }
    const candidate = setup.candidate === undefined ? armOf("candidate", 0.05, 0.05, {}, holdout) : setup.candidate
    const optimize: OptimizeOutput = {
      winner: candidate === null ? null : { candidate: { id: "c1", strategy: "builtin/few_shot", rationale: "examples", changed: ["intake"], agents: [] } as never, measurement: candidate, workingDelta: 0.05 },
      decisionLog: [],
      budgetExhausted: false
    }
    const composite = { convergenceDelta: { _tag: "Absent", reason: "none" } } as unknown as CompositeScore
    const output = yield* Effect.gen(function*() {
      const phase = yield* Verdict
      const out = yield* phase.run(context, observe, { resamples: 999 } as CalibrationRecord, composite, optimize, { checked: candidate !== null, violations: [] })
      const events = yield* (yield* EventBus).published
      return { out, events }
    }).pipe(Effect.provide(Verdict.layer.pipe(Layer.provideMerge(Layer.mergeAll(VerdictEngine.layer, EventBus.layerMemory, repo)))))
    return { ...output, context, observe, optimize, saved: yield* Ref.get(saved) }
  })

describe("Verdict phase", () => {
  it.effect("passes the framework's hard constraints to the gates: a violated one is a failed check and no_go", () =>
    Effect.gen(function*() {
      const { out } = yield* runPhase({ hardConstraints: [{ metric: "cost_usd_per_stimulus", op: "<=", value: 0.001 }] })
      const c = out.verdict.checks.find((x) => x.gate === "hard_constraints")!
      assert.strictEqual(c.status, "fail", c.reason)
      assert.strictEqual(c.check, "cost_usd_per_stimulus <= 0.001")
      assert.strictEqual(out.verdict.outcome, "no_go")
      const met = yield* runPhase({ hardConstraints: [{ metric: "cost_usd_per_stimulus", op: "<=", value: 0.01 }] })
      assert.strictEqual(met.out.verdict.checks.find((x) => x.gate === "hard_constraints")!.status, "pass")
      assert.strictEqual(met.out.verdict.outcome, "go", met.out.verdict.explanation)
    }))

  it.effect("verdict.issued names the change set the scan will create (next version), null under observe_only", () =>
    Effect.gen(function*() {
      const issued = (events: ReadonlyArray<{ type: string; payload: unknown }>) =>
        (events.find((e) => e.type === "verdict.issued")!.payload as { changeSetId: string | null }).changeSetId
      const first = yield* runPhase({})
      assert.strictEqual(issued(first.events), "ws:cs:1")
      const third = yield* runPhase({ previousVersion: 2 })
      assert.strictEqual(issued(third.events), "ws:cs:3")
      // The id the completion step gives the change set it builds from the same context.
      const diagnosis = { clusters: [], failingCount: 0, quarantine: { infraFailures: [], parseFailures: [], judgeFailures: [] }, missedByJudge: [] } as never
      const built = buildChangeSet(third.context, third.observe, diagnosis, third.optimize, { checked: true, violations: [] }, third.out.verdict, "2025-01-01T00:00:00.000Z", { id: "evalset", version: 1 })
      assert.strictEqual(issued(third.events), built.id)
      assert.strictEqual(changeSetIdFor(third.context), built.id)
      // No candidate: a validated change set is still created (and named).
      assert.strictEqual(issued((yield* runPhase({ previousVersion: 2, candidate: null })).events), "ws:cs:3")
      assert.isNull(issued((yield* runPhase({ mode: "observe_only", previousVersion: 2 })).events))
    }))

  it.effect("a tournament winner is judged on the synthetic holdout: a working-set gain that does not carry over is no go", () =>
    Effect.gen(function*() {
      const { out } = yield* runPhase({ candidate: armOf("candidate", 0.08, 0) })
      const delta = out.verdict.checks.find((x) => x.gate === "delta_threshold")!
      assert.strictEqual(delta.status, "fail", delta.reason)
      assert.include(delta.reason, "on the synthetic holdout (40 stimuli; the candidate was selected on the working set)")
      assert.include(out.verdict.checks.find((x) => x.gate === "bootstrap_ci")!.reason, "synthetic holdout")
      assert.strictEqual(out.verdict.outcome, "no_go")
      // The holdout too small to judge on (fewer than minSamples / 2 = 15): caution, not go.
      const small = yield* runPhase({ holdout: 10, candidate: armOf("candidate", 0.05, 0.05, {}, 10) })
      assert.strictEqual(small.out.verdict.outcome, "caution")
      assert.include(small.out.verdict.checks.find((x) => x.gate === "bootstrap_ci")!.reason, "fewer than 15 (minSamples / 2)")
    }))
})

