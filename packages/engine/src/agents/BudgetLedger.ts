/**
 * One ledger for a whole scan: every model call (agent runs, judge calls, counterfactual re-runs,
 * optimization calls) is charged here in calls, tokens and dollars, attributed to its phase and to
 * its purpose (`agent:intake`, `judge`, `strategy:builtin/instruction_rewrite`, …).
 *
 * The budget is hard: a call first *reserves* its worst case (one call, its prompt's tokens
 * estimated on the high side plus its `maxTokens`, and the dollars of that), and the ledger refuses
 * the reservation with `BudgetExhausted` when the spent total plus every reservation still in
 * flight plus this one would pass any limit. When the call returns, its reservation is settled at
 * the real usage. Concurrent calls therefore can never overshoot together, and the verdict says
 * when the budget ran out.
 *
 * A call to a model with no known price is counted (`unpricedCalls`) and, under a finite dollar
 * budget, charged at the price table's highest price (ports/ModelCall.ts `conservativePrice`): an
 * unknown price never makes a dollar budget unenforceable. `unpricedNote` says so in words.
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
  /**
   * Calls to a model with no known price (not in the PriceTable, and the driver reported no cost).
   * Under a finite dollar budget they are charged in `usd` at the table's highest price (see
   * `conservativePrice`); without one, at $0. Absent when there were none.
   */
  readonly unpricedCalls?: number
}

/**
 * The worst case of one call (or, for a block, of every call a measurement handed to another runner
 * may make), held against the budget while it is in flight.
 */
export interface Reservation {
  readonly id: number
  readonly phase: ModelPhase
  /** Calls held: 1 for one call; a block's size for `reserveBlock`. */
  readonly calls: number
  readonly tokens: number
  readonly usd: number
}

export interface LedgerSnapshot {
  readonly budget: Budget
  readonly total: Spend
  readonly byPhase: Readonly<Record<string, Spend>>
  /** Spend by purpose of the call (`agent:<id>`, `judge`, `counterfactual:<id>`, `strategy:<name>`). */
  readonly byPurpose: Readonly<Record<string, Spend>>
  /** Reservations of calls in flight (calls, tokens, dollars). */
  readonly inFlight: { readonly calls: number; readonly tokens: number; readonly usd: number }
  readonly exhausted: boolean
  /** Where the budget first refused a call, when it did. */
  readonly exhaustedAt?: { readonly phase: string; readonly limit: "calls" | "tokens" | "usd" }
}

export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  phase: Schema.String,
  message: Schema.String
}) {}

export const zeroSpend: Spend = { calls: 0, tokens: 0, usd: 0, cachedCalls: 0 }

const withUnpriced = (spend: Omit<Spend, "unpricedCalls">, unpricedCalls: number): Spend =>
  unpricedCalls === 0 ? spend : { ...spend, unpricedCalls }

export const addSpend = (a: Spend, b: Spend): Spend => withUnpriced({
  calls: a.calls + b.calls,
  tokens: a.tokens + b.tokens,
  usd: a.usd + b.usd,
  cachedCalls: a.cachedCalls + b.cachedCalls
}, (a.unpricedCalls ?? 0) + (b.unpricedCalls ?? 0))

export const subtractSpend = (a: Spend, b: Spend): Spend => withUnpriced({
  calls: a.calls - b.calls,
  tokens: a.tokens - b.tokens,
  usd: a.usd - b.usd,
  cachedCalls: a.cachedCalls - b.cachedCalls
}, (a.unpricedCalls ?? 0) - (b.unpricedCalls ?? 0))

/** Whether the budget limits dollars at all (the ledger outside a scan does not). */
export const hasFiniteUsdBudget = (budget: Budget): boolean => Number.isFinite(budget.maxUsd) && budget.maxUsd < Number.MAX_VALUE

/** What the spend says about calls with no known price, for a report; undefined when there were none. */
export const unpricedNote = (snapshot: Pick<LedgerSnapshot, "total" | "budget">): string | undefined => {
  const n = snapshot.total.unpricedCalls ?? 0
  if (n === 0) return undefined
  return hasFiniteUsdBudget(snapshot.budget)
    ? `${n} model call(s) had no known price: charged at the price table's highest price, so the dollars spent are an upper bound`
    : `${n} model call(s) had no known price: their dollars are not counted`
}

const unlimited: Budget = { maxCalls: Number.MAX_SAFE_INTEGER, maxTokens: Number.MAX_SAFE_INTEGER, maxUsd: Number.MAX_VALUE }

