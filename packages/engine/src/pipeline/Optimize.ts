/**
 * Optimize: asks every registered strategy for candidate configurations (giving each the
 * diagnosis, the current configuration, working-set examples, a budget, a metered `complete` and
 * a working-set-only `evaluate`), then runs a tournament on the working set:
 *
 * - successive halving: `maxRounds` rungs on growing seeded shares of the working set (with two
 *   rounds: half, then all of it); after each rung the better half (by the framework's objective)
 *   goes on, and a candidate worse than the baseline is out; after the first rung the two best
 *   survivors of different strategies, and the best candidates of every strategy that helped, are merged
 *   into more candidates;
 * - multi-objective acceptance: the finalists are measured on every optimization vector of the
 *   framework (quality, possibly per agent; cost; latency; safety / compliance / custom through a
 *   rubric dimension or a registered objective scorer of that name); only candidates on the Pareto
 *   front (not dominated by the baseline or another finalist) that improve quality may win, and the
 *   framework's weighted objective picks among them;
 * - a hard budget: every call goes through the scan's one ledger; the tournament keeps back what
 *   measuring the winner on the holdout will cost, and stops spending when the budget is reached
 *   (the verdict then says so).
 *
 * Strategies target the blamed agents: a candidate's change to an agent with no evidence against it
 * is undone, so agents that are not to blame keep their version. The winner is measured on the
 * holdout for the verdict. Every candidate considered, and why it lost, goes into the decision log.
 */
