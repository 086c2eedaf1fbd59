/**
 * One ledger for a whole scan: every model call (agent runs, judge calls, optimization calls) is
 * charged here in calls, tokens and dollars and attributed to its phase. When the budget is spent
 * the ledger refuses further calls with `BudgetExhausted`, and the verdict says so.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import type { ModelPhase } from "../ports/ModelCall.ts"

export interface Budget {
  readonly maxCalls: number
  readonly maxTokens: number
  readonly maxUsd: number
}

export interface Spend {
  readonly calls: number
  readonly tokens: number
  readonly usd: number
  readonly cachedCalls: number
}

export interface LedgerSnapshot {
  readonly budget: Budget
  readonly total: Spend
  readonly byPhase: Readonly<Record<string, Spend>>
  readonly exhausted: boolean
}

export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  phase: Schema.String,
  message: Schema.String
}) {}

const zero: Spend = { calls: 0, tokens: 0, usd: 0, cachedCalls: 0 }
const add = (a: Spend, b: Spend): Spend => ({
  calls: a.calls + b.calls,
  tokens: a.tokens + b.tokens,
  usd: a.usd + b.usd,
  cachedCalls: a.cachedCalls + b.cachedCalls
})

export class BudgetLedger extends Context.Service<BudgetLedger, {
  /** Fails when the budget cannot take one more call. */
  readonly reserve: (phase: ModelPhase) => Effect.Effect<void, BudgetExhausted>
  readonly charge: (phase: ModelPhase, spend: Spend) => Effect.Effect<void>
  readonly reset: (budget: Budget) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<LedgerSnapshot>
}>()("@spectral/engine/agents/BudgetLedger") {
  static readonly layer = Layer.effect(
    BudgetLedger,
    Effect.gen(function*() {
      const state = yield* Ref.make<LedgerSnapshot>({
        budget: { maxCalls: Number.MAX_SAFE_INTEGER, maxTokens: Number.MAX_SAFE_INTEGER, maxUsd: Number.MAX_VALUE },
        total: zero,
        byPhase: {},
        exhausted: false
      })
      return BudgetLedger.of({
        reserve: (phase) =>
          Ref.modify(state, (s) => {
            const over = s.total.calls + 1 > s.budget.maxCalls || s.total.tokens >= s.budget.maxTokens || s.total.usd >= s.budget.maxUsd
            return over ? [true, { ...s, exhausted: true }] as const : [false, s] as const
          }).pipe(
            Effect.flatMap((over) =>
              over
                ? Effect.fail(new BudgetExhausted({ phase, message: `scan budget exhausted during ${phase}` }))
                : Effect.void
            )
          ),
        charge: (phase, spend) =>
          Ref.update(state, (s) => ({
            ...s,
            total: add(s.total, spend),
            byPhase: { ...s.byPhase, [phase]: add(s.byPhase[phase] ?? zero, spend) }
          })),
        reset: (budget) => Ref.set(state, { budget, total: zero, byPhase: {}, exhausted: false }),
        snapshot: Ref.get(state)
      })
    })
  )
}
