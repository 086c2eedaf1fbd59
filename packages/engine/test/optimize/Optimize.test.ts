import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { BudgetLedger } from "../../src/agents/BudgetLedger.ts"
import type { AgentVersion, Workspace } from "../../src/contracts/index.ts"
import { summarizeByStimulus } from "../../src/measurement/Measurement.ts"
import type { ObserveOutput } from "../../src/pipeline/Observe.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { Plugin } from "../../src/plugin/Plugin.ts"
import { builtinStrategies } from "../../src/strategies/BuiltinStrategies.ts"
import { type Candidate, changedAgents, selectStrategies, type Strategy, type StrategyInput, withAgent } from "../../src/strategies/Strategy.ts"
import { type ToyOptions, toyModel, toyProvider, toyWorkspace } from "./ToyTeam.ts"

const engine = (options: ToyOptions, extensions: Parameters<typeof ScanEngine.layer>[1] = []) =>
  ScanEngine.layer(undefined, extensions).pipe(
    Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(options.size ?? 40), toyModel(options.broken)))
  )

const scan = (workspace: Workspace) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
    return { outcome, observe: outputs.get("observe") as ObserveOutput, optimize: outputs.get("optimize") as OptimizeOutput }
  })

describe("credit assignment across the agent graph", () => {
  it.effect("blames the upstream agent when only it is broken, and only it changes", () =>
    Effect.gen(function*() {
      const options: ToyOptions = { broken: "reader" }
      const { outcome } = yield* scan(toyWorkspace(options)).pipe(Effect.provide(engine(options)))
      assert.isAbove(outcome.diagnosis.clusters.length, 0)
      for (const cluster of outcome.diagnosis.clusters) {
        assert.closeTo(cluster.agentBlame["reader"]!, 1, 1e-9, `cluster ${cluster.label} blamed ${JSON.stringify(cluster.agentBlame)}`)
        assert.isUndefined(cluster.agentBlame["calculator"])
      }
      const changeSet = outcome.changeSet!
      assert.strictEqual(outcome.verdict.outcome, "go")
      assert.strictEqual(changeSet.agents.find((a) => a.agentId === "calculator")!.version, 1, "the calculator is not to blame and keeps its version")
      assert.strictEqual(changeSet.agents.find((a) => a.agentId === "reader")!.version, 2)
      assert.isAtMost(changeSet.agents.find((a) => a.agentId === "reader")!.hyperparameters.temperature, 0.3)
    }))

  it.effect("blames the downstream agent when the upstream output is right", () =>
    Effect.gen(function*() {
      const options: ToyOptions = { broken: "calculator" }
      const { outcome } = yield* scan(toyWorkspace(options)).pipe(Effect.provide(engine(options)))
      assert.isAbove(outcome.diagnosis.clusters.length, 0)
      for (const cluster of outcome.diagnosis.clusters) assert.closeTo(cluster.agentBlame["calculator"]!, 1, 1e-9)
      const changeSet = outcome.changeSet!
      assert.strictEqual(changeSet.agents.find((a) => a.agentId === "reader")!.version, 1)
      assert.strictEqual(changeSet.agents.find((a) => a.agentId === "calculator")!.version, 2)
    }))
})