import { Context, Effect, Layer } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, DecisionLogEntry, Diagnosis, EvalSetSample, OptimizationVector } from "../contracts/index.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetExhausted, BudgetLedger, type LedgerSnapshot, type Spend } from "../agents/BudgetLedger.ts"
import { callModel } from "../agents/ModelCaller.ts"
import { hashHex, hashString, seededGenerator } from "../random/Deterministic.ts"
import { ScanTraceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import {
  type Candidate,
  changedAgents,
  type FailingExample,
  type ObjectiveScorer,
  type PassingExample,
  type StrategyInput,
  StrategyRegistry,
  type WorkingSetEvaluation
} from "../strategies/Strategy.ts"
import { type ArmMeasurement, measureArm, type RunMeasurement, summarizeByStimulus } from "./Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"

export interface VectorValue {
  readonly vector: string
  readonly kind: OptimizationVector["kind"]
  readonly direction: OptimizationVector["direction"]
  readonly weight: number
  readonly baseline: number
  readonly candidate: number
}

export interface FinalistRecord {
  readonly candidateId: string
  readonly strategy: string
  readonly workingDelta: number
  readonly objective: number
  readonly onParetoFront: boolean
  readonly vectors: ReadonlyArray<VectorValue>
}

export interface OptimizeOutput {
  readonly winner: { readonly candidate: Candidate; readonly measurement: ArmMeasurement; readonly workingDelta: number } | null
  readonly decisionLog: ReadonlyArray<DecisionLogEntry>
  readonly budgetExhausted: boolean
  /** The finalists of the last rung with their vectors, objective and Pareto standing. */
  readonly finalists?: ReadonlyArray<FinalistRecord>
  /** Why spending stopped early, when it did. */
  readonly budgetNote?: string
}

const chainRank = { none: 0, brief: 1, full: 2 } as const

/** Merge two candidates: each agent takes the change of whichever candidate changed it (both: combined). */
export const mergeCandidates = (a: Candidate, b: Candidate, baseline: ReadonlyArray<AgentVersion>): Candidate => {
  const agents = baseline.map((base) => {
    const fromA = a.changed.includes(base.agentId) ? a.agents.find((x) => x.agentId === base.agentId)! : undefined
    const fromB = b.changed.includes(base.agentId) ? b.agents.find((x) => x.agentId === base.agentId)! : undefined
    if (fromA === undefined) return fromB ?? base
    if (fromB === undefined) return fromA
    const basePromptA = fromA.template.basePrompt
    const basePromptB = fromB.template.basePrompt
    return {
      ...fromA,
      template: {
        ...fromA.template,
        // A rewritten instruction wins over the original; two rewrites: the longer one.
        basePrompt: basePromptA === base.template.basePrompt ? basePromptB : basePromptB === base.template.basePrompt ? basePromptA : basePromptA.length >= basePromptB.length ? basePromptA : basePromptB,
        chainOfThought: chainRank[fromA.template.chainOfThought] >= chainRank[fromB.template.chainOfThought] ? fromA.template.chainOfThought : fromB.template.chainOfThought,
        guidance: [...new Set([...fromA.template.guidance, ...fromB.template.guidance])],
        fewShotExamples: [...fromA.template.fewShotExamples, ...fromB.template.fewShotExamples.filter((e) => !fromA.template.fewShotExamples.some((x) => x.input === e.input))].slice(-6),
        contextSelection: fromA.template.contextSelection.maxChars >= fromB.template.contextSelection.maxChars ? fromA.template.contextSelection : fromB.template.contextSelection,
        upstreamInjection: fromA.template.upstreamInjection.mode === "json" ? fromA.template.upstreamInjection : fromB.template.upstreamInjection
      },
      hyperparameters: {
        ...fromA.hyperparameters,
        temperature: Math.min(fromA.hyperparameters.temperature, fromB.hyperparameters.temperature),
        maxTokens: Math.max(fromA.hyperparameters.maxTokens, fromB.hyperparameters.maxTokens)
      }
    }
  })
  return {
    id: `merge(${a.id}+${b.id})`,
    strategy: "builtin/tournament_merge",
    rationale: `merge of ${a.id} and ${b.id}: ${a.rationale}; ${b.rationale}`,
    agents,
    changed: [...new Set([...a.changed, ...b.changed])]
  }
}

export const pairedMeanDelta = (baseline: ArmMeasurement, candidate: ArmMeasurement, stimuli: ReadonlySet<string>): number => {
  const b = summarizeByStimulus(baseline)
  const c = summarizeByStimulus(candidate)
  let sum = 0
  let n = 0
  for (const id of stimuli) {
    const x = b.get(id)
    const y = c.get(id)
    if (x === undefined || y === undefined || x.status === "infra_failure" || y.status === "infra_failure") continue
    sum += (y.blended ?? 0) - (x.blended ?? 0)
    n++
  }
  return n === 0 ? 0 : sum / n
}

export const passingExamplesOf = (context: ScanContext, evalSet: ObserveOutput["evalSet"], runs: ReadonlyArray<RunMeasurement>): ReadonlyArray<PassingExample> => {
  const samples = new Map(evalSet.samples.map((s) => [s.id, s]))
  const threshold = context.workspace.framework.passThreshold
  return runs
    .filter((r) => r.status === "ok" && (r.blended ?? 0) >= threshold && samples.get(r.stimulusId)?.holdoutLayer === "working")
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
  const fallback = context.finalAgentIds[0] ?? context.agents[context.agents.length - 1]?.id ?? ""
  return diagnosis.clusters.flatMap((cluster) => {
    const agentId = Object.entries(cluster.agentBlame).sort((a, b) => b[1] - a[1])[0]?.[0] ?? fallback
    return cluster.memberTraceIds.flatMap((traceId) => {
      const run = byTrace.get(traceId)
      const sample = run === undefined ? undefined : samples.get(run.stimulusId)
      if (run === undefined || sample === undefined || sample.holdoutLayer !== "working" || run.explanation === undefined) return []
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

/**
 * One vector's value for an arm on some stimuli. Quality is the mean blended score (or the mean
 * per-agent score of the vector's agents); cost and latency are per stimulus; safety, compliance
 * and custom vectors read a rubric dimension or a registered objective scorer of the same name.
 * Undefined when the vector cannot be measured.
 */
export const vectorValue = (
  vector: OptimizationVector,
  arm: ArmMeasurement,
  stimuli: ReadonlySet<string>,
  scorers: ReadonlyArray<ObjectiveScorer>,
  inputs: ReadonlyMap<string, string>
): number | undefined => {
  const runs = arm.runs.filter((r) => stimuli.has(r.stimulusId) && r.status !== "infra_failure")
  if (runs.length === 0) return undefined
  switch (vector.kind) {
    case "quality":
      return vector.agents === undefined || vector.agents.length === 0
        ? mean(runs.map((r) => r.blended ?? 0))
        : mean(runs.flatMap((r) => vector.agents!.map((a) => r.agents[a] ?? 0)))
    case "cost":
      return mean(runs.map((r) => r.costUsd))
    case "latency":
      return mean(runs.map((r) => r.latencyMs))
    default: {
      const scorer = scorers.find((s) => s.name === vector.name || s.name.endsWith(`/${vector.name}`))
      if (scorer !== undefined) {
        return mean(runs.map((r) => scorer.score(inputs.get(r.stimulusId) ?? "", r.output === undefined ? undefined : JSON.parse(r.output) as Record<string, unknown>)))
      }
      const withDimension = runs.filter((r) => r.dimensions[vector.name] !== undefined)
      return withDimension.length === 0 ? undefined : mean(withDimension.map((r) => r.dimensions[vector.name]!))
    }
  }
}

/**
 * The framework's objective for a candidate against the baseline: Σ weight × improvement. Score-like
 * vectors improve by their difference (0–1 scale); cost by its dollar difference per stimulus in
 * units of the business cost of one failure (`economics.costPerFailureUsd`: paying that much more
 * per stimulus is worth one more passing stimulus); latency by its relative change, one doubling
 * counting as 5 points — unless both arms answer in under `minLatencyMs` on average, where the
 * host's timing noise is all there is to measure (a simulated or cached model).
 */
export const minLatencyMs = 50

export const objectiveOf = (vectors: ReadonlyArray<VectorValue>, costPerFailureUsd: number): number =>
  vectors.reduce((sum, v) => {
    const sign = v.direction === "maximize" ? 1 : -1
    const weight = v.weight
    const improvement = v.kind === "cost"
      ? sign * (v.candidate - v.baseline) / Math.max(costPerFailureUsd, 1e-9)
      : v.kind === "latency"
      ? Math.max(v.candidate, v.baseline) < minLatencyMs ? 0 : sign * 0.05 * Math.log2(Math.max(1e-9, v.candidate) / Math.max(1e-9, v.baseline))
      : sign * (v.candidate - v.baseline)
    return sum + weight * (Number.isFinite(improvement) ? improvement : 0)
  }, 0)

/** True when `a` is at least as good as `b` on every vector and better on one. */
export const dominates = (a: ReadonlyArray<VectorValue>, b: ReadonlyArray<VectorValue>): boolean => {
  let better = false
  for (const va of a) {
    const vb = b.find((v) => v.vector === va.vector)
    if (vb === undefined) continue
    const x = va.direction === "maximize" ? va.candidate : -va.candidate
    const y = vb.direction === "maximize" ? vb.candidate : -vb.candidate
    if (x < y - 1e-12) return false
    if (x > y + 1e-12) better = true
  }
  return better
}

const asBaseline = (vectors: ReadonlyArray<VectorValue>): ReadonlyArray<VectorValue> => vectors.map((v) => ({ ...v, candidate: v.baseline }))

const remaining = (s: LedgerSnapshot) => ({
  calls: s.budget.maxCalls - s.total.calls - s.inFlight.calls,
  tokens: s.budget.maxTokens - s.total.tokens - s.inFlight.tokens,
  usd: s.budget.maxUsd - s.total.usd - s.inFlight.usd
})

const fits = (s: LedgerSnapshot, need: Spend) => {
  const r = remaining(s)
  return r.calls >= need.calls && r.tokens >= need.tokens && r.usd >= need.usd
}

const scale = (spend: Spend, factor: number): Spend => ({ calls: Math.ceil(spend.calls * factor), tokens: Math.ceil(spend.tokens * factor), usd: spend.usd * factor, cachedCalls: 0 })

export class Optimize extends Context.Service<Optimize, {
  readonly run: (context: ScanContext, observe: ObserveOutput, diagnosis: Diagnosis) => Effect.Effect<OptimizeOutput, StorageError>
}>()("@spectral/engine/pipeline/Optimize") {
  static readonly layer = Layer.effect(
    Optimize,
    Effect.gen(function*() {
      const registry = yield* StrategyRegistry
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
        const workingById = new Map(working.map((s) => [s.id, s]))
        const inputs = new Map(observe.evalSet.samples.map((s) => [s.id, s.input]))
        const baselineRuns = observe.baseline.runs
        const scorers = yield* registry.scorers
        const rates: Record<string, { parse: number; truncated: number }> = {}
        for (const agent of context.agents) {
          const n = Math.max(1, baselineRuns.length)
          rates[agent.id] = {
            parse: baselineRuns.filter((r) => r.parseFailedAgent === agent.id).length / n,
            truncated: baselineRuns.filter((r) => r.truncatedAgents.includes(agent.id)).length / n
          }
        }
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

        const measureRaw = (arm: string, team: ReadonlyArray<AgentVersion>, samples: ReadonlyArray<EvalSetSample>) =>
          measureArm({
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
          }).pipe(Effect.provide(services))

        // Working-set evaluations for strategies: memoized per configuration and stimulus; the
        // baseline's own runs answer for the baseline configuration.
        const memo = new Map<string, ReadonlyArray<RunMeasurement>>()
        const baselineKey = hashHex(JSON.stringify(context.baseline))
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
                if (!fits(yield* ledger.snapshot, { ...cost(missing.length), calls: cost(missing.length).calls + holdoutReserve.calls, tokens: cost(missing.length).tokens + holdoutReserve.tokens, usd: cost(missing.length).usd + holdoutReserve.usd })) {
                  return yield* new BudgetExhausted({ phase: "optimize", message: `${strategyName}: the scan's budget is kept for the tournament and the holdout` })
                }
                allowance.left -= missing.length
                probe++
                const measured = yield* measureRaw(`probe:${strategyName}:${probe}`, team, missing)
                for (const r of measured.measurement.runs) memo.set(`${key}:${r.stimulusId}`, [...(memo.get(`${key}:${r.stimulusId}`) ?? []), r])
              }
              const summaries = summarizeByStimulus({ arm: "probe", runs: wanted.flatMap((s) => memo.get(`${key}:${s.id}`) ?? []) })
              const stimuli = wanted.map((s) => {
                const summary = summaries.get(s.id)
                const runs = memo.get(`${key}:${s.id}`) ?? []
                const score = summary?.blended ?? 0
                return {
                  stimulusId: s.id,
                  segment: s.segment,
                  score,
                  passed: score >= framework.passThreshold,
                  ...(runs[0]?.explanation !== undefined ? { explanation: runs[0].explanation } : {}),
                  ...(runs[0]?.output !== undefined ? { output: runs[0].output } : {})
                }
              })
              return { score: mean(stimuli.map((s) => s.score)), passRate: mean(stimuli.map((s) => (s.passed ? 1 : 0))), stimuli } satisfies WorkingSetEvaluation
            })

        const modelOf = context.baseline[context.baseline.length - 1]?.hyperparameters
        const completeFor = (strategyName: string) => (system: string, user: string, options?: { readonly temperature?: number; readonly maxTokens?: number; readonly purpose?: string; readonly sample?: number }) =>
          callModel(system, user, {
            provider: modelOf?.provider ?? "default",
            model: modelOf?.model ?? "default",
            temperature: options?.temperature ?? 0.7,
            maxTokens: options?.maxTokens ?? 800,
            epoch: options?.sample ?? 0
          }, { workspaceId: context.workspace.id, phase: "optimize", purpose: options?.purpose ?? `strategy:${strategyName}` }).pipe(
            Effect.map((answer) => answer.text),
            Effect.catchTag("ModelCallFailed", () => Effect.succeed("")),
            Effect.provide(services)
          )

        const base = {
          workspaceId: context.workspace.id,
          agents: context.agents,
          current: context.baseline,
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
        const suspects = new Set([
          ...Object.entries(agentBlame).filter(([, share]) => share > 0).map(([agent]) => agent),
          ...Object.entries(rates).filter(([, r]) => r.parse > 0 || r.truncated > 0).map(([agent]) => agent)
        ])

        // Proposals.
        const proposedByStrategy: Array<Array<Candidate>> = []
        const seen = new Set<string>([baselineKey])
        for (const strategy of yield* registry.strategies) {
          const allowance = { left: working.length * 4 }
          const input: StrategyInput = {
            ...base,
            strategyName: strategy.name,
            budget: { maxCandidates: framework.optimization.maxCandidates, maxModelCalls: 8, maxEvaluations: allowance.left },
            complete: completeFor(strategy.name),
            evaluate: evaluateFor(strategy.name, allowance)
          }
          const result = yield* strategy.propose(input).pipe(
            Effect.provide(services),
            Effect.map((candidates) => ({ candidates, exhausted: undefined as string | undefined })),
            Effect.catchTag("BudgetExhausted", (e) => Effect.succeed({ candidates: [] as ReadonlyArray<Candidate>, exhausted: e.message }))
          )
          if (result.exhausted !== undefined) {
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "over_budget", reason: `stopped proposing: ${result.exhausted}` })
            if ((yield* ledger.snapshot).exhausted) budgetExhausted = true
          } else if (result.candidates.length === 0) {
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "no_candidate", reason: "nothing in the diagnosis this strategy addresses" })
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
            return yield* measureRaw(candidate.id, candidate.agents, samples).pipe(
              Effect.tap((m) => Effect.andThen(traceRepo.insertTraces(context.workspace.id, m.traces), traceRepo.insertResults(context.workspace.id, m.results))),
              Effect.map((m): ArmMeasurement | undefined => m.measurement),
              Effect.catchTag("BudgetExhausted", () =>
                Effect.sync(() => {
                  budgetExhausted = true
                  budgetNote = budgetNote ?? "the scan's budget ran out during the tournament"
                  return undefined
                }))
            )
          })

        // Successive halving over growing shares of the working set.
        const rng = seededGenerator(hashString(`tournament:${context.scan.seed}`))
        const shuffled = [...working].map((s) => ({ s, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.s)
        const rounds = Math.max(1, framework.optimization.maxRounds)
        const rungSizes = Array.from({ length: rounds }, (_, r) => Math.max(1, Math.ceil(shuffled.length / 2 ** (rounds - 1 - r))))
        const costPerFailure = framework.economics.costPerFailureUsd
        const vectors = framework.objective.vectors.length > 0
          ? framework.objective.vectors
          : [{ name: "quality", kind: "quality" as const, direction: "maximize" as const, weight: 1 }]
        const vectorsFor = (measurement: ArmMeasurement, ids: ReadonlySet<string>): ReadonlyArray<VectorValue> =>
          vectors.flatMap((v) => {
            const b = vectorValue(v, observe.baseline, ids, scorers, inputs)
            const c = vectorValue(v, measurement, ids, scorers, inputs)
            if (b === undefined || c === undefined) return []
            return [{ vector: v.name, kind: v.kind, direction: v.direction, weight: v.weight, baseline: b, candidate: c } satisfies VectorValue]
          })
        interface Entry { candidate: Candidate; measurement: ArmMeasurement; delta: number; objective: number; vectors: ReadonlyArray<VectorValue> }
        const score = (candidate: Candidate, measurement: ArmMeasurement, ids: ReadonlySet<string>): Entry => {
          const v = vectorsFor(measurement, ids)
          return { candidate, measurement, delta: pairedMeanDelta(observe.baseline, measurement, ids), objective: objectiveOf(v, costPerFailure), vectors: v }
        }
        let alive: Array<Entry> = pool.map((candidate) => ({ candidate, measurement: { arm: candidate.id, runs: [] }, delta: 0, objective: 0, vectors: [] }))
        let measuredUpTo = 0
        for (const [round, size] of rungSizes.entries()) {
          const slice = shuffled.slice(measuredUpTo, size)
          const ids = new Set(shuffled.slice(0, size).map((s) => s.id))
          const next: Array<Entry> = []
          // A candidate added after the earlier rungs (the merge) catches up on them.
          const todoOf = (entry: Entry) => {
            const have = new Set(entry.measurement.runs.map((r) => r.stimulusId))
            return [...shuffled.slice(0, measuredUpTo).filter((s) => !have.has(s.id)), ...slice]
          }
          // When the whole rung fits the budget (with the holdout kept back), its candidates are
          // measured at once: the scan's call permits bound the calls, and no candidate waits for
          // another. Otherwise one at a time, so the budget stops the rung where it runs out.
          const rungStimuli = alive.reduce((n, entry) => n + todoOf(entry).length, 0)
          const rungNeed = cost(rungStimuli)
          const together = fits(yield* ledger.snapshot, { calls: rungNeed.calls + holdoutReserve.calls, tokens: rungNeed.tokens + holdoutReserve.tokens, usd: rungNeed.usd + holdoutReserve.usd, cachedCalls: 0 })
          const measuredRung = together
            ? yield* Effect.forEach(alive, (entry) => measure(entry.candidate, todoOf(entry), false), { concurrency: "unbounded" })
            : undefined
          for (const [index, entry] of alive.entries()) {
            if (measuredRung === undefined && budgetExhausted) {
              decisionLog.push({ strategy: entry.candidate.strategy, candidateId: entry.candidate.id, outcome: "over_budget", reason: `the scan's budget ran out before round ${round + 1}` })
              continue
            }
            const m = measuredRung === undefined ? yield* measure(entry.candidate, todoOf(entry), true) : measuredRung[index]
            if (m === undefined) {
              decisionLog.push({ strategy: entry.candidate.strategy, candidateId: entry.candidate.id, outcome: "over_budget", reason: `the scan's budget ran out while it was measured in round ${round + 1}` })
              continue
            }
            next.push(score(entry.candidate, { arm: entry.candidate.id, runs: [...entry.measurement.runs, ...m.runs] }, ids))
          }
          measuredUpTo = size
          next.sort((a, b) => b.objective - a.objective || b.delta - a.delta || a.candidate.id.localeCompare(b.candidate.id))
          if (round === rungSizes.length - 1) {
            alive = next
            break
          }
          const keep = Math.max(1, Math.ceil(next.length / 2))
          for (const [rank, e] of next.slice(keep).entries()) {
            decisionLog.push({ strategy: e.candidate.strategy, candidateId: e.candidate.id, outcome: "lost", reason: `eliminated in round ${round + 1} (rank ${keep + rank + 1} of ${next.length}, objective ${(e.objective * 100).toFixed(1)}, delta ${(e.delta * 100).toFixed(1)} pts on ${ids.size} working stimuli)`, workingDelta: e.delta })
          }
          // A tie with the baseline on a small rung may still help on the rest: only a loss is out.
          const survivors = next.slice(0, keep).filter((e) => e.delta >= 0)
          for (const e of next.slice(0, keep).filter((e) => e.delta < 0)) {
            decisionLog.push({ strategy: e.candidate.strategy, candidateId: e.candidate.id, outcome: "lost", reason: `worse than the baseline in round ${round + 1} (delta ${(e.delta * 100).toFixed(1)} pts on ${ids.size} working stimuli)`, workingDelta: e.delta })
          }
          if (round === 0 && !budgetExhausted) {
            // Merges: the two best survivors of different strategies, and all of the survivors'
            // strategies' best candidates folded together (best first).
            const distinct = survivors.filter((e, i) => survivors.findIndex((o) => o.candidate.strategy === e.candidate.strategy) === i)
            // Every strategy that helped in this rung (even if halving dropped it), best first:
            // complementary fixes (a rule learnt from one cluster, reasoning, a cooler sampler) add up.
            const helped = next.filter((e) => e.delta > 0).filter((e, i, all) => all.findIndex((o) => o.candidate.strategy === e.candidate.strategy) === i)
            const merges = [
              ...(distinct.length >= 2 ? [distinct.slice(0, 2)] : []),
              ...(helped.length >= 3 ? [helped] : [])
            ]
            for (const group of merges) {
              const merged = group.slice(1).reduce((acc, e) => mergeCandidates(acc, e.candidate, context.baseline), group[0]!.candidate)
              const key = hashHex(JSON.stringify(merged.agents))
              if (seen.has(key)) continue
              seen.add(key)
              survivors.push({ candidate: merged, measurement: { arm: merged.id, runs: [] }, delta: 0, objective: 0, vectors: [] })
            }
          }
          alive = survivors
        }

        // Multi-objective acceptance on the full working set.
        const allWorkingIds = new Set(working.map((s) => s.id))
        const finalists = alive.map((e) => score(e.candidate, e.measurement, allWorkingIds))
        const baselineVectors = finalists[0] === undefined ? [] : asBaseline(finalists[0].vectors)
        const onFront = (e: Entry) => !dominates(baselineVectors, e.vectors) && !finalists.some((o) => o !== e && dominates(o.vectors, e.vectors))
        const records: Array<FinalistRecord> = finalists.map((e) => ({
          candidateId: e.candidate.id,
          strategy: e.candidate.strategy,
          workingDelta: e.delta,
          objective: e.objective,
          onParetoFront: onFront(e),
          vectors: e.vectors
        }))
        const eligible = finalists.filter((e) => onFront(e) && e.delta > 0 && e.objective > 0)
          .sort((a, b) => b.objective - a.objective || b.delta - a.delta || a.candidate.id.localeCompare(b.candidate.id))
        const best = eligible[0]
        const describe = (e: Entry) => e.vectors.map((v) => `${v.vector} ${v.baseline.toPrecision(3)}→${v.candidate.toPrecision(3)}`).join(", ")
        for (const e of finalists.filter((f) => f !== best)) {
          const why = !onFront(e)
            ? dominates(baselineVectors, e.vectors) ? "dominated by the baseline on the framework's vectors" : `off the Pareto front (dominated by ${finalists.find((o) => o !== e && dominates(o.vectors, e.vectors))?.candidate.id})`
            : e.delta <= 0 ? `no quality improvement on the full working set (${(e.delta * 100).toFixed(1)} pts)`
            : e.objective <= 0 ? `the framework's objective does not improve (${(e.objective * 100).toFixed(2)})`
            : `on the Pareto front, but its objective ${(e.objective * 100).toFixed(2)} < the winner's ${((best?.objective ?? 0) * 100).toFixed(2)}`
          decisionLog.push({ strategy: e.candidate.strategy, candidateId: e.candidate.id, outcome: "lost", reason: `final round: ${why} (${describe(e)})`, workingDelta: e.delta })
        }
        const done = (winner: OptimizeOutput["winner"]) => ({ winner, decisionLog, budgetExhausted, finalists: records, ...(budgetNote !== undefined ? { budgetNote } : {}) }) satisfies OptimizeOutput
        if (best === undefined) return done(null)
        // The winner on the holdout, for the verdict's generalization gate.
        const held = yield* measure(best.candidate, holdout, false)
        if (held === undefined) {
          decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "over_budget", reason: "the scan's budget ran out before the holdout was measured" })
          return done(null)
        }
        decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "won", reason: `on the Pareto front with the best objective ${(best.objective * 100).toFixed(2)}, working delta ${(best.delta * 100).toFixed(1)} pts (${describe(best)}): ${best.candidate.rationale}`, workingDelta: best.delta })
        return done({ candidate: best.candidate, measurement: { arm: best.candidate.id, runs: [...best.measurement.runs, ...held.runs] }, workingDelta: best.delta })
      })
      return Optimize.of({ run })
    })
  )
}
