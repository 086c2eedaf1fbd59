/**
 * The two authorities end to end, on the toy team: ids that collide keep both values, and a judge
 * that fails is counted, quarantined and never blended as if it had scored.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Workspace } from "../../src/contracts/index.ts"
import type { ObserveOutput } from "../../src/pipeline/Observe.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import type { VerdictOutput } from "../../src/pipeline/Verdict.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const scanWith = (workspace: Workspace, judge: (user: string) => string | undefined) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
    const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)
    return { outcome, traces, observe: outputs.get("observe") as ObserveOutput, verdict: outputs.get("verdict") as VerdictOutput }
  }).pipe(
    Effect.provide(ScanEngine.layer().pipe(
      Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("reader", { judge })))
    ))
  )

/** The toy world scores the dimension `total`; this rubric calls its own dimension `total` too. */
const colliding = (): Workspace => {
  const base = toyWorkspace({ broken: "reader" })
  return {
    ...base,
    id: "toy-colliding",
    framework: { ...base.framework, rubrics: [{ id: "orders", name: "Orders", dimensions: [{ id: "total", name: "Total", description: "The total reads well.", weight: 1 }] }] }
  }
}

describe("two authorities kept apart", () => {
  it.effect("a rubric dimension with a world-model dimension's id overwrites nothing: both values reach runs, composite and gates", () =>
    Effect.gen(function*() {
      // The judge gives every answer 0.5 on "total", whatever the ground truth says.
      const { observe, verdict } = yield* scanWith(colliding(), () => JSON.stringify({ scores: { total: 0.5 }, explanation: "Half right." }))
      const runs = observe.baseline.runs.filter((r) => r.status === "ok")
      assert.isAbove(runs.length, 30)
      for (const run of runs) {
        assert.strictEqual(run.rubricDimensions["total"], 0.5)
        assert.include([0, 1], run.worldDimensions["total"])
      }
      // Ground truth fails some (the reader is broken), the judge's 0.5 never changes that.
      assert.isTrue(runs.some((r) => r.worldDimensions["total"] === 0))
      assert.isTrue(runs.some((r) => r.worldDimensions["total"] === 1))
      const perDimension = verdict.composite.perDimension
      assert.includeMembers(Object.keys(perDimension), ["world_model:total", "rubric:total"])
      assert.strictEqual(perDimension["rubric:total"]!._tag, "Present")
      assert.notStrictEqual((perDimension["world_model:total"] as { value: number }).value, 0.5)
    }))

  it.effect("a judge that always fails: every trace is a judge failure with its reason, quarantined, and the scan is not go", () =>
    Effect.gen(function*() {
      const base = toyWorkspace({ broken: "reader" })
      const { outcome, traces } = yield* scanWith({ ...base, id: "toy-judge-down" }, () => undefined)
      const answered = traces.filter((t) => t.status === "ok")
      assert.isAbove(answered.length, 30)
      for (const trace of answered) assert.include(trace.judgeFailure ?? "", "judge call failed")
      assert.strictEqual(outcome.diagnosis.quarantine.judgeFailures.length, answered.length)
      assert.deepStrictEqual(outcome.diagnosis.clusters, [])
      assert.notStrictEqual(outcome.verdict.outcome, "go")
      // The change set does not say the configuration is validated.
      assert.strictEqual(outcome.changeSet?.status, "rejected")
      assert.strictEqual(outcome.changeSet?.explainability.summary, "Not validated: the verdict is no_go (the judge failed on 100.0% of stimuli: most have no rubric score, so there is no blended score to decide on).")
      assert.strictEqual(outcome.verdict.outcome, "no_go")
      const judge = outcome.verdict.checks.find((c) => c.check === "judge_failure_rate")!
      assert.strictEqual(judge.status, "fail")
      assert.strictEqual(judge.reason, "the judge failed on 100.0% of stimuli: most have no rubric score, so there is no blended score to decide on")
      // No blended score is reported as if the judge had scored.
      assert.isUndefined(outcome.scan.blendedScore)
    }))

  it.effect("a lenient judge: its agreement with ground truth is measured and cautions, and what it missed is listed", () =>
    Effect.gen(function*() {
      // The judge passes every answer on "total"; ground truth fails the broken reader's misreads.
      const { outcome, traces } = yield* scanWith(colliding(), () => JSON.stringify({ scores: { total: 1 }, explanation: "Looks right." }))
      const judge = outcome.verdict.checks.find((c) => c.check === "judge:total")!
      assert.strictEqual(judge.status, "caution")
      assert.match(judge.reason, /^the judge agrees with ground truth on total for \d+\.\d% \[\d+\.\d%, \d+\.\d%\] of \d+ judged answers \(κ 0\.00, lenient by \+\d+\.\d pts\): below 70\.0%$/)
      assert.notStrictEqual(outcome.verdict.outcome, "go")
      // Every baseline answer the world model failed is in the diagnosis as missed by the judge.
      const failedByWorld = traces.filter((t) => t.arm === "baseline" && t.status === "ok")
      assert.isAbove(outcome.diagnosis.missedByJudge.length, 0)
      assert.isAtMost(outcome.diagnosis.missedByJudge.length, failedByWorld.length)
      assert.deepStrictEqual(outcome.diagnosis.clusters, [])
      assert.isTrue(outcome.changeSet!.explainability.reasoning.some((line) => line.startsWith(`Missed by the judge: ${outcome.diagnosis.missedByJudge.length} answer`)))
    }))
})
