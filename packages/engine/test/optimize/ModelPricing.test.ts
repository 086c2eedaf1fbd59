/**
 * A model with no known price is never free: the ledger counts its calls as unpriced and, under a
 * finite dollar budget, charges them at the price table's highest price, so the budget holds.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { BudgetLedger, unpricedNote } from "../../src/agents/BudgetLedger.ts"
import { callModel } from "../../src/agents/ModelCaller.ts"
import { conservativePrice, costAt, PriceTable } from "../../src/ports/ModelCall.ts"
import { toyModel } from "./ToyTeam.ts"

const ask = (model: string) =>
  callModel("Answer in JSON.", "What is the total?", { provider: "house", model, temperature: 0, maxTokens: 100, epoch: 0 }, { workspaceId: "ws", phase: "optimize", purpose: "test" })

const TestLayer = Layer.mergeAll(BudgetLedger.layer, toyModel("none"))

describe("model pricing", () => {
  it.effect("an unpriced call under a finite dollar budget is charged at the highest listed price and counted", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      yield* ledger.reset({ maxCalls: 100, maxTokens: 1_000_000, maxUsd: 1 })
      const answer = yield* ask("house-model")
      const snapshot = yield* ledger.snapshot
      const expected = costAt(conservativePrice(PriceTable.defaultValue()), answer.inputTokens, answer.outputTokens)
      assert.isAbove(expected, 0)
      assert.closeTo(snapshot.total.usd, expected, 1e-12)
      assert.strictEqual(snapshot.total.unpricedCalls, 1)
      assert.strictEqual(snapshot.byPhase["optimize"]?.unpricedCalls, 1)
      assert.match(unpricedNote(snapshot) ?? "", /^1 model call\(s\) had no known price: charged at the price table's highest price/)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a dollar budget too small for an unpriced call refuses it", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      yield* ledger.reset({ maxCalls: 100, maxTokens: 1_000_000, maxUsd: 1e-6 })
      const error = yield* Effect.flip(ask("house-model"))
      assert.strictEqual(error._tag, "BudgetExhausted")
      const snapshot = yield* ledger.snapshot
      assert.strictEqual(snapshot.exhaustedAt?.limit, "usd")
      assert.strictEqual(snapshot.total.calls, 0)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("without a dollar budget an unpriced call costs nothing but is still counted", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      yield* ask("house-model")
      const snapshot = yield* ledger.snapshot
      assert.strictEqual(snapshot.total.usd, 0)
      assert.strictEqual(snapshot.total.unpricedCalls, 1)
      assert.match(unpricedNote(snapshot) ?? "", /not counted/)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a listed model is priced from the table and is not unpriced", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      yield* ledger.reset({ maxCalls: 100, maxTokens: 1_000_000, maxUsd: 1 })
      const answer = yield* ask("gpt-4o-mini")
      const snapshot = yield* ledger.snapshot
      assert.closeTo(snapshot.total.usd, (answer.inputTokens * 0.15 + answer.outputTokens * 0.6) / 1_000_000, 1e-12)
      assert.isUndefined(snapshot.total.unpricedCalls)
      assert.isUndefined(unpricedNote(snapshot))
    }).pipe(Effect.provide(TestLayer)))
})
