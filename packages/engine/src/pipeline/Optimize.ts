/**
 * Optimize: asks every registered strategy for candidate configurations, runs a tournament on the
 * working set with successive halving (a seeded half of the working set first, the survivors on
 * the rest; the two best are also merged into one more candidate), within the scan's budget, and
 * proposes the winner. The winner is then measured on the holdout for the verdict. Every candidate
 * considered, and why it lost, goes into the decision log.
 */
import { Context, Effect, Layer } from "effect"
import type { LanguageModel } from "effect/ai"
import type { AgentVersion, DecisionLogEntry, Diagnosis, EvalSetSample } from "../contracts/index.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { BudgetLedger } from "../agents/BudgetLedger.ts"
import { hashHex, hashString, seededGenerator } from "../random/Deterministic.ts"
import { ScanTraceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { type Candidate, type PassingExample, StrategyRegistry } from "../strategies/Strategy.ts"
import { type ArmMeasurement, measureArm, type RunMeasurement, summarizeByStimulus } from "./Measurement.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"

export interface OptimizeOutput {
  readonly winner: { readonly candidate: Candidate; readonly measurement: ArmMeasurement; readonly workingDelta: number } | null
  readonly decisionLog: ReadonlyArray<DecisionLogEntry>
  readonly budgetExhausted: boolean
}

const chainRank = { none: 0, brief: 1, full: 2 } as const

/** Merge two candidates: each agent takes the change of whichever candidate changed it (both: combined). */
export const mergeCandidates = (a: Candidate, b: Candidate, baseline: ReadonlyArray<AgentVersion>): Candidate => {
  const agents = baseline.map((base) => {
    const fromA = a.changed.includes(base.agentId) ? a.agents.find((x) => x.agentId === base.agentId)! : undefined
    const fromB = b.changed.includes(base.agentId) ? b.agents.find((x) => x.agentId === base.agentId)! : undefined
    if (fromA === undefined) return fromB ?? base
    if (fromB === undefined) return fromA
    return {
      ...fromA,
      template: {
        ...fromA.template,
        chainOfThought: chainRank[fromA.template.chainOfThought] >= chainRank[fromB.template.chainOfThought] ? fromA.template.chainOfThought : fromB.template.chainOfThought,
        guidance: [...new Set([...fromA.template.guidance, ...fromB.template.guidance])],
        fewShotExamples: [...fromA.template.fewShotExamples, ...fromB.template.fewShotExamples.filter((e) => !fromA.template.fewShotExamples.some((x) => x.input === e.input))].slice(-6)
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

const pairedMeanDelta = (baseline: ArmMeasurement, candidate: ArmMeasurement, stimuli: ReadonlySet<string>): number => {
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

export class Optimize extends Context.Service<Optimize, {
  readonly run: (context: ScanContext, observe: ObserveOutput, diagnosis: Diagnosis) => Effect.Effect<OptimizeOutput, StorageError>
}>()("@spectral/engine/pipeline/Optimize") {
  static readonly layer = Layer.effect(
    Optimize,
    Effect.gen(function*() {
      const registry = yield* StrategyRegistry
      const traceRepo = yield* ScanTraceRepo
      const services = yield* Effect.context<AgentRunner | WorldModelScorer | RubricScorer | BudgetLedger | LanguageModel.LanguageModel>()

      const run = Effect.fn("Optimize.run")(function*(context: ScanContext, observe: ObserveOutput, diagnosis: Diagnosis) {
        const framework = context.workspace.framework
        const decisionLog: Array<DecisionLogEntry> = []
        let budgetExhausted = false
        const working = observe.evalSet.samples.filter((s) => s.holdoutLayer === "working")
        const holdout = observe.evalSet.samples.filter((s) => s.holdoutLayer !== "working")
        const baselineRuns = observe.baseline.runs
        const rates: Record<string, { parse: number; truncated: number }> = {}
        for (const agent of context.agents) {
          const n = Math.max(1, baselineRuns.length)
          rates[agent.id] = {
            parse: baselineRuns.filter((r) => r.parseFailedAgent === agent.id).length / n,
            truncated: baselineRuns.filter((r) => r.truncatedAgents.includes(agent.id)).length / n
          }
        }
        const input = {
          workspaceId: context.workspace.id,
          agents: context.agents,
          current: context.baseline,
          clusters: diagnosis.clusters,
          agentFailureRates: rates,
          passingExamples: passingExamplesOf(context, observe.evalSet, baselineRuns),
          bounds: observe.evalSet.hyperparameterBounds,
          seed: context.scan.seed
        }
        const proposed: Array<Candidate> = []
        const seen = new Set<string>([hashHex(JSON.stringify(context.baseline))])
        for (const strategy of yield* registry.strategies) {
          const candidates = yield* strategy.propose(input).pipe(Effect.provide(services))
          if (candidates.length === 0) {
            decisionLog.push({ strategy: strategy.name, candidateId: "-", outcome: "no_candidate", reason: "nothing in the diagnosis this strategy addresses" })
          }
          for (const candidate of candidates) {
            const key = hashHex(JSON.stringify(candidate.agents))
            if (seen.has(key)) continue
            seen.add(key)
            proposed.push(candidate)
          }
        }
        const pool = proposed.slice(0, framework.optimization.maxCandidates)
        for (const c of proposed.slice(framework.optimization.maxCandidates)) {
          decisionLog.push({ strategy: c.strategy, candidateId: c.id, outcome: "lost", reason: `over the ${framework.optimization.maxCandidates}-candidate limit` })
        }
        if (pool.length === 0 || working.length === 0) return { winner: null, decisionLog, budgetExhausted } satisfies OptimizeOutput

        const measure = (candidate: Candidate, samples: ReadonlyArray<EvalSetSample>) =>
          measureArm({
            workspaceId: context.workspace.id,
            scanId: context.scan.id,
            arm: candidate.id,
            agents: context.agents,
            team: candidate.agents,
            samples,
            framework,
            phase: "optimize",
            finalAgentIds: context.finalAgentIds,
            concurrency: context.concurrency
          }).pipe(
            Effect.provide(services),
            Effect.tap((m) => Effect.andThen(traceRepo.insertTraces(context.workspace.id, m.traces), traceRepo.insertResults(context.workspace.id, m.results))),
            Effect.map((m) => m.measurement),
            Effect.catchTag("BudgetExhausted", () => Effect.sync(() => {
              budgetExhausted = true
              return undefined
            }))
          )

        // Round 1: a seeded half of the working set.
        const rng = seededGenerator(hashString(`tournament:${context.scan.seed}`))
        const shuffled = [...working].map((s) => ({ s, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.s)
        const half = shuffled.slice(0, Math.max(1, Math.ceil(shuffled.length / 2)))
        const rest = shuffled.slice(half.length)
        const halfIds = new Set(half.map((s) => s.id))
        const allWorkingIds = new Set(working.map((s) => s.id))
        const scored: Array<{ candidate: Candidate; measurement: ArmMeasurement; delta: number }> = []
        for (const candidate of pool) {
          if (budgetExhausted) {
            decisionLog.push({ strategy: candidate.strategy, candidateId: candidate.id, outcome: "over_budget", reason: "the scan's budget ran out before it was measured" })
            continue
          }
          const m = yield* measure(candidate, half)
          if (m === undefined) {
            decisionLog.push({ strategy: candidate.strategy, candidateId: candidate.id, outcome: "over_budget", reason: "the scan's budget ran out while it was measured" })
            continue
          }
          scored.push({ candidate, measurement: m, delta: pairedMeanDelta(observe.baseline, m, halfIds) })
        }
        scored.sort((a, b) => b.delta - a.delta)
        const keep = Math.max(1, Math.ceil(scored.length / 2))
        for (const [rank, s] of scored.slice(keep).entries()) {
          decisionLog.push({ strategy: s.candidate.strategy, candidateId: s.candidate.id, outcome: "lost", reason: `eliminated in round 1 (rank ${keep + rank + 1} of ${scored.length}, delta ${(s.delta * 100).toFixed(1)} pts on half the working set)`, workingDelta: s.delta })
        }
        const survivors = scored.slice(0, keep).filter((s) => s.delta > 0)
        for (const s of scored.slice(0, keep).filter((s) => s.delta <= 0)) {
          decisionLog.push({ strategy: s.candidate.strategy, candidateId: s.candidate.id, outcome: "lost", reason: `no improvement in round 1 (delta ${(s.delta * 100).toFixed(1)} pts)`, workingDelta: s.delta })
        }
        if (survivors.length >= 2 && !budgetExhausted) {
          const merged = mergeCandidates(survivors[0]!.candidate, survivors[1]!.candidate, context.baseline)
          const m = yield* measure(merged, half)
          if (m !== undefined) survivors.push({ candidate: merged, measurement: m, delta: pairedMeanDelta(observe.baseline, m, halfIds) })
        }
        // Round 2: survivors on the rest of the working set.
        const finalists: Array<{ candidate: Candidate; measurement: ArmMeasurement; delta: number }> = []
        for (const s of survivors) {
          if (budgetExhausted) {
            decisionLog.push({ strategy: s.candidate.strategy, candidateId: s.candidate.id, outcome: "over_budget", reason: "the scan's budget ran out before round 2" })
            continue
          }
          const m = rest.length === 0 ? { arm: s.candidate.id, runs: [] } : yield* measure(s.candidate, rest)
          if (m === undefined) {
            decisionLog.push({ strategy: s.candidate.strategy, candidateId: s.candidate.id, outcome: "over_budget", reason: "the scan's budget ran out during round 2" })
            continue
          }
          const combined = { arm: s.candidate.id, runs: [...s.measurement.runs, ...m.runs] }
          finalists.push({ candidate: s.candidate, measurement: combined, delta: pairedMeanDelta(observe.baseline, combined, allWorkingIds) })
        }
        finalists.sort((a, b) => b.delta - a.delta || a.candidate.id.localeCompare(b.candidate.id))
        const best = finalists[0]
        for (const f of finalists.slice(1)) {
          decisionLog.push({ strategy: f.candidate.strategy, candidateId: f.candidate.id, outcome: "lost", reason: `round 2: working delta ${(f.delta * 100).toFixed(1)} pts < winner's ${((best?.delta ?? 0) * 100).toFixed(1)} pts`, workingDelta: f.delta })
        }
        if (best === undefined || best.delta <= 0) {
          if (best !== undefined) decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "lost", reason: `no improvement on the full working set (${(best.delta * 100).toFixed(1)} pts)`, workingDelta: best.delta })
          return { winner: null, decisionLog, budgetExhausted } satisfies OptimizeOutput
        }
        // The winner on the holdout, for the verdict's generalization gate.
        const held = holdout.length === 0 ? { arm: best.candidate.id, runs: [] } : yield* measure(best.candidate, holdout)
        if (held === undefined) {
          decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "over_budget", reason: "the scan's budget ran out before the holdout was measured" })
          return { winner: null, decisionLog, budgetExhausted } satisfies OptimizeOutput
        }
        decisionLog.push({ strategy: best.candidate.strategy, candidateId: best.candidate.id, outcome: "won", reason: `best working delta ${(best.delta * 100).toFixed(1)} pts: ${best.candidate.rationale}`, workingDelta: best.delta })
        return {
          winner: { candidate: best.candidate, measurement: { arm: best.candidate.id, runs: [...best.measurement.runs, ...held.runs] }, workingDelta: best.delta },
          decisionLog,
          budgetExhausted
        } satisfies OptimizeOutput
      })
      return Optimize.of({ run })
    })
  )
}