describe("budget ledger", () => {
  it.effect("a small budget is never exceeded, and the verdict says the budget ran out", () =>
    Effect.gen(function*() {
      // Observe (40 stimuli × 2 agents + 1 judge) and the counterfactuals fit; the tournament does not.
      const budget = { maxCallsPerScan: 200, maxTokensPerScan: 60_000, maxUsdPerScan: 1 }
      const options: ToyOptions = { broken: "reader", budget }
      const { outcome, optimize } = yield* scan(toyWorkspace(options)).pipe(Effect.provide(engine(options)))
      assert.isAtMost(outcome.spend.total.calls, budget.maxCallsPerScan)
      assert.isAtMost(outcome.spend.total.tokens, budget.maxTokensPerScan)
      assert.isAtMost(outcome.spend.total.usd, budget.maxUsdPerScan)
      assert.isTrue(optimize.budgetExhausted)
      assert.match(outcome.verdict.explanation, /budget/i)
      assert.isAbove(outcome.spend.byPhase["observe"]?.calls ?? 0, 0)
      assert.strictEqual(outcome.spend.inFlight.calls, 0)
    }))

  it.effect("a budget too small for the baseline fails the scan without passing the budget", () =>
    Effect.gen(function*() {
      const budget = { maxCallsPerScan: 25, maxTokensPerScan: 1_000_000, maxUsdPerScan: 1 }
      const options: ToyOptions = { broken: "reader", budget }
      const exit = yield* scan(toyWorkspace(options)).pipe(Effect.exit, Effect.provide(engine(options)))
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.effect("a call limit that cannot cover the eval set is refused before Observe calls the model, with the estimate", () =>
    Effect.gen(function*() {
      // 40 stimuli × the team's agents and the judge: more calls than the 60 the budget allows.
      const budget = { maxCallsPerScan: 60, maxTokensPerScan: 1_000_000, maxUsdPerScan: 1 }
      const options: ToyOptions = { broken: "none", budget }
      const workspace = toyWorkspace(options)
      const { failure, stored } = yield* Effect.gen(function*() {
        const failure = yield* Effect.flip(scan(workspace))
        return { failure, stored: yield* (yield* ScanRepo).list(workspace.id) }
      }).pipe(Effect.provide(engine(options)))
      assert.match(
        String((failure as { readonly reason?: unknown }).reason ?? failure.message),
        /cannot cover the eval set: measuring 40 stimuli × 1 epoch\(s\) takes about \d+ model calls .*but 60 of maxCallsPerScan 60 are left/
      )
      assert.strictEqual(stored.length, 1)
      assert.strictEqual(stored[0]!.state, "failed")
      assert.strictEqual(stored[0]!.spend?.total.calls ?? 0, 0)
    }))

  it.effect("concurrent reservations cannot overshoot together", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      yield* ledger.reset({ maxCalls: 10, maxTokens: 1000, maxUsd: 1 })
      const held = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.exit(ledger.reserve("optimize", { tokens: 150, usd: 0 })), { concurrency: "unbounded" })
      assert.strictEqual(held.filter(Exit.isSuccess).length, 6)
      const snapshot = yield* ledger.snapshot
      assert.isTrue(snapshot.exhausted)
      assert.strictEqual(snapshot.exhaustedAt?.limit, "tokens")
    }).pipe(Effect.provide(BudgetLedger.layer)))
})

