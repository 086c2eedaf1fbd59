/**
 * What the optimize phase hands each strategy besides the diagnosis and the configuration (see
 * StrategyInput in strategies/Strategy.ts): passing and failing working-set examples as the rubric
 * saw them (no ground truth), per-agent failure rates and blame, a working-set-only `evaluate`
 * memoized per configuration and stimulus, and a metered `complete` within the strategy's model-call
 * allowance. Both capabilities charge the scan's one budget ledger and keep back what measuring the
 * winner on the holdout will cost. Does not ask the strategies, nor judge their candidates (Optimize and
 * the Tournament do).
 */
import { Context, Effect } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, Diagnosis, EvalSetSample } from "../contracts/index.ts"
import type { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetExhausted, type BudgetLedger } from "../agents/BudgetLedger.ts"
import { callModel, worstCaseOf } from "../agents/ModelCaller.ts"
import { hashHex } from "../random/Deterministic.ts"
import type { RubricScorer } from "../scoring/RubricScorer.ts"
import type { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { blamedAgent, CompletionFailed, type FailingExample, finalAgentOf, type PassingExample, type WorkingSetEvaluation } from "../strategies/Strategy.ts"
import { type MeasuredArm, type RunMeasurement, summarizeByStimulus } from "../measurement/Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"

export const passingExamplesOf = (context: ScanContext, evalSet: ObserveOutput["evalSet"], runs: ReadonlyArray<RunMeasurement>): ReadonlyArray<PassingExample> => {
  const samples = new Map(evalSet.samples.map((s) => [s.id, s]))
  const threshold = context.workspace.framework.passThreshold
  return runs
    // Conformance samples are customer data under retention: never copied into a template as an
    // example (a purged trace's text must not survive in change sets).
    .filter((r) =>
      r.status === "ok" && (r.blended ?? 0) >= threshold && samples.get(r.stimulusId)?.holdoutLayer === "working" &&
      samples.get(r.stimulusId)?.provenance !== "conformance_sample"
    )
    .flatMap((r) =>
      context.agents.map((agent) => ({
        agentId: agent.id,
        stimulusId: r.stimulusId,
        segment: samples.get(r.stimulusId)!.segment,
        input: samples.get(r.stimulusId)!.input,
        output: JSON.stringify(r.agentOutputs[agent.id] ?? {})
      }))
    )
}

/** Failing working-set runs of each cluster, as the rubric saw them (no ground truth). */
export const failingExamplesOf = (context: ScanContext, evalSet: ObserveOutput["evalSet"], runs: ReadonlyArray<RunMeasurement>, diagnosis: Diagnosis): ReadonlyArray<FailingExample> => {
  const samples = new Map(evalSet.samples.map((s) => [s.id, s]))
  const byTrace = new Map(runs.map((r) => [r.traceId, r]))
  const fallback = finalAgentOf({ current: context.baseline, finalAgentIds: context.finalAgentIds })
  return diagnosis.clusters.flatMap((cluster) => {
    const agentId = blamedAgent(cluster, fallback)
    return cluster.memberTraceIds.flatMap((traceId) => {
      const run = byTrace.get(traceId)
      const sample = run === undefined ? undefined : samples.get(run.stimulusId)
      // Conformance samples (customer data under retention) are never handed to strategies.
      if (run === undefined || sample === undefined || sample.holdoutLayer !== "working" || run.explanation === undefined || sample.provenance === "conformance_sample") return []
      return [{
        clusterId: cluster.id,
        agentId,
        stimulusId: run.stimulusId,
        segment: sample.segment,
        input: sample.input,
        output: JSON.stringify(run.agentOutputs[agentId] ?? {}),
        explanation: run.explanation
      }]
    })
  })
}

/** Per-agent share of all quality failures, from the clusters' blame. */
export const teamBlame = (diagnosis: Diagnosis): Readonly<Record<string, number>> => {
  const totals: Record<string, number> = {}
  const members = diagnosis.clusters.reduce((s, c) => s + c.memberTraceIds.length, 0)
  for (const c of diagnosis.clusters) {
    for (const [agent, share] of Object.entries(c.agentBlame)) totals[agent] = (totals[agent] ?? 0) + share * c.memberTraceIds.length / Math.max(1, members)
  }
  return totals
}

const mean = (values: ReadonlyArray<number>) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length)

/** Rate of parse failures and of truncated answers per agent in the baseline runs. */
export const agentFailureRates = (context: ScanContext, baselineRuns: ReadonlyArray<RunMeasurement>): Record<string, { parse: number; truncated: number }> => {
  const rates: Record<string, { parse: number; truncated: number }> = {}
  for (const agent of context.agents) {
    const n = Math.max(1, baselineRuns.length)
    rates[agent.id] = {
      parse: baselineRuns.filter((r) => r.parseFailedAgent === agent.id).length / n,
      truncated: baselineRuns.filter((r) => r.truncatedAgents.includes(agent.id)).length / n
    }
  }
  return rates
}

/**
 * The `evaluate` each strategy gets: measures a configuration on working-set stimuli (all, or the
 * given ids), memoized per configuration and stimulus; the baseline's own runs answer for the
 * baseline configuration. Fails with BudgetExhausted past the strategy's allowance, or when the
 * scan's budget must be kept for the tournament and the holdout.
 */
