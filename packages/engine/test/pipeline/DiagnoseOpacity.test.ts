/**
 * Two-authority opacity at Diagnose: what the clusterer receives is decided by the rubric authority
 * alone. Changing only the world-model scores of the runs changes nothing the clusterer sees.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { EvalSet } from "../../src/contracts/index.ts"
import type { FailureClustering, FailureClusteringInput } from "../../src/clustering/FailureClustering.ts"
import { diagnose } from "../../src/pipeline/Diagnose.ts"
import type { RunMeasurement } from "../../src/measurement/Measurement.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"

const context = {
  workspace: { id: "ws", framework: { passThreshold: 0.8 } },
  scan: { id: "scan-1", seed: 1 },
  agents: [{ id: "intake", dependsOn: [], groundTruthKey: "facts" }, { id: "advisor", dependsOn: ["intake"] }],
  finalAgentIds: ["advisor"]
} as unknown as ScanContext

const evalSet = { samples: [{ id: "s1", segment: "a" }, { id: "s2", segment: "b" }, { id: "s3", segment: "c" }] } as unknown as EvalSet

const run = (id: string, rubric: number, worldModel: number, intakeScore: number): RunMeasurement => ({
  stimulusId: id,
  epoch: 0,
  traceId: `t-${id}`,
  status: "ok",
  worldModel,
  rubric,
  blended: 0.6 * worldModel + 0.4 * rubric,
  passed: false,
  agents: { intake: intakeScore, advisor: worldModel },
  worldDimensions: {},
  rubricDimensions: {},
  explanation: `Answered single where head of household applies (${id}).`,
  agentOutputs: {},
  truncatedAgents: [],
  costUsd: 0,
  latencyMs: 0
})

const clusteredInput = (runs: ReadonlyArray<RunMeasurement>) =>
  Effect.gen(function*() {
    let seen: FailureClusteringInput | undefined
    const capture = (input: FailureClusteringInput) =>
      Effect.sync((): FailureClustering => {
        seen = input
        return { clusters: [], k: 0, inertia: 0, evaluatedCount: input.evaluatedCount, failureCount: input.failures.length, skipped: [], adjusted: [] }
      })
    yield* diagnose(context, evalSet, runs, capture)
    return seen
  })

describe("Diagnose keeps world-model outputs away from the clusterer", () => {
  it.effect("the clusterer's input is the same whatever the world-model scores are", () =>
    Effect.gen(function*() {
      const rubricOnly = [run("s1", 0.3, 0, 0.5), run("s2", 0.95, 1, 1), run("s3", 0.4, 0, 1)]
      const worldChanged = [run("s1", 0.3, 1, 1), run("s2", 0.95, 0, 0.2), run("s3", 0.4, 1, 0.5)]
      const a = yield* clusteredInput(rubricOnly)
      const b = yield* clusteredInput(worldChanged)
      assert.isDefined(a)
      assert.deepStrictEqual(a, b)
      assert.deepStrictEqual(a!.failures.map((f) => f.traceId), ["t-s1", "t-s3"], "chosen by the rubric's pass threshold")
      for (const failure of a!.failures) {
        assert.deepStrictEqual(Object.keys(failure).sort(), ["explanation", "rubricScore", "traceId"], "nothing but rubric outputs")
      }
    }))
})
