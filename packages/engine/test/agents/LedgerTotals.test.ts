/**
 * The ledger's dollar total does not depend on the order calls settle in: concurrent calls settle
 * in any order, and the same scan must book the same spend. The costs below are ones a price table
 * gives (tokens × price per million), whose plain float sums differ in the last digits by order.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { addSpend, BudgetLedger, CurrentLedger, openLedger, type Spend } from "../../src/agents/BudgetLedger.ts"

const costs = Array.from({ length: 400 }, (_, i) => ((137 + (i * 7919) % 1201) * 0.15 + (41 + (i * 104729) % 311) * 0.6) / 1e6)
const spendOf = (usd: number): Spend => ({ calls: 1, tokens: 100, usd, cachedCalls: 0 })

describe("the ledger's dollar total", () => {
  it("is the same whatever order the same costs are added in, where plain float sums are not", () => {
    const plain = (order: ReadonlyArray<number>) => order.reduce((sum, usd) => sum + usd, 0)
    const reversed = [...costs].reverse()
    assert.notStrictEqual(plain(costs), plain(reversed), "the costs are ones whose float sum depends on order")
    const booked = (order: ReadonlyArray<number>) => order.reduce((sum, usd) => addSpend(sum, spendOf(usd)), spendOf(0)).usd
    assert.strictEqual(booked(costs), booked(reversed))
    assert.closeTo(booked(costs), plain(costs), 1e-9 * costs.length)
  })

  it.effect("settled through the ledger in a shuffled order, books the same total", () =>
    Effect.gen(function*() {
      const ledger = yield* BudgetLedger
      const settleAll = (order: ReadonlyArray<number>) =>
        Effect.gen(function*() {
          const state = yield* openLedger({ maxCalls: 10_000, maxTokens: 10_000_000, maxUsd: 100 })
          return yield* Effect.gen(function*() {
            const held = yield* Effect.forEach(order, () => ledger.reserve("observe", { tokens: 100, usd: 0.001 }))
            yield* Effect.forEach(held, (reservation, i) => ledger.settle(reservation, "agent:a", spendOf(order[i]!)))
            return yield* ledger.snapshot
          }).pipe(Effect.provideService(CurrentLedger, state))
        })
      const inOrder = yield* settleAll(costs)
      const shuffled = yield* settleAll(yield* Random.shuffle(costs))
      assert.strictEqual(shuffled.total.usd, inOrder.total.usd)
      assert.strictEqual(shuffled.byPurpose["agent:a"]?.usd, inOrder.byPurpose["agent:a"]?.usd)
      assert.strictEqual(inOrder.inFlight.usd, 0, "nothing left in flight, not a float residue")
    }).pipe(Effect.provide(BudgetLedger.layer)))
})