interface State extends LedgerSnapshot {
  readonly nextId: number
  readonly open: ReadonlyMap<number, Reservation>
  /** Keys of the blocks settled (`settleBlock`): settling one again books nothing. */
  readonly settledBlocks: ReadonlySet<string>
}

const fresh = (budget: Budget): State => ({
  budget,
  total: zeroSpend,
  byPhase: {},
  byPurpose: {},
  inFlight: { calls: 0, tokens: 0, usd: 0 },
  exhausted: false,
  nextId: 1,
  open: new Map(),
  settledBlocks: new Set()
})

/** Which limit (if any) one more reservation of this size would pass. */
export const limitPassed = (
  budget: Budget,
  total: Spend,
  inFlight: LedgerSnapshot["inFlight"],
  estimate: { readonly tokens: number; readonly usd: number; readonly calls?: number }
): "calls" | "tokens" | "usd" | undefined =>
  total.calls + inFlight.calls + (estimate.calls ?? 1) > budget.maxCalls
    ? "calls"
    : total.tokens + inFlight.tokens + estimate.tokens > budget.maxTokens
    ? "tokens"
    : total.usd + inFlight.usd + estimate.usd > budget.maxUsd
    ? "usd"
    : undefined

/**
 * The ledger of the scan running on this fiber. The orchestrator opens one per scan (restored from
 * the scan's recorded spend when it resumes), so concurrent scans never share a budget; outside a
 * scan the service's own ledger is used.
 */
export const CurrentLedger = Context.Reference<Ref.Ref<LedgerState> | undefined>("@spectral/engine/agents/CurrentLedger", {
  defaultValue: () => undefined
})

/** What a scan records of its spend so a resumed scan starts from it. */
export interface RecordedSpend {
  readonly total: Spend
  readonly byPhase: Readonly<Record<string, Spend>>
  readonly byPurpose: Readonly<Record<string, Spend>>
  readonly exhausted: boolean
  readonly settledBlocks?: ReadonlyArray<string>
}

export type LedgerState = State

/** A new ledger for one scan, starting from what it had already spent (a resumed scan). */
export const openLedger = (budget: Budget, spent?: RecordedSpend): Effect.Effect<Ref.Ref<LedgerState>> =>
  Ref.make<LedgerState>(
    spent === undefined
      ? fresh(budget)
      : { ...fresh(budget), total: spent.total, byPhase: spent.byPhase, byPurpose: spent.byPurpose, exhausted: spent.exhausted, settledBlocks: new Set(spent.settledBlocks ?? []) }
  )

export const recordedSpend = (state: LedgerState): RecordedSpend => ({
  total: state.total,
  byPhase: state.byPhase,
  byPurpose: state.byPurpose,
  exhausted: state.exhausted,
  ...(state.settledBlocks.size === 0 ? {} : { settledBlocks: [...state.settledBlocks] })
})

