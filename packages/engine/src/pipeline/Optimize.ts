/**
 * Optimize: asks every registered strategy for candidate configurations (giving each the
 * diagnosis, the current configuration, working-set examples, a budget, a metered `complete` and
 * a working-set-only `evaluate`: StrategyInputs.ts), then runs the tournament on the working set
 * (successive halving, merges, Pareto front and the framework's objective: Tournament.ts) and
 * measures the winner on the holdout for the verdict: all at once, or (with `framework.sequential`
 * on) in batches that stop once an anytime-valid confidence sequence on the paired blended delta
 * excludes zero (stats/ConfidenceSequence.ts), recording how much was measured and why it stopped.
 *
 * This phase owns the flow and the hard budget: every call goes through the scan's one ledger; the
 * tournament keeps back what measuring the winner on the holdout will cost, and stops spending when
 * the budget is reached (the verdict then says so).
 *
 * Strategies target the blamed agents: a candidate's change to an agent with no evidence against it
 * is undone, so agents that are not to blame keep their version. Every candidate considered, and
 * why it lost, goes into the decision log.
 */
import { Context, Effect, Layer } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, DecisionLogEntry, Diagnosis, EvalSetSample } from "../contracts/index.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetLedger, type LedgerSnapshot, type Spend } from "../agents/BudgetLedger.ts"
import { hashHex, hashString, seededGenerator } from "../random/Deterministic.ts"
import { ScanTraceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { type Candidate, changedAgents, type StrategyInput, StrategyRegistry, suspectAgents } from "../strategies/Strategy.ts"
import { type ArmMeasurement, measureArm, measureArmInto, type MeasureRequest, type RunMeasurement, type TraceSink } from "../measurement/Measurement.ts"
import { pct } from "../gates/Gate.ts"
import { subsetRows } from "../gates/QualityGates.ts"
import { makeConfidenceSequence } from "../stats/ConfidenceSequence.ts"
import { pairStimuli } from "../measurement/PairedStimuli.ts"
import { type ObserveOutput, TRACE_BATCH } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"
import {
  agentFailureRates,
  failingExamplesOf,
  makeStrategyComplete,
  makeWorkingSetEvaluator,
  passingExamplesOf,
  teamBlame
} from "./StrategyInputs.ts"
import { ScorerRegistry } from "../plugin/ScorerRegistry.ts"
import { describeVectors, type FinalistRecord, Tournament } from "../optimize/Tournament.ts"
import type { OptimizeOutput, SequentialHoldout } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { OptimizeOutput, SequentialHoldout }

export { failingExamplesOf, passingExamplesOf, teamBlame } from "./StrategyInputs.ts"

const sequentialNote = (s: SequentialHoldout): string => {
  const sequence = `the ${+(s.level * 100).toFixed(2)}% confidence sequence [${pct(s.low)}, ${pct(s.high)}] on the paired delta`
  const looks = `${s.looks} look${s.looks === 1 ? "" : "s"}, batches of ${s.batch}`
  switch (s.stopped) {
    case "better":
    case "worse":
      return `holdout measured sequentially: stopped after ${s.measured} of ${s.available} stimuli (${looks}): ${sequence} lies ${s.stopped === "better" ? "above" : "below"} zero; the gates judge the ${s.observed} comparable stimuli measured`
    case "exhausted":
      return `holdout measured sequentially: all ${s.available} stimuli (${looks}); ${sequence} holds zero, so the fixed-n verdict decides`
    case "budget":
      return `holdout measured sequentially: the budget stopped it after ${s.measured} of ${s.available} stimuli (${looks}); ${sequence}; the gates judge the ${s.observed} comparable stimuli measured`
  }
}

const remaining = (s: LedgerSnapshot) => ({
  calls: s.budget.maxCalls - s.total.calls - s.inFlight.calls,
  tokens: s.budget.maxTokens - s.total.tokens - s.inFlight.tokens,
  usd: s.budget.maxUsd - s.total.usd - s.inFlight.usd
})

const fits = (s: LedgerSnapshot, need: Spend) => {
  const r = remaining(s)
  return r.calls >= need.calls && r.tokens >= need.tokens && r.usd >= need.usd
}

/** Model calls each strategy may make through `complete` (meta-prompts) while proposing. */
export const STRATEGY_MODEL_CALLS = 8

const scale = (spend: Spend, factor: number): Spend => ({ calls: Math.ceil(spend.calls * factor), tokens: Math.ceil(spend.tokens * factor), usd: spend.usd * factor, cachedCalls: 0 })

export class Optimize extends Context.Service<Optimize, {
  readonly run: (context: ScanContext, observe: ObserveOutput, diagnosis: Diagnosis) => Effect.Effect<OptimizeOutput, StorageError>
}>()("@spectral/engine/pipeline/Optimize") {
  static readonly layer = Layer.effect(
    Optimize,
    Effect.gen(function*() {
      const registry = yield* StrategyRegistry
      const scorerRegistry = yield* ScorerRegistry
      const tournaments = yield* Tournament
      const traceRepo = yield* ScanTraceRepo
      const ledger = yield* BudgetLedger
      const services = yield* Effect.context<AgentRunner | WorldModelScorer | RubricScorer | BudgetLedger | LanguageModel.LanguageModel>()

      const run = Effect.fn("Optimize.run")(function*(context: ScanContext, observe: ObserveOutput, diagnosis: Diagnosis) {
        const framework = context.workspace.framework
        const decisionLog: Array<DecisionLogEntry> = []
        let budgetExhausted = false
        let budgetNote: string | undefined
        const working = observe.evalSet.samples.filter((s) => s.holdoutLayer === "working")
        const holdout = observe.evalSet.samples.filter((s) => s.holdoutLayer !== "working")
        const inputs = new Map(observe.evalSet.samples.map((s) => [s.id, s.input]))
        const baselineRuns = observe.baseline.runs
        const scorers = yield* scorerRegistry.scorers
        const rates = agentFailureRates(context, baselineRuns)
        const agentBlame = teamBlame(diagnosis)

        // What one stimulus costs to measure (the baseline's observe spend), and what the holdout
        // measurement of the winner will cost: kept back from the tournament.
        const atStart = yield* ledger.snapshot
        const observeSpend = atStart.byPhase["observe"]
        const perStimulus: Spend = observeSpend === undefined || baselineRuns.length === 0
          ? { calls: context.agents.length + 1, tokens: 2000, usd: 0, cachedCalls: 0 }
          : scale(observeSpend, 1 / baselineRuns.length)
        const holdoutReserve = scale(perStimulus, holdout.length * 1.5)
        const cost = (stimuli: number) => scale(perStimulus, stimuli * 1.5)
        /** Whether spending this much more still leaves what the holdout measurement will cost. */
        const keepsHoldoutReserve = (need: { readonly calls: number; readonly tokens: number; readonly usd: number }) =>
          Effect.map(ledger.snapshot, (snapshot) =>
            fits(snapshot, { calls: need.calls + holdoutReserve.calls, tokens: need.tokens + holdoutReserve.tokens, usd: need.usd + holdoutReserve.usd, cachedCalls: 0 }))
        /** Whether measuring this many stimuli more still leaves what the holdout measurement will cost. */
        const fitsWithHoldoutReserve = (stimuli: number) => keepsHoldoutReserve(cost(stimuli))

        const requestFor = (arm: string, team: ReadonlyArray<AgentVersion>, samples: ReadonlyArray<EvalSetSample>): MeasureRequest => ({
          workspaceId: context.workspace.id,
          scanId: context.scan.id,
          arm,
          agents: context.agents,
          team,
          samples,
          framework,
          phase: "optimize",
          finalAgentIds: context.finalAgentIds,
          concurrency: context.concurrency
        })
        const measureRaw = (arm: string, team: ReadonlyArray<AgentVersion>, samples: ReadonlyArray<EvalSetSample>) =>
          measureArm(requestFor(arm, team, samples)).pipe(Effect.provide(services))
        // A tournament measurement's traces and results are stored as they are measured, in batches.
        const store = (traces: Parameters<TraceSink["write"]>[0], results: Parameters<TraceSink["write"]>[1]) =>
          Effect.andThen(traceRepo.insertTraces(context.workspace.id, traces), traceRepo.insertResults(context.workspace.id, results))
        const measureStored = (arm: string, team: ReadonlyArray<AgentVersion>, samples: ReadonlyArray<EvalSetSample>) =>
          measureArmInto(requestFor(arm, team, samples), { batchSize: TRACE_BATCH, write: store }).pipe(
            Effect.tap((m) => store(m.traces, m.results)),
            Effect.provide(services)
          )

        const baselineKey = hashHex(JSON.stringify(context.baseline))
        const evaluateFor = makeWorkingSetEvaluator({ context, working, baselineRuns, baselineKey, measureRaw, fitsWithHoldoutReserve })
        const completeFor = makeStrategyComplete({ context, services, keepsHoldoutReserve })

        const base = {
          workspaceId: context.workspace.id,
          agents: context.agents,
          current: context.baseline,
          finalAgentIds: context.finalAgentIds,
          currentChangeSet: context.baselineChangeSet === undefined ? null : { id: context.baselineChangeSet.id, version: context.baselineChangeSet.version },
          clusters: diagnosis.clusters,
          agentFailureRates: rates,
          agentBlame,
          passingExamples: passingExamplesOf(context, observe.evalSet, baselineRuns),
          failingExamples: failingExamplesOf(context, observe.evalSet, baselineRuns, diagnosis),
          workingStimuli: working.map((s) => ({ id: s.id, segment: s.segment, input: s.input })),
          bounds: observe.evalSet.hyperparameterBounds,
          seed: context.scan.seed
        }
        // The same evidence test the strategies target by: a change to any other agent is undone.
        const suspects = new Set(suspectAgents(base))

        // Proposals.
        const proposedByStrategy: Array<Array<Candidate>> = []
        const seen = new Set<string>([baselineKey])
        for (const strategy of yield* registry.strategies) {
          const allowance = { left: working.length * 4 }
          const modelCalls = { max: STRATEGY_MODEL_CALLS, left: STRATEGY_MODEL_CALLS }
          const input: StrategyInput = {
            ...base,
            strategyName: strategy.name,
            budget: { maxCandidates: framework.optimization.maxCandidates, maxModelCalls: modelCalls.max, maxEvaluations: allowance.left },
            complete: completeFor(strategy.name, modelCalls),
            evaluate: evaluateFor(strategy.name, allowance)
          }
          const result = yield* strategy.propose(input).pipe(
            Effect.provide(services),
            Effect.map((candidates) => ({ candidates, exhausted: undefined as string | undefined, failed: undefined as string | undefined })),
            Effect.catchTag("BudgetExhausted", (e) => Effect.succeed({ candidates: [] as ReadonlyArray<Candidate>, exhausted: e.message, failed: undefined })),
            Effect.catchTag("CompletionFailed", (e) => Effect.succeed({ candidates: [] as ReadonlyArray<Candidate>, exhausted: undefined, failed: `${e.kind} failure: ${e.message}` })),
            Effect.catchTag("NoCandidate", (e) => Effect.succeed({ candidates: [] as ReadonlyArray<Candidate>, exhausted: undefined, failed: undefined, none: e.detail }))
          )
          if (result.exhausted !== undefined) {
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "over_budget", reason: `stopped proposing: ${result.exhausted}` })
            if ((yield* ledger.snapshot).exhausted) budgetExhausted = true
          } else if (result.failed !== undefined) {
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "no_candidate", reason: `stopped proposing: the language model failed (${result.failed})` })
          } else if (result.candidates.length === 0) {
            const none = "none" in result ? result.none : undefined
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "no_candidate", reason: none ?? "nothing in the diagnosis this strategy addresses" })
          }
          const mine: Array<Candidate> = []
          for (const raw of result.candidates) {
            // Agents that are not to blame keep their version.
            const agents = context.baseline.map((b) => {
              const proposed = raw.agents.find((a) => a.agentId === b.agentId) ?? b
              return suspects.has(b.agentId) ? { ...proposed, agentId: b.agentId, version: b.version } : b
            })
            const reverted = changedAgents(context.baseline, raw.agents).filter((a) => !suspects.has(a))
            const changed = changedAgents(context.baseline, agents)
            const candidate: Candidate = { ...raw, strategy: strategy.name, agents, changed }
            if (changed.length === 0) {
              decisionLog.push({ strategy: strategy.name, candidateId: raw.id, outcome: "lost", reason: reverted.length > 0 ? `only changes agents with no failure blamed on them (${reverted.join(", ")})` : "changes nothing" })
              continue
            }
            const key = hashHex(JSON.stringify(agents))
            if (seen.has(key)) continue
            seen.add(key)
            mine.push(reverted.length > 0 ? { ...candidate, rationale: `${candidate.rationale} (changes to ${reverted.join(", ")} undone: not to blame)` } : candidate)
          }
          proposedByStrategy.push(mine)
        }
        // Round-robin over strategies up to the candidate limit, so every strategy is heard.
        const pool: Array<Candidate> = []
        const overflow: Array<Candidate> = []
        for (let i = 0; proposedByStrategy.some((list) => list.length > i); i++) {
          for (const list of proposedByStrategy) {
            const c = list[i]
            if (c === undefined) continue
            if (pool.length < framework.optimization.maxCandidates) pool.push(c)
            else overflow.push(c)
          }
        }
        for (const c of overflow) {
          decisionLog.push({ strategy: c.strategy, candidateId: c.id, outcome: "lost", reason: `over the ${framework.optimization.maxCandidates}-candidate limit` })
        }
        if (pool.length === 0 || working.length === 0) {
          return { winner: null, decisionLog, budgetExhausted, ...(budgetNote !== undefined ? { budgetNote } : {}) } satisfies OptimizeOutput
        }

        // Tournament measurements are stored as traces; budget-limited.
        const measure = (candidate: Candidate, samples: ReadonlyArray<EvalSetSample>, keepForHoldout: boolean) =>
          Effect.gen(function*() {
            if (samples.length === 0) return { arm: candidate.id, runs: [] } as ArmMeasurement
            const snapshot = yield* ledger.snapshot
            const need = cost(samples.length)
            if (!fits(snapshot, keepForHoldout ? { calls: need.calls + holdoutReserve.calls, tokens: need.tokens + holdoutReserve.tokens, usd: need.usd + holdoutReserve.usd, cachedCalls: 0 } : need)) {
              budgetExhausted = true
              budgetNote = keepForHoldout
                ? `the tournament stopped at ${snapshot.total.calls} calls, ${snapshot.total.tokens} tokens, $${snapshot.total.usd.toFixed(4)}: the rest of the budget is kept for measuring the winner on the holdout`
                : `the budget left (${remaining(snapshot).calls} calls) cannot measure the winner on the holdout`
              return undefined
            }
            return yield* measureStored(candidate.id, candidate.agents, samples).pipe(
              Effect.map((m): ArmMeasurement | undefined => m.measurement),
              Effect.catchTag("BudgetExhausted", () =>
                Effect.sync(() => {
                  budgetExhausted = true
                  budgetNote = budgetNote ?? "the scan's budget ran out during the tournament"
                  return undefined
                }))
            )
          })

        const tournament = yield* tournaments.run({
          framework,
          seed: context.scan.seed,
          baselineAgents: context.baseline,
          baseline: observe.baseline,
          pool,
          working,
          scorers,
          inputs,
          seen,
          measure,
          fitsWithHoldoutReserve,
          budgetExhausted: () => budgetExhausted
        })
        decisionLog.push(...tournament.decisionLog)
        const { best, finalists: records } = tournament
        const done = (winner: OptimizeOutput["winner"]) => ({ winner, decisionLog, budgetExhausted, finalists: records, ...(budgetNote !== undefined ? { budgetNote } : {}) }) satisfies OptimizeOutput
        if (best === undefined) return done(null)
        /**
         * The winner's holdout in batches of `batchSize` (a seeded order, so an eval set sorted by
         * segment does not put one segment first), the confidence sequence updated after each on
         * the rows the bootstrap CI gate will judge, until it lies above or below zero. Each
         * observation is the paired blended delta scaled by weight / the largest holdout weight:
         * in [−1, 1], its mean has the sign of the weighted mean delta the gate tests.
         */
        const measureHoldoutSequentially = (candidate: Candidate, batchSize: number) =>
          Effect.gen(function*() {
            const order = seededGenerator(hashString(`sequential-holdout:${context.scan.seed}`)).shuffle(holdout)
            // A fold, not `Math.max(...)`: spreading a large holdout overflows the call stack.
            const maxWeight = holdout.reduce((max, s) => Math.max(max, s.stimulusWeight), -Infinity)
            // Each look pairs only the batch just measured, in the eval set's order (the order a
            // pairing of the whole eval set would give them): a look costs its batch, not the eval set.
            const position = new Map(observe.evalSet.samples.map((s, i) => [s.id, i]))
            const deltas = (batch: ReadonlyArray<EvalSetSample>, runs: ReadonlyArray<RunMeasurement>) =>
              subsetRows({
                stimuli: pairStimuli(
                  { ...observe.evalSet, samples: [...batch].sort((a, b) => position.get(a.id)! - position.get(b.id)!) },
                  observe.baseline,
                  { arm: candidate.id, runs }
                ),
                thresholds: framework.verdict,
                vectors: [],
                resamples: 0,
                seed: context.scan.seed,
                selectedOnWorkingSet: true,
                noCandidate: false,
                budgetExhausted
              }, "synthetic_holdout").map((s) => (s.weight / maxWeight) * (s.candidate.score - s.baseline.score))
            const sequence = makeConfidenceSequence({ alpha: framework.verdict.alpha })
            // Too few holdout stimuli is a caution (`judgedSubset`): no stop before minSamples / 2.
            const minimum = Math.ceil(framework.verdict.minSamples / 2)
            const runs: Array<RunMeasurement> = []
            let count = 0
            let looks = 0
            let stopped: SequentialHoldout["stopped"] = "exhausted"
            while (count < order.length) {
              const batch = order.slice(count, count + batchSize)
              const m = yield* measure(candidate, batch, false)
              if (m === undefined) {
                stopped = "budget"
                break
              }
              runs.push(...m.runs)
              count += batch.length
              looks++
              for (const x of deltas(batch, m.runs)) sequence.push(x)
              const test = sequence.n() >= minimum ? sequence.test() : "inside"
              if (test !== "inside") {
                stopped = test === "above" ? "better" : "worse"
                break
              }
            }
            const bounds = sequence.look()
            const record: SequentialHoldout = {
              measured: count,
              available: holdout.length,
              observed: sequence.n(),
              batch: batchSize,
              looks,
              stopped,
              level: 1 - framework.verdict.alpha,
              low: bounds.low,
              high: bounds.high
            }
            const held: ArmMeasurement | undefined = count === 0 && holdout.length > 0 ? undefined : { arm: candidate.id, runs }
            return { held, record }
          })
        // The winner on the holdout, for the verdict's generalization gate: all at once, or in
        // batches until the confidence sequence decides.
        const sequential = framework.sequential
        const { held, record } = sequential?.enabled === true
          ? yield* measureHoldoutSequentially(best.candidate, sequential.batch)
          : { held: yield* measure(best.candidate, holdout, false), record: undefined }
        if (held === undefined) {
          decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "over_budget", reason: "the scan's budget ran out before the holdout was measured" })
          return done(null)
        }
        const note = record === undefined ? "" : `; ${sequentialNote(record)}`
        decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "won", reason: `on the Pareto front with the best objective ${(best.objective * 100).toFixed(2)}, working delta ${(best.delta * 100).toFixed(1)} pts (${describeVectors(best)}): ${best.candidate.rationale}${note}`, workingDelta: best.delta })
        const output = done({ candidate: best.candidate, measurement: { arm: best.candidate.id, runs: [...best.measurement.runs, ...held.runs] }, workingDelta: best.delta })
        return record === undefined ? output : { ...output, sequentialHoldout: record }
      })
      return Optimize.of({ run })
    })
  )
}
