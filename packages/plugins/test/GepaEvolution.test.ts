/**
 * When `plugin/gepa` proposes nothing, it says why: the reason names the actual cause (no blamed
 * agent, no failures to reflect on, the model failing, every rewrite rejected, rewrites that beat
 * their parent but not the current instruction), and a budget that stopped it before anything was
 * judged is the BudgetExhausted itself. Against a scripted working set and model.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import {
  BudgetExhausted,
  BudgetLedger,
  CompletionFailed,
  EventBus,
  MemoryStorage,
  type OptimizeOutput,
  ScanEngine,
  ScanOrchestrator,
  ScanRepo,
  selectStrategies,
  type StrategyInput,
  type WorkingSetEvaluation,
  WorkspaceRepo
} from "@spectral/engine"
import type { AgentVersion, FailureCluster } from "@spectral/engine/contracts"
import { gepaEvolution } from "../src/GepaEvolution.ts"
import { OptimizerPlugins } from "../src/index.ts"
import { toyModel, toyProvider, toyWorkspace } from "../../engine/test/optimize/ToyTeam.ts"

const calculator = {
  agentId: "calculator",
  version: 1,
  template: { basePrompt: "Compute the total.", guidance: [] },
  hyperparameters: { provider: "toy", model: "toy", temperature: 0.7, maxTokens: 200 }
} as unknown as AgentVersion

const cluster = {
  id: "c1",
  label: "total is wrong",
  memberTraceIds: ["t1", "t2", "t3"],
  actionable: true,
  agentBlame: { calculator: 1 }
} as unknown as FailureCluster

const stimuli = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, segment: i % 2 === 0 ? "even" : "odd", input: `order ${i}` }))

interface Script {
  /** Score of a stimulus under an instruction (1 passes). */
  readonly score?: (instruction: string, stimulusId: string, slice: boolean) => number
  readonly complete?: (calls: number) => Effect.Effect<string, BudgetExhausted | CompletionFailed>
  readonly evaluate?: (calls: number) => Effect.Effect<void, BudgetExhausted>
  readonly clusters?: ReadonlyArray<FailureCluster>
}

const settings = { generations: 4, minibatch: 4, paretoSlice: 4, keep: 2 }

const inputFor = (script: Script): { input: StrategyInput; completions: () => number } => {
  let completions = 0
  let evaluations = 0
  const paretoIds = new Set<string>()
  const input = {
    workspaceId: "ws",
    strategyName: "plugin/gepa",
    agents: [{ id: "calculator", role: "calculates totals" }],
    current: [calculator],
    finalAgentIds: ["calculator"],
    currentChangeSet: null,
    clusters: script.clusters ?? [cluster],
    agentFailureRates: {},
    agentBlame: { calculator: 1 },
    passingExamples: [],
    failingExamples: [],
    workingStimuli: stimuli,
    bounds: {},
    seed: 3,
    budget: { maxCandidates: 4, maxModelCalls: 8, maxEvaluations: 200 },
    complete: () => Effect.suspend(() => (script.complete ?? ((n) => Effect.succeed(`Compute the total, version ${n}.`)))(++completions)),
    evaluate: (team: ReadonlyArray<AgentVersion>, ids?: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        yield* (script.evaluate ?? (() => Effect.void))(++evaluations)
        const instruction = team.find((a) => a.agentId === "calculator")!.template.basePrompt
        const chosen = stimuli.filter((s) => ids === undefined || ids.includes(s.id))
        // The first evaluation is the seed on the Pareto slice: those ids are the slice.
        if (evaluations === 1) for (const s of chosen) paretoIds.add(s.id)
        const scored = chosen.map((s) => {
          const score = (script.score ?? (() => 0.5))(instruction, s.id, paretoIds.has(s.id))
          return { stimulusId: s.id, segment: s.segment, score, passed: score >= 0.8, explanation: score >= 0.8 ? "fine" : "the total is wrong: it adds the price once too often" }
        })
        const mean = scored.reduce((sum, s) => sum + s.score, 0) / Math.max(1, scored.length)
        return { score: mean, passRate: scored.filter((s) => s.passed).length / Math.max(1, scored.length), stimuli: scored, infraFailures: [] } satisfies WorkingSetEvaluation
      })
  } as unknown as StrategyInput
  return { input, completions: () => completions }
}

/** What `propose` is typed to need (a model and a ledger); the scripted input never calls them. */
const strategyServices = Layer.mergeAll(BudgetLedger.layer, toyModel("none"))

const failureOf = (script: Script) =>
  Effect.gen(function*() {
    const { completions, input } = inputFor(script)
    const exit = yield* Effect.exit(gepaEvolution(settings).propose(input))
    assert.isTrue(Exit.isFailure(exit), "expected no candidate")
    const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
    return { error: error as { readonly _tag: string; readonly reason?: string; readonly detail?: string; readonly message?: string }, completions: completions() }
  }).pipe(Effect.provide(strategyServices))

