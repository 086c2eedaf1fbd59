/**
 * The `complete` a strategy gets: it stops at the strategy's model-call allowance, keeps back what
 * measuring the winner on the holdout needs, and hands a model failure to the strategy as a typed
 * error (never an empty answer).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BudgetLedger } from "../../src/agents/BudgetLedger.ts"
import type { OptimizeOutput } from "../../src/pipeline/Optimize.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { Plugin } from "../../src/plugin/Plugin.ts"
import { selectStrategies, type Strategy } from "../../src/strategies/Strategy.ts"
import { TOY_FAILURE_MARKER, type ToyOptions, toyModel, toyProvider, toyWorkspace } from "./ToyTeam.ts"

interface Seen {
  calls: number
  refusal?: string
  failure?: string
  /** Calls left in the scan's budget when `complete` refused, and what the holdout needs. */
  leftAtRefusal?: number
  holdoutNeeds?: number
}

/** A strategy that asks the model until `complete` refuses (or `attempts` times), then proposes nothing. */
const greedy = (seen: Seen, attempts: number, system = "Say something."): Strategy => ({
  name: "greedy",
  description: "calls complete until it is refused",
  propose: (input) =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      for (let i = 0; i < attempts; i++) {
        const answer = yield* input.complete(system, `attempt ${i}`, { sample: i }).pipe(
          Effect.map((text) => ({ text })),
          Effect.catchTag("BudgetExhausted", (e) =>
            Effect.map(ledger.snapshot, (s) => {
              seen.refusal = e.message
              seen.leftAtRefusal = s.budget.maxCalls - s.total.calls
              // The holdout is a quarter of the 40 toy stimuli, at the baseline's calls per stimulus, with the tournament's 1.5 margin.
              seen.holdoutNeeds = Math.ceil((s.byPhase["observe"]!.calls / 40) * 10 * 1.5)
              return undefined
            })),
          Effect.catchTag("CompletionFailed", (e) => Effect.sync(() => {
            seen.failure = `${e._tag}:${e.kind}:${e.strategy}`
            return undefined
          }))
        )
        if (answer === undefined) break
        seen.calls++
      }
      return []
    })
})

const scan = (options: ToyOptions, strategy: Strategy) =>
  Effect.gen(function*() {
    const workspace = toyWorkspace(options)
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
    const optimize = (yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)).get("optimize") as OptimizeOutput
    return { outcome, optimize }
  }).pipe(
    Effect.provide(
      ScanEngine.layer(undefined, [Plugin.make({ name: "test", strategies: [strategy] }), selectStrategies(["test/greedy"])]).pipe(
        Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel(options.broken)))
      )
    )
  )

describe("a strategy's complete", () => {
  it.effect("stops at the strategy's model-call allowance with BudgetExhausted naming the strategy", () =>
    Effect.gen(function*() {
      const seen: Seen = { calls: 0 }
      const { outcome } = yield* scan({ broken: "calculator" }, greedy(seen, 20))
      assert.strictEqual(seen.calls, 8)
      assert.match(seen.refusal ?? "", /test\/greedy: its model-call allowance \(8 calls\) is spent/)
      assert.strictEqual(outcome.spend.byPurpose["strategy:test/greedy"]?.calls, 8)
    }))

  it.effect("keeps back what measuring the winner on the holdout needs", () =>
    Effect.gen(function*() {
      const seen: Seen = { calls: 0 }
      // Observe (120 calls) and credit assignment (17) fit, the holdout reserve (45) and 3 calls more.
      const budget = { maxCallsPerScan: 185, maxTokensPerScan: 10_000_000, maxUsdPerScan: 100 }
      yield* scan({ broken: "reader", budget }, greedy(seen, 8))
      assert.isBelow(seen.calls, 8, "the budget, not the allowance, stopped it")
      assert.match(seen.refusal ?? "", /test\/greedy: .*kept for measuring the winner on the holdout/)
      assert.isAtLeast(seen.leftAtRefusal!, seen.holdoutNeeds!)
    }))

  it.effect("a model failure reaches the strategy as CompletionFailed, not as an empty answer", () =>
    Effect.gen(function*() {
      const seen: Seen = { calls: 0 }
      const { outcome } = yield* scan({ broken: "calculator" }, greedy(seen, 1, TOY_FAILURE_MARKER))
      assert.strictEqual(seen.failure, "CompletionFailed:infra:test/greedy")
      assert.strictEqual(seen.calls, 0)
      assert.strictEqual(outcome.spend.byPurpose["strategy:test/greedy"]?.calls, 1, "the failed call is on the books")
    }))

  it.effect("a CompletionFailed the strategy does not handle is logged, and the scan goes on", () =>
    Effect.gen(function*() {
      const failing: Strategy = {
        name: "greedy",
        description: "passes the model's failure on",
        propose: (input) => Effect.map(input.complete(TOY_FAILURE_MARKER, "x"), () => [])
      }
      const { optimize } = yield* scan({ broken: "calculator" }, failing)
      const entry = optimize.decisionLog.find((d) => d.strategy === "test/greedy")
      assert.strictEqual(entry?.outcome, "no_candidate")
      assert.match(entry?.reason ?? "", /the language model failed \(infra failure/)
    }))
})
