/**
 * What counts as a score in optimization: an answer that did not parse scores what the world model
 * gives it (0); a stimulus that could not be run at all (infrastructure failure) is no score and is
 * left out — of a strategy's working-set evaluation, of the paired delta and of the tournament's
 * vectors. An output an objective scorer cannot decode is an absent answer, not a crash.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { OptimizationVector } from "../../src/contracts/index.ts"
import type { ArmMeasurement, RunMeasurement } from "../../src/measurement/Measurement.ts"
import { pairedMeanDelta, runTournament, scoredByBoth, vectorValue } from "../../src/optimize/Tournament.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { Plugin } from "../../src/plugin/Plugin.ts"
import type { ObjectiveScorer } from "../../src/plugin/ScorerRegistry.ts"
import { selectStrategies, type Strategy, type WorkingSetEvaluation, withAgent } from "../../src/strategies/Strategy.ts"
import { TOY_FLAKY_MARKER, toyEvalSet, toyModel, toyProvider, toyWorkspace } from "./ToyTeam.ts"

const run = (stimulusId: string, blended: number | undefined, output?: string): RunMeasurement => ({
  stimulusId,
  epoch: 0,
  traceId: `t-${stimulusId}`,
  status: blended === undefined ? "infra_failure" : "ok",
  ...(blended === undefined ? {} : { blended }),
  passed: (blended ?? 0) >= 0.8,
  agents: {},
  worldDimensions: {},
  rubricDimensions: {},
  ...(output !== undefined ? { output } : {}),
  agentOutputs: {},
  truncatedAgents: [],
  costUsd: 0,
  latencyMs: 0
})
const arm = (name: string, runs: ReadonlyArray<RunMeasurement>): ArmMeasurement => ({ arm: name, runs })
const quality: OptimizationVector = { name: "quality", kind: "quality", direction: "maximize", weight: 1 }

describe("scores in the tournament", () => {
  it("an objective scorer is handed an undecodable output as absent, and the scan goes on", () => {
    const seen: Array<unknown> = []
    const scorer: ObjectiveScorer = { name: "acme/brevity", description: "", score: (_s, output) => (seen.push(output), output === undefined ? 0 : 1) }
    const vector: OptimizationVector = { name: "brevity", kind: "custom", direction: "maximize", weight: 1 }
    const value = vectorValue(vector, arm("c", [run("s1", 0.9, "{\"total\": 12}"), run("s2", 0.9, "not json {"), run("s3", 0.9, "[1, 2]")]), new Set(["s1", "s2", "s3"]), [scorer], new Map())
    assert.closeTo(value!, 1 / 3, 1e-12)
    assert.deepStrictEqual(seen, [{ total: 12 }, undefined, undefined])
  })

  it("the paired delta and the vectors leave out a stimulus an arm could not run", () => {
    const baseline = arm("b", [run("s1", 0.5), run("s2", 0.5), run("s3", 0.5), run("s4", 0)])
    const candidate = arm("c", [run("s1", 0.5), run("s2", 0.5), run("s3", 0.5), run("s4", undefined)])
    const ids = new Set(["s1", "s2", "s3", "s4"])
    assert.strictEqual(pairedMeanDelta(baseline, candidate, ids), 0)
    const paired = scoredByBoth(baseline, candidate, ids)
    assert.deepStrictEqual([...paired], ["s1", "s2", "s3"])
    // On the stimuli both scored, the candidate is no better than the baseline.
    assert.strictEqual(vectorValue(quality, baseline, paired, [], new Map()), vectorValue(quality, candidate, paired, [], new Map()))
  })

  it("an answer that did not parse scores 0 (the world model's verdict), not absent", () => {
    const parseFailure: RunMeasurement = { ...run("s2", 0), status: "parse_failure" }
    assert.closeTo(vectorValue(quality, arm("c", [run("s1", 1), parseFailure]), new Set(["s1", "s2"]), [], new Map())!, 0.5, 1e-12)
  })
})

describe("the tournament's pairing", () => {
  it.effect("each candidate meets the baseline on the stimuli both scored: all of them, or those it could run", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "none" })
      const samples = toyEvalSet(6).samples
      const ids = samples.map((s) => s.id)
      // The baseline is strong exactly where the flaky candidate could not run.
      const baselineScores = [0.2, 0.4, 0.6, 0.8, 1, 0]
      const baselineArm = arm("baseline", ids.map((id, i) => run(id, baselineScores[i])))
      const team = (temperature: number) =>
        withAgent(workspace.agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters })), workspace.agents[0]!.id, (a) => ({ ...a, hyperparameters: { ...a.hyperparameters, temperature } }))
      const steady = { id: "steady", strategy: "s1", rationale: "", agents: team(0.1), changed: [workspace.agents[0]!.id] }
      const flaky = { id: "flaky", strategy: "s2", rationale: "", agents: team(0.2), changed: [workspace.agents[0]!.id] }
      for (const pool of [[steady, flaky], [flaky, steady]]) {
        const result = yield* runTournament<never>({
          framework: { ...workspace.framework, objective: { ...workspace.framework.objective, vectors: [quality] }, optimization: { ...workspace.framework.optimization, maxRounds: 1 } },
          seed: 3,
          baselineAgents: team(workspace.agents[0]!.hyperparameters.temperature),
          baseline: baselineArm,
          pool,
          working: samples,
          scorers: [],
          inputs: new Map(),
          seen: new Set(),
          measure: (c, todo) => Effect.succeed(arm(c.id, todo.map((s) => run(s.id, c.id === "flaky" && (s.id === ids[3] || s.id === ids[4]) ? undefined : 0.7)))),
          fitsWithHoldoutReserve: () => Effect.succeed(true),
          budgetExhausted: () => false
        })
        const finalist = (id: string) => result.finalists.find((f) => f.candidateId === id)!
        assert.closeTo(finalist("steady").vectors[0]!.baseline, 0.5, 1e-12, "all six stimuli")
        assert.closeTo(finalist("steady").workingDelta, 0.2, 1e-12)
        assert.closeTo(finalist("flaky").vectors[0]!.baseline, 0.3, 1e-12, "the four the flaky candidate ran")
        assert.closeTo(finalist("flaky").workingDelta, 0.4, 1e-12)
        assert.strictEqual(result.best?.candidate.id, "flaky", "the better paired improvement wins")
      }
    }))
})

describe("a strategy's working-set evaluation", () => {
  it.effect("leaves out stimuli that failed for infrastructure reasons instead of scoring them 0", () => {
    let evaluation: WorkingSetEvaluation | undefined
    const probe: Strategy = {
      name: "probe",
      description: "evaluates a configuration whose provider fails on every third order",
      propose: (input) =>
        Effect.gen(function*() {
          const flaky = withAgent(input.current, "calculator", (a) => ({ ...a, template: { ...a.template, basePrompt: `${a.template.basePrompt} ${TOY_FLAKY_MARKER}` } }))
          evaluation = yield* input.evaluate(flaky)
          return []
        })
    }
    return Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "none" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
      const e = evaluation!
      const orderOf = (id: string) => Number(id.replace("order-", ""))
      assert.isTrue(e.stimuli.every((s) => orderOf(s.stimulusId) % 3 !== 0), "no infra failure among the scored stimuli")
      assert.isAbove(e.infraFailures.length, 0)
      assert.isTrue(e.infraFailures.every((id) => orderOf(id) % 3 === 0))
      // Nothing is broken otherwise: every stimulus that ran is right.
      assert.strictEqual(e.score, 1)
      assert.strictEqual(e.passRate, 1)
    }).pipe(
      Effect.provide(
        ScanEngine.layer(undefined, [Plugin.make({ name: "test", strategies: [probe] }), selectStrategies(["test/probe"])]).pipe(
          Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("none")))
        )
      )
    )
  })
})