describe("plugin/gepa says why it proposes nothing", () => {
  it.effect("no cluster blamed on an agent: no_blamed_agent", () =>
    Effect.gen(function*() {
      const { error } = yield* failureOf({ clusters: [] })
      assert.strictEqual(error._tag, "NoCandidate")
      assert.strictEqual(error.reason, "no_blamed_agent")
    }))

  it.effect("the current instruction fails nothing on any minibatch: no failures to reflect on, and no rewrite asked", () =>
    Effect.gen(function*() {
      const { completions, error } = yield* failureOf({ score: () => 1 })
      assert.strictEqual(error._tag, "NoCandidate")
      assert.strictEqual(error.reason, "no_failures_to_reflect_on")
      assert.match(error.detail!, /^no failures to reflect on: .* 4 minibatch\(es\)/)
      assert.strictEqual(completions, 0)
    }))

  it.effect("rewrites that never beat their parent: all rewrites rejected, with the count", () =>
    Effect.gen(function*() {
      const { completions, error } = yield* failureOf({ score: () => 0.5 })
      assert.strictEqual(error._tag, "NoCandidate")
      assert.strictEqual(error.reason, "rewrites_rejected")
      assert.strictEqual(completions, 4)
      assert.match(error.detail!, /^all 4 rewrite\(s\) were rejected: 4 did not beat their parent on the minibatch$/)
    }))

  it.effect("a model that repeats itself or answers nothing: rejected as empty or repeated", () =>
    Effect.gen(function*() {
      const { error } = yield* failureOf({ complete: (n) => Effect.succeed(n % 2 === 0 ? "" : "Compute the total.") })
      assert.strictEqual(error.reason, "rewrites_rejected")
      assert.match(error.detail!, /4 were empty or repeated an instruction already tried/)
    }))

  it.effect("a model that fails every rewrite: model_failed, naming the failure", () =>
    Effect.gen(function*() {
      const { error } = yield* failureOf({ complete: () => Effect.fail(new CompletionFailed({ strategy: "plugin/gepa", kind: "infra", message: "connection refused" })) })
      assert.strictEqual(error.reason, "model_failed")
      assert.match(error.detail!, /failed to write any of 4 rewrite\(s\) \(last: infra failure: connection refused\)/)
    }))

  it.effect("rewrites that beat their parent on a minibatch but not the current instruction on the slice: no_improvement_on_slice", () =>
    Effect.gen(function*() {
      const { error } = yield* failureOf({ score: (instruction, _id, slice) => (instruction.includes("version") ? (slice ? 0.2 : 0.7) : 0.5) })
      assert.strictEqual(error.reason, "no_improvement_on_slice")
      assert.match(error.detail!, /rewrite\(s\) beat their parent on a minibatch but none beat the current instruction \(50\.0\) on the 4-stimulus working slice/)
    }))

  it.effect("rewrites rejected and then the budget refused: both are said", () =>
    Effect.gen(function*() {
      const refusal = new BudgetExhausted({ phase: "optimize", message: "scan budget exhausted during optimize (the calls limit would be passed)" })
      const { error } = yield* failureOf({ complete: (n) => (n >= 3 ? Effect.fail(refusal) : Effect.succeed(`Compute the total, version ${n}.`)) })
      assert.strictEqual(error.reason, "rewrites_rejected")
      assert.match(error.detail!, /^all 2 rewrite\(s\) were rejected: 2 did not beat .*; then the budget stopped the search \(scan budget exhausted/)
    }))

  it.effect("a budget that refuses before anything is judged is the BudgetExhausted itself", () =>
    Effect.gen(function*() {
      const refusal = new BudgetExhausted({ phase: "optimize", message: "plugin/gepa: no evaluations left" })
      const { error } = yield* failureOf({ evaluate: () => Effect.fail(refusal) })
      assert.strictEqual(error._tag, "BudgetExhausted")
      assert.strictEqual(error.message, "plugin/gepa: no evaluations left")
    }))

  it.effect("a rewrite that helps everywhere is a candidate, not a reason", () =>
    Effect.gen(function*() {
      const { input } = inputFor({ score: (instruction) => (instruction.includes("version") ? 0.9 : 0.5) })
      const candidates = yield* gepaEvolution(settings).propose(input).pipe(Effect.provide(strategyServices))
      assert.isAbove(candidates.length, 0)
      assert.strictEqual(candidates[0]!.strategy, "plugin/gepa")
    }))
})

describe("plugin/gepa's reason in a scan's decision log", () => {
  it.effect("a team with nothing blamed on an agent logs GEPA's own reason, not a generic one", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "none" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5, concurrency: 4 })
      const optimize = (yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)).get("optimize") as OptimizeOutput
      const entry = optimize.decisionLog.find((e) => e.strategy === "plugin/gepa")
      assert.deepStrictEqual(entry && [entry.outcome, entry.reason], ["no_candidate", "no failure cluster is blamed on an agent, so there is no instruction to evolve"], JSON.stringify(optimize.decisionLog))
    }).pipe(
      Effect.provide(
        ScanEngine.layer(undefined, [OptimizerPlugins, selectStrategies(["plugin/gepa"])]).pipe(
          Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("none")))
        )
      )
    ))
})