describe("strategies and plugins", () => {
  it.effect("a plugin strategy runs end to end through Plugin.make and evaluates only working stimuli", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const probe: Strategy = {
        name: "probe",
        description: "lowers the reader's temperature after checking it on the working set",
        propose: (input) =>
          Effect.gen(function*() {
            const team = withAgent(input.current, "reader", (a) => ({ ...a, hyperparameters: { ...a.hyperparameters, temperature: 0.1 } }))
            const evaluation = yield* input.evaluate(team)
            seen.push(...evaluation.stimuli.map((s) => s.stimulusId))
            return [{ id: "probe-cool-reader", strategy: "probe", rationale: `working score ${evaluation.score}`, agents: team, changed: ["reader"] }]
          })
      }
      const options: ToyOptions = { broken: "reader" }
      const { outcome, observe, optimize } = yield* scan(toyWorkspace(options)).pipe(
        Effect.provide(engine(options, [Plugin.make({ name: "test", strategies: [probe] }), selectStrategies(["test/probe"])]))
      )
      const working = new Set(observe.evalSet.samples.filter((s) => s.holdoutLayer === "working").map((s) => s.id))
      assert.isAbove(seen.length, 0)
      assert.isTrue(seen.every((id) => working.has(id)), "evaluate never touches the holdout")
      assert.strictEqual(optimize.winner?.candidate.strategy, "test/probe")
      assert.strictEqual(outcome.verdict.outcome, "go", outcome.verdict.explanation)
    }))

  it.effect("every built-in strategy proposes a candidate that makes the change it names, and the tournament logs each one", () =>
    Effect.gen(function*() {
      // The broken calculator, also sampling hot and shown only the sentence that names the units:
      // evidence every built-in strategy has an answer to (the sampler, the examples, the guidance,
      // the instruction, the reasoning and the context).
      const options: ToyOptions = { broken: "calculator" }
      const toy = toyWorkspace(options)
      const workspace: Workspace = {
        ...toy,
        agents: toy.agents.map((a) =>
          a.id !== "calculator" ? a : {
            ...a,
            template: { ...a.template, contextSelection: { mode: "fields", fields: ["units"], maxChars: 2000, truncation: "tail" } },
            hyperparameters: { ...a.hyperparameters, temperature: 0.9 }
          }
        )
      }
      // The built-ins asked again, by a strategy of the same scan, with the input Optimize built from
      // the scan's observe and diagnose outputs.
      const proposals = new Map<string, ReadonlyArray<Candidate>>()
      let given: StrategyInput | undefined
      const recorder: Strategy = {
        name: "recorder",
        description: "asks every built-in strategy with the scan's own strategy input and records the answers",
        propose: (input) =>
          Effect.gen(function*() {
            given = input
            for (const strategy of builtinStrategies) proposals.set(strategy.name, yield* strategy.propose({ ...input, strategyName: strategy.name }))
            return []
          })
      }
      const { outcome, optimize } = yield* scan(workspace).pipe(Effect.provide(engine(options, [Plugin.make({ name: "test", strategies: [recorder] })])))
      const input = given!
      assert.deepStrictEqual(outcome.diagnosis.clusters.map((c) => Object.keys(c.agentBlame)), outcome.diagnosis.clusters.map(() => ["calculator"]))
      const before = input.current.find((a) => a.agentId === "calculator")!
      const reader = input.current.find((a) => a.agentId === "reader")!

      /** The calculator's configuration in the strategy's candidate that changes it; the reader and everything not named kept. */
      const changedCalculator = (name: string, changes: ReadonlyArray<keyof AgentVersion["template"] | "hyperparameters">) => {
        const candidates = proposals.get(name) ?? []
        assert.isAbove(candidates.length, 0, `${name} proposes a candidate`)
        for (const c of candidates) {
          assert.deepStrictEqual([...changedAgents(input.current, c.agents)], [...c.changed], `${name}'s ${c.id} changes the agents it says it changes`)
        }
        const candidate = candidates.find((c) => c.changed.includes("calculator"))
        assert.isDefined(candidate, `${name} changes the blamed calculator`)
        assert.deepStrictEqual(candidate!.agents.find((a) => a.agentId === "reader"), reader, `${name} keeps the reader, who is not to blame`)
        const after = candidate!.agents.find((a) => a.agentId === "calculator")!
        for (const key of Object.keys(before.template) as Array<keyof AgentVersion["template"]>) {
          if (!changes.includes(key)) assert.deepStrictEqual(after.template[key], before.template[key], `${name} leaves the template's ${key} alone`)
        }
        if (!changes.includes("hyperparameters")) assert.deepStrictEqual(after.hyperparameters, before.hyperparameters, `${name} leaves the sampling settings alone`)
        return { candidate: candidate!, after }
      }

      const shift = changedCalculator("builtin/hyperparameter_shift", ["hyperparameters"]).after.hyperparameters
      assert.isBelow(shift.temperature, before.hyperparameters.temperature, "the hot sampler is cooled")
      assert.isAtLeast(shift.temperature, input.bounds.temperature.min)
      assert.isAtMost(shift.temperature, input.bounds.temperature.max)
      assert.isAtLeast(shift.maxTokens, input.bounds.maxTokens.min)
      assert.isAtMost(shift.maxTokens, input.bounds.maxTokens.max)

      const examples = changedCalculator("builtin/few_shot", ["fewShotExamples"]).after.template.fewShotExamples
      assert.isAbove(examples.length, before.template.fewShotExamples.length)
      const passing = input.passingExamples.filter((e) => e.agentId === "calculator")
      const failingInputs = new Set(input.failingExamples.map((e) => e.input))
      for (const example of examples.slice(before.template.fewShotExamples.length)) {
        const source = passing.find((e) => e.input === example.input)
        assert.isDefined(source, `the example "${example.input}" is a passing working-set run`)
        assert.strictEqual(example.output, source!.output, "with the calculator's own passing answer")
        assert.isFalse(failingInputs.has(example.input))
      }

      const guidance = changedCalculator("builtin/rule_guidance", ["guidance"]).after.template.guidance
      const added = guidance.slice(before.template.guidance.length)
      assert.isAbove(added.length, 0)
      for (const line of added) {
        assert.isTrue(input.clusters.some((c) => line.includes(c.label) && c.representativeExplanations.some((e) => line.includes(e))), `"${line}" is written from a cluster's explanation`)
      }

      const rewritten = changedCalculator("builtin/instruction_rewrite", ["basePrompt", "guidance"]).after.template.basePrompt
      assert.notStrictEqual(rewritten, before.template.basePrompt)
      assert.match(rewritten, /multipl/i, "the instruction is the language model's rewrite")

      const reasoning = changedCalculator("builtin/chain_of_thought", ["chainOfThought"]).after.template.chainOfThought
      assert.strictEqual(before.template.chainOfThought, "none")
      assert.strictEqual(reasoning, "full", "the most blamed agent gets full reasoning")

      const context = changedCalculator("builtin/context_selection", ["contextSelection", "upstreamInjection"]).after.template.contextSelection
      assert.strictEqual(before.template.contextSelection.mode, "fields")
      assert.strictEqual(context.mode, "full", "the whole stimulus instead of the selected sentence")
      assert.isUndefined(context.fields)

      // The same proposals competed in the scan: each is in the decision log under its strategy, one won.
      for (const [name, candidates] of proposals) {
        for (const c of candidates) {
          const entry = optimize.decisionLog.find((d) => d.candidateId === c.id)
          assert.strictEqual(entry?.strategy, name, `${c.id} is logged`)
          assert.include(["won", "lost", "over_budget"], entry!.outcome)
        }
      }
      assert.strictEqual(optimize.decisionLog.filter((d) => d.outcome === "won").length, 1)
      assert.isTrue((optimize.finalists ?? []).some((f) => f.onParetoFront))
    }))
})