export class BudgetLedger extends Context.Service<BudgetLedger, {
  /**
   * Hold one call's worst case against the budget; fails when the spent total plus everything in
   * flight plus this estimate would pass a limit (the ledger is then marked exhausted).
   */
  readonly reserve: (phase: ModelPhase, estimate: { readonly tokens: number; readonly usd: number }) => Effect.Effect<Reservation, BudgetExhausted>
  /**
   * Hold a block of calls (their tokens and dollars) against the budget at once: what a measurement
   * hands to another process may spend at most, so concurrent blocks and calls never overshoot
   * together. Fails like `reserve` when the block does not fit.
   */
  readonly reserveBlock: (phase: ModelPhase, block: { readonly calls: number; readonly tokens: number; readonly usd: number }) => Effect.Effect<Reservation, BudgetExhausted>
  /** Release a reservation and charge what the call really used. */
  readonly settle: (reservation: Reservation, purpose: string, spend: Spend) => Effect.Effect<void>
  /**
   * Release a block and charge what its calls really used, by purpose (all under the block's
   * phase), once per `key`: a block replayed after a crash (its result recorded) is not charged again.
   * `ranOut`: the block's work stopped on its budget (that limit): the ledger is marked exhausted
   * there, as a refused call in this process would have marked it.
   */
  readonly settleBlock: (
    reservation: Reservation,
    key: string,
    byPurpose: Readonly<Record<string, Spend>>,
    ranOut?: "calls" | "tokens" | "usd"
  ) => Effect.Effect<void>
  /** Let a reservation go without charging anything (a block that never went out, or whose outcome is unknown). */
  readonly release: (reservation: Reservation) => Effect.Effect<void>
  /** Charge spend made outside a reservation (for example by a host's own agent calls). */
  readonly charge: (phase: ModelPhase, spend: Spend, purpose?: string) => Effect.Effect<void>
  readonly reset: (budget: Budget) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<LedgerSnapshot>
}>()("@spectral/engine/agents/BudgetLedger") {
  static readonly layer = Layer.effect(
    BudgetLedger,
    Effect.gen(function*() {
      const own = yield* Ref.make<State>(fresh(unlimited))
      const current = Effect.map(Effect.service(CurrentLedger), (ref) => ref ?? own)
      const book = (s: State, phase: string, purpose: string, spend: Spend): State => ({
        ...s,
        total: addSpend(s.total, spend),
        byPhase: { ...s.byPhase, [phase]: addSpend(s.byPhase[phase] ?? zeroSpend, spend) },
        byPurpose: { ...s.byPurpose, [purpose]: addSpend(s.byPurpose[purpose] ?? zeroSpend, spend) }
      })
      const reserveCalls = (phase: ModelPhase, estimate: { readonly calls: number; readonly tokens: number; readonly usd: number }) =>
        Effect.flatMap(current, (state) => Ref.modify(state, (s): readonly [Reservation | "calls" | "tokens" | "usd", State] => {
          const passed = limitPassed(s.budget, s.total, s.inFlight, estimate)
          if (passed !== undefined) {
            return [passed, { ...s, exhausted: true, ...(s.exhaustedAt === undefined ? { exhaustedAt: { phase, limit: passed } } : {}) }]
          }
          const reservation: Reservation = { id: s.nextId, phase, calls: Math.max(0, estimate.calls), tokens: Math.max(0, estimate.tokens), usd: Math.max(0, estimate.usd) }
          // The open reservations are the ledger's own (never handed out: a snapshot leaves them
          // out), so they are updated in place rather than copied on every call.
          const open = s.open as Map<number, Reservation>
          open.set(reservation.id, reservation)
          return [reservation, {
            ...s,
            nextId: s.nextId + 1,
            open,
            inFlight: { calls: s.inFlight.calls + reservation.calls, tokens: s.inFlight.tokens + reservation.tokens, usd: s.inFlight.usd + reservation.usd }
          }]
        })).pipe(
          Effect.flatMap((r) =>
            typeof r === "string"
              ? Effect.fail(new BudgetExhausted({ phase, message: `scan budget exhausted during ${phase} (the ${r} limit would be passed)` }))
              : Effect.succeed(r)
          )
        )
      /** The state with `reservation` no longer in flight (unchanged when it was already released). */
      const release = (s: State, reservation: Reservation): State => {
        if (!s.open.has(reservation.id)) return s
        const open = s.open as Map<number, Reservation>
        open.delete(reservation.id)
        return {
          ...s,
          open,
          inFlight: { calls: s.inFlight.calls - reservation.calls, tokens: s.inFlight.tokens - reservation.tokens, usd: s.inFlight.usd - reservation.usd }
        }
      }
      return BudgetLedger.of({
        reserve: (phase, estimate) => reserveCalls(phase, { calls: 1, ...estimate }),
        reserveBlock: reserveCalls,
        settle: (reservation, purpose, spend) =>
          Effect.flatMap(current, (state) => Ref.update(state, (s) => book(release(s, reservation), reservation.phase, purpose, spend))),
        release: (reservation) => Effect.flatMap(current, (state) => Ref.update(state, (s) => release(s, reservation))),
        settleBlock: (reservation, key, byPurpose, ranOut) =>
          Effect.flatMap(current, (state) =>
            Ref.update(state, (s) => {
              const marked = ranOut === undefined
                ? s
                : { ...s, exhausted: true, ...(s.exhaustedAt === undefined ? { exhaustedAt: { phase: reservation.phase, limit: ranOut } } : {}) }
              const released = release(marked, reservation)
              if (s.settledBlocks.has(key)) return released
              const settledBlocks = new Set(s.settledBlocks)
              settledBlocks.add(key)
              let booked: State = { ...released, settledBlocks }
              for (const [purpose, spend] of Object.entries(byPurpose)) booked = book(booked, reservation.phase, purpose, spend)
              return booked
            })),
        charge: (phase, spend, purpose = "unattributed") => Effect.flatMap(current, (state) => Ref.update(state, (s) => book(s, phase, purpose, spend))),
        reset: (budget) => Effect.flatMap(current, (state) => Ref.set(state, fresh(budget))),
        snapshot: Effect.flatMap(current, (state) => Effect.map(Ref.get(state), ({ nextId: _n, open: _o, settledBlocks: _b, ...snapshot }) => snapshot))
      })
    })
  )
}
