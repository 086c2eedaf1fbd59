import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { EventBus, MemoryStorage, type ObserveOutput, type OptimizeOutput, ScanEngine, ScanOrchestrator, ScanRepo, selectStrategies, WorkspaceRepo } from "@spectral/engine"
import { OptimizerPlugins } from "../src/index.ts"
import { type ToyOptions, toyModel, toyProvider, toyWorkspace } from "../../engine/test/optimize/ToyTeam.ts"

const run = (strategy: string, options: ToyOptions) =>
  Effect.gen(function*() {
    const workspace = toyWorkspace(options)
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5, concurrency: 4 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
    return { outcome, observe: outputs.get("observe") as ObserveOutput, optimize: outputs.get("optimize") as OptimizeOutput }
  }).pipe(
    Effect.provide(
      ScanEngine.layer(undefined, [OptimizerPlugins, selectStrategies([strategy])]).pipe(
        Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel(options.broken)))
      )
    )
  )

describe("optimizer plugins (public API only)", () => {
  for (const strategy of ["plugin/dspy", "plugin/gepa"]) {
    it.effect(`${strategy} fixes the blamed agent's instruction in a scan, on the working set only`, () =>
      Effect.gen(function*() {
        const { outcome, optimize } = yield* run(strategy, { broken: "calculator" })
        assert.strictEqual(optimize.winner?.candidate.strategy, strategy, JSON.stringify(optimize.decisionLog))
        const calculator = optimize.winner!.candidate.agents.find((a) => a.agentId === "calculator")!
        assert.match(calculator.template.basePrompt, /multipl/i)
        assert.deepStrictEqual(optimize.winner!.candidate.changed, ["calculator"])
        assert.strictEqual(outcome.verdict.outcome, "go", outcome.verdict.explanation)
        // The strategy's own search ran on the working set: its spend is in the optimize phase.
        assert.isAbove(outcome.spend.byPurpose[`strategy:${strategy}`]?.calls ?? 0, 0)
      }))
  }

  it.effect("with a small budget the search stops and the scan stays within it", () =>
    Effect.gen(function*() {
      const budget = { maxCallsPerScan: 260, maxTokensPerScan: 10_000_000, maxUsdPerScan: 10 }
      const { outcome } = yield* run("plugin/dspy", { broken: "calculator", budget })
      assert.isAtMost(outcome.spend.total.calls, budget.maxCallsPerScan)
    }))
})