describe("re-measure per cluster and repeats", () => {
  it.effect("cluster outcomes report failure rates before and after with a paired interval", () =>
    Effect.gen(function*() {
      const options: ToyOptions = { broken: "reader" }
      const { outcome } = yield* scan(toyWorkspace(options)).pipe(Effect.provide(engine(options)))
      const outcomes = outcome.changeSet!.explainability.clusterOutcomes
      assert.isAbove(outcomes.length, 0)
      for (const o of outcomes) {
        assert.strictEqual(o.failureRateBefore, 1)
        assert.isBelow(o.failureRateAfter, o.failureRateBefore)
        assert.isNotNull(o.change)
        assert.isBelow(o.change!.high, 0)
      }
    }))

  it.effect("with epochs, scores are per stimulus (mean of runs) and the interval resamples stimuli", () =>
    Effect.gen(function*() {
      const options: ToyOptions = { broken: "reader", epochs: 3, size: 24 }
      const { outcome, observe } = yield* scan(toyWorkspace(options)).pipe(Effect.provide(engine(options)))
      assert.strictEqual(observe.baseline.runs.length, 24 * 3)
      const summaries = summarizeByStimulus(observe.baseline)
      assert.strictEqual(summaries.size, 24)
      for (const s of summaries.values()) assert.strictEqual(s.runs.length, 3)
      const sampleSize = outcome.verdict.checks.find((c) => c.check === "sample_size")
      assert.strictEqual(sampleSize?.value, 24, "the verdict counts stimuli, not runs")
      for (const agent of outcome.card.agents) assert.strictEqual(agent.consistency._tag, "Present")
    }))
})
