/**
 * Handing chunks of a scan's work (measurements, credit-assignment re-runs) to the cluster as child
 * workflows, under the scan's budget: each chunk's worst case is held as a block on the scan's
 * ledger while it is out (`chunkBlock`, `BudgetLedger.reserveBlock`), released when the dispatch
 * fails, and settled once per chunk key at what the chunk spent — so concurrent chunks on any
 * runners never pass the budget together, and a chunk replayed from its record is not charged again.
 */
import { Cause, Context, Effect, Predicate, Schema } from "effect"
import { WorkflowEngine } from "effect/workflow"
import { BudgetExhausted, type BudgetLedger } from "../agents/BudgetLedger.ts"
import type { ChunkSpend } from "../measurement/MeasurementDispatch.ts"
import type { ModelPhase } from "../ports/ModelCall.ts"
import { outageSchedule } from "../pipeline/ScanOrchestrator.ts"

/** The most a chunk may spend: the block the scan's ledger holds for it. */
export const ChunkBudget = Schema.Struct({ calls: Schema.Int, tokens: Schema.Int, usd: Schema.Finite })
export type ChunkBudget = typeof ChunkBudget.Type

export interface DispatchOptions {
  /** Stimuli per chunk. */
  readonly chunkSize: number
  /** Chunks of one measurement out at once. */
  readonly inFlight: number
}

/** The workflow engine turns a failure of the cluster's storage (`PersistenceError`) into a defect. */
export const isClusterOutage = (cause: Cause.Cause<unknown>): boolean =>
  !Cause.hasFails(cause) && !Cause.hasInterrupts(cause) && Predicate.isTagged(Cause.squash(cause), "PersistenceError")

/**
 * A chunk's block: its `planned` calls and a quarter more (re-asks), within what the scan's ledger
 * has left, with the share of the tokens and dollars left that those calls are of the calls left
 * (at least `minShare` of them: a chunk whose work is the only spend while it is out).
 * Fails with `BudgetExhausted` when not one call is left.
 */
export const chunkBlock = (
  ledger: BudgetLedger["Service"],
  phase: ModelPhase,
  planned: number,
  minShare = 0
): Effect.Effect<ChunkBudget, BudgetExhausted> =>
  Effect.flatMap(ledger.snapshot, (snapshot) => {
    const left = {
      calls: snapshot.budget.maxCalls - snapshot.total.calls - snapshot.inFlight.calls,
      tokens: snapshot.budget.maxTokens - snapshot.total.tokens - snapshot.inFlight.tokens,
      usd: snapshot.budget.maxUsd - snapshot.total.usd - snapshot.inFlight.usd
    }
    const calls = Math.min(left.calls, planned + Math.ceil(planned / 4))
    if (calls < 1) {
      // Not one call is left: asked of the ledger as one call, which refuses it and marks itself
      // exhausted there (as a call refused in this process would).
      return Effect.flatMap(ledger.reserve(phase, { tokens: 0, usd: 0 }), (held) =>
        Effect.andThen(ledger.release(held), Effect.fail(new BudgetExhausted({ phase, message: `scan budget exhausted during ${phase} (the calls limit would be passed)` }))))
    }
    const share = Math.max(calls / Math.max(calls, left.calls), Math.min(1, minShare))
    return Effect.succeed({ calls, tokens: Math.max(0, Math.floor(left.tokens * share)), usd: Math.max(0, left.usd * share) })
  })

/** A plain client call: the chunk is its own execution, neither suspended with the scan's activity nor interrupted with it (a scan resumed elsewhere joins it by key). */
const detachedFromScan = (context: Context.Context<never>): Context.Context<never> => Context.omit(WorkflowEngine.WorkflowInstance)(context)

/**
 * Send a chunk (`execute`: its child workflow's execution, keyed `key`) on `engine` with `block`
 * held on the scan's ledger: released when the dispatch fails, settled at what the chunk spent
 * once per key, the scan's ledger marked exhausted when the chunk's work stopped on its block
 * (`ranOut`: the limit, as a refused call here would mark it). The cluster's storage unreachable
 * for a moment (connections dropped, a full pool) is waited out: the same key again joins the same
 * execution, so asking again is safe.
 */
export const sendUnderBlock = <A extends { readonly spend: ChunkSpend }, E>(
  ledger: BudgetLedger["Service"],
  engine: WorkflowEngine.WorkflowEngine["Service"],
  phase: ModelPhase,
  key: string,
  block: ChunkBudget,
  execute: Effect.Effect<A, E, WorkflowEngine.WorkflowEngine>,
  ranOut: (outcome: A) => "calls" | "tokens" | "usd" | undefined
): Effect.Effect<A, E | BudgetExhausted> =>
  Effect.gen(function*() {
    const reservation = yield* ledger.reserveBlock(phase, block)
    const outcome = yield* execute.pipe(
      Effect.provideService(WorkflowEngine.WorkflowEngine, engine),
      Effect.updateContext(detachedFromScan),
      Effect.sandbox,
      Effect.retry({ schedule: outageSchedule, while: isClusterOutage }),
      Effect.catch(Effect.failCause),
      Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : ledger.release(reservation))
    )
    yield* ledger.settleBlock(reservation, key, outcome.spend, ranOut(outcome))
    return outcome
  })