export const makeWorkingSetEvaluator = <E>(options: {
  readonly context: ScanContext
  readonly working: ReadonlyArray<EvalSetSample>
  readonly baselineRuns: ReadonlyArray<RunMeasurement>
  /** Hash of the baseline configuration (the memo key of the baseline's runs). */
  readonly baselineKey: string
  readonly measureRaw: (arm: string, team: ReadonlyArray<AgentVersion>, samples: ReadonlyArray<EvalSetSample>) => Effect.Effect<MeasuredArm, E>
  /** Whether measuring this many stimuli more still leaves what the holdout measurement will cost. */
  readonly fitsWithHoldoutReserve: (stimuli: number) => Effect.Effect<boolean>
}) => {
  const { context, working, baselineRuns, baselineKey, measureRaw, fitsWithHoldoutReserve } = options
  const framework = context.workspace.framework
  const workingById = new Map(working.map((s) => [s.id, s]))

  // Working-set evaluations for strategies: memoized per configuration and stimulus; the
  // baseline's own runs answer for the baseline configuration.
  const memo = new Map<string, ReadonlyArray<RunMeasurement>>()
  for (const r of baselineRuns) memo.set(`${baselineKey}:${r.stimulusId}`, [...(memo.get(`${baselineKey}:${r.stimulusId}`) ?? []), r])
  let probe = 0
  const evaluateFor = (strategyName: string, allowance: { left: number }) =>
    (team: ReadonlyArray<AgentVersion>, stimulusIds?: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const key = hashHex(JSON.stringify(team))
        const wanted = (stimulusIds === undefined ? working : stimulusIds.map((id) => workingById.get(id)).filter((s): s is EvalSetSample => s !== undefined))
        const missing = wanted.filter((s) => !memo.has(`${key}:${s.id}`))
        if (missing.length > 0) {
          if (missing.length > allowance.left) {
            return yield* new BudgetExhausted({ phase: "optimize", message: `${strategyName}: its evaluation allowance is spent` })
          }
          if (!(yield* fitsWithHoldoutReserve(missing.length))) {
            return yield* new BudgetExhausted({ phase: "optimize", message: `${strategyName}: the scan's budget is kept for the tournament and the holdout` })
          }
          allowance.left -= missing.length
          probe++
          const measured = yield* measureRaw(`probe:${strategyName}:${probe}`, team, missing)
          for (const r of measured.measurement.runs) memo.set(`${key}:${r.stimulusId}`, [...(memo.get(`${key}:${r.stimulusId}`) ?? []), r])
        }
        const summaries = summarizeByStimulus({ arm: "probe", runs: wanted.flatMap((s) => memo.get(`${key}:${s.id}`) ?? []) })
        // An infrastructure failure is no score at all: left out, not counted as 0.
        const infraFailures = wanted.filter((s) => summaries.get(s.id)?.blended === undefined).map((s) => s.id)
        const stimuli = wanted.flatMap((s) => {
          const summary = summaries.get(s.id)
          if (summary?.blended === undefined) return []
          const runs = (memo.get(`${key}:${s.id}`) ?? []).filter((r) => r.status !== "infra_failure")
          const score = summary.blended
          return [{
            stimulusId: s.id,
            segment: s.segment,
            score,
            passed: score >= framework.passThreshold,
            ...(runs[0]?.explanation !== undefined ? { explanation: runs[0].explanation } : {}),
            ...(runs[0]?.output !== undefined ? { output: runs[0].output } : {})
          }]
        })
        return { score: mean(stimuli.map((s) => s.score)), passRate: mean(stimuli.map((s) => (s.passed ? 1 : 0))), stimuli, infraFailures } satisfies WorkingSetEvaluation
      })
  return evaluateFor
}

/**
 * The `complete` each strategy gets: one metered model call with the baseline's final agent's
 * provider and model. Fails with BudgetExhausted (naming the strategy) once the strategy's
 * `maxModelCalls` allowance is spent, or when the call's worst case would eat into what measuring
 * the winner on the holdout needs (`keepsHoldoutReserve`); a model failure is a CompletionFailed the
 * strategy can handle, never an empty answer.
 */
export const makeStrategyComplete = (options: {
  readonly context: ScanContext
  readonly services: Context.Context<AgentRunner | WorldModelScorer | RubricScorer | BudgetLedger | LanguageModel.LanguageModel>
  /** Whether spending this much more still leaves what the holdout measurement will cost. */
  readonly keepsHoldoutReserve: (need: { readonly calls: number; readonly tokens: number; readonly usd: number }) => Effect.Effect<boolean>
}) => {
  const { context, services, keepsHoldoutReserve } = options
  const modelOf = context.baseline[context.baseline.length - 1]?.hyperparameters
  const completeFor = (strategyName: string, allowance: { readonly max: number; left: number }) =>
    (system: string, user: string, options?: { readonly temperature?: number; readonly maxTokens?: number; readonly purpose?: string; readonly sample?: number }) =>
      Effect.gen(function*() {
        if (allowance.left <= 0) {
          return yield* new BudgetExhausted({ phase: "optimize", message: `${strategyName}: its model-call allowance (${allowance.max} calls) is spent` })
        }
        const parameters = {
          provider: modelOf?.provider ?? "default",
          model: modelOf?.model ?? "default",
          temperature: options?.temperature ?? 0.7,
          maxTokens: options?.maxTokens ?? 800,
          epoch: options?.sample ?? 0
        }
        const worstCase = yield* worstCaseOf(system, user, parameters)
        if (!(yield* keepsHoldoutReserve({ calls: 1, ...worstCase }))) {
          return yield* new BudgetExhausted({ phase: "optimize", message: `${strategyName}: the rest of the scan's budget is kept for measuring the winner on the holdout` })
        }
        allowance.left--
        return yield* callModel(system, user, parameters, { workspaceId: context.workspace.id, phase: "optimize", purpose: options?.purpose ?? `strategy:${strategyName}` }).pipe(
          Effect.map((answer) => answer.text),
          Effect.catchTag("ModelCallFailed", (e) => Effect.fail(new CompletionFailed({ strategy: strategyName, kind: e.kind, message: e.message })))
        )
      }).pipe(Effect.provide(services))
  return completeFor
}
