import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { OptimizerPlugins } from "@spectral/plugins"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { decodeWorkspace, overtimeWorkspace } from "../src/OvertimeTeam.ts"

describe("second team: payroll overtime desk on us-flsa-overtime (simulated model)", () => {
  it.effect("one scan runs every built-in and plugin strategy, improves the team and stays within budget", () =>
    Effect.gen(function*() {
      const workspace = yield* decodeWorkspace(overtimeWorkspace("simulated-small"))
      yield* (yield* WorkspaceRepo).upsert({ ...workspace, framework: { ...workspace.framework, evalSetSize: 48 } })
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency: 8 })
      const log = outcome.changeSet!.explainability.decisionLog
      for (const name of ["builtin/hyperparameter_shift", "builtin/few_shot", "builtin/rule_guidance", "builtin/instruction_rewrite", "builtin/chain_of_thought", "builtin/context_selection", "plugin/dspy", "plugin/gepa"]) {
        assert.isTrue(log.some((d) => d.strategy === name), `${name} took part`)
      }
      assert.isAbove(outcome.verdict.delta?.estimate ?? 0, 0.05)
      assert.isAtMost(outcome.spend.total.calls, workspace.framework.economics.maxCallsPerScan)
      assert.isAbove(outcome.diagnosis.clusters.length, 0)
    }).pipe(
      Effect.provide(
        ScanEngine.layer(undefined, [OptimizerPlugins]).pipe(
          Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1 })))
        )
      )
    ))
})
