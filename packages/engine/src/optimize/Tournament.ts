/**
 * The optimize phase's tournament on the working set, as the `Tournament` service (replace it
 * with `Layer.succeed(Tournament, …)` to run another selection) and the functions it is built of:
 *
 * - successive halving (`runTournament`): `maxRounds` rungs on growing seeded shares of the working
 *   set (with two rounds: half, then all of it); after each rung the better half (by the framework's
 *   objective) goes on, and a candidate worse than the baseline is out; after the first rung the two
 *   best survivors of different strategies, and the best candidates of every strategy that helped,
 *   are merged (`mergeCandidates`) into more candidates;
 * - multi-objective acceptance: the finalists are measured on every optimization vector of the
 *   framework (`vectorValue`: quality, possibly per agent; cost; latency; safety / compliance /
 *   custom through a rubric dimension or a registered objective scorer of that name); only
 *   candidates on the Pareto front (`dominates`) that improve quality may win, and the framework's
 *   weighted objective (`objectiveOf`) picks among them.
 *
 * Every candidate eliminated, and why, is in the decision log it returns, with the configurations
 * it considered (the seen set, grown by its merges). Does not own the budget, the measurement of a candidate (both are the `measure` it is given) or the holdout
 * measurement of the winner (Optimize does that).
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { AgentVersion, DecisionLogEntry, EvalSetSample, EvaluationFramework, OptimizationVector } from "../contracts/index.ts"
import { hashHex, hashString, seededGenerator } from "../random/Deterministic.ts"
import type { ObjectiveScorer } from "../plugin/ScorerRegistry.ts"
import type { Candidate } from "../strategies/Strategy.ts"
import { type ArmMeasurement, blendedByStimulus, type RunMeasurement } from "../measurement/Measurement.ts"
import type { VectorValue, FinalistRecord } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { VectorValue, FinalistRecord }

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

/**
 * Mean candidate − baseline blended score over the stimuli both arms scored. An answer that did not
 * parse scores what the world model gives it (0, honestly); a stimulus an arm could not run at all
 * (every run an infrastructure failure: no blended score) is left out of the pair, never counted as 0.
 */
export const pairedMeanDelta = (baseline: ArmMeasurement, candidate: ArmMeasurement, stimuli: ReadonlySet<string>): number => {
  const b = blendedByStimulus(baseline.runs)
  const c = blendedByStimulus(candidate.runs)
  let sum = 0
  let n = 0
  for (const id of stimuli) {
    const x = b.get(id)
    const y = c.get(id)
    if (x === undefined || y === undefined) continue
    sum += y - x
    n++
  }
  return n === 0 ? 0 : sum / n
}

/** The stimuli among `stimuli` that both arms scored (at least one run that was not an infrastructure failure). */
export const scoredByBoth = (baseline: ArmMeasurement, candidate: ArmMeasurement, stimuli: ReadonlySet<string>): ReadonlySet<string> => {
  const b = scoredStimuli(baseline.runs)
  const c = scoredStimuli(candidate.runs)
  const both = new Set<string>()
  for (const id of stimuli) if (b.has(id) && c.has(id)) both.add(id)
  return both
}

const scoredIndex = new WeakMap<ReadonlyArray<RunMeasurement>, ReadonlySet<string>>()

/**
 * The stimuli with a run that was not an infrastructure failure: once per runs array (a
 * measurement's runs are never mutated), so the baseline's is not rebuilt for every candidate.
 */
const scoredStimuli = (runs: ReadonlyArray<RunMeasurement>): ReadonlySet<string> => {
  let scored = scoredIndex.get(runs)
  if (scored === undefined) {
    const ids = new Set<string>()
    for (const run of runs) if (run.status !== "infra_failure") ids.add(run.stimulusId)
    scored = ids
    scoredIndex.set(runs, scored)
  }
  return scored
}

const decodeFinalOutput = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)))

/** A run's final answer as an object, or undefined when it has none or it is not a JSON object. */
const finalOutputOf = (output: string | undefined): Readonly<Record<string, unknown>> | undefined =>
  output === undefined ? undefined : Option.getOrUndefined(decodeFinalOutput(output))

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
): number | undefined => vectorValueOf(vector, measuredRuns(arm, stimuli), scorers, inputs)

/** The arm's runs on `stimuli` that were not infrastructure failures (what every vector is measured on). */
const measuredRuns = (arm: ArmMeasurement, stimuli: ReadonlySet<string>): ReadonlyArray<RunMeasurement> =>
  arm.runs.filter((r) => stimuli.has(r.stimulusId) && r.status !== "infra_failure")

/** `vectorValue` on the runs `measuredRuns` picked (picked once for all of a candidate's vectors). */
const vectorValueOf = (
  vector: OptimizationVector,
  runs: ReadonlyArray<RunMeasurement>,
  scorers: ReadonlyArray<ObjectiveScorer>,
  inputs: ReadonlyMap<string, string>
): number | undefined => {
  if (runs.length === 0) return undefined
  switch (vector.kind) {
    case "quality": {
      // Every run that is not an infrastructure failure has a blended score (0 for an answer that
      // did not parse); per agent, only the agents the world model scored count. Summed in run
      // order, as `mean` would.
      let sum = 0
      let n = 0
      if (vector.agents === undefined || vector.agents.length === 0) {
        for (const r of runs) {
          if (r.blended === undefined) continue
          sum += r.blended
          n++
        }
      } else {
        for (const r of runs) {
          for (const a of vector.agents) {
            const value = r.agents[a]
            if (value === undefined) continue
            sum += value
            n++
          }
        }
      }
      return n === 0 ? undefined : sum / n
    }
    case "cost": {
      let sum = 0
      for (const r of runs) sum += r.costUsd
      return sum / runs.length
    }
    case "latency": {
      let sum = 0
      for (const r of runs) sum += r.latencyMs
      return sum / runs.length
    }
    default: {
      const scorer = scorers.find((s) => s.name === vector.name || s.name.endsWith(`/${vector.name}`))
      if (scorer !== undefined) {
        // An output that is not a JSON object is no answer for the scorer (absent), never a crash.
        return mean(runs.map((r) => scorer.score(inputs.get(r.stimulusId) ?? "", finalOutputOf(r.output))))
      }
      // Ground truth first: the world model's dimension of that name, else the judge's.
      const dimension = (r: RunMeasurement) => r.worldDimensions[vector.name] ?? r.rubricDimensions[vector.name]
      const withDimension = runs.filter((r) => dimension(r) !== undefined)
      return withDimension.length === 0 ? undefined : mean(withDimension.map((r) => dimension(r)!))
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

/** A candidate in the tournament: its measurement so far, its paired delta, objective and vectors. */
export interface TournamentEntry { candidate: Candidate; measurement: ArmMeasurement; delta: number; objective: number; vectors: ReadonlyArray<VectorValue> }

/** An entry's vectors, baseline → candidate (for the decision log). */
export const describeVectors = (e: TournamentEntry) => e.vectors.map((v) => `${v.vector} ${v.baseline.toPrecision(3)}→${v.candidate.toPrecision(3)}`).join(", ")

export interface TournamentInput<E> {
  readonly framework: EvaluationFramework
  /** The scan's seed: the rungs' shares of the working set are drawn from it. */
  readonly seed: number
  /** The baseline configuration (merges start from it) and its measurement on the working set. */
  readonly baselineAgents: ReadonlyArray<AgentVersion>
  readonly baseline: ArmMeasurement
  /** The candidates that compete (deduplicated, within the candidate limit). */
  readonly pool: ReadonlyArray<Candidate>
  readonly working: ReadonlyArray<EvalSetSample>
  readonly scorers: ReadonlyArray<ObjectiveScorer>
  /** Each stimulus's input by id (for objective scorers). */
  readonly inputs: ReadonlyMap<string, string>
  /** Hashes of the configurations already considered; a merge repeating one is skipped. */
  readonly seen: ReadonlySet<string>
  /** Measure a candidate on some stimuli (through the scan's budget); undefined when it cannot be paid for. */
  readonly measure: (candidate: Candidate, samples: ReadonlyArray<EvalSetSample>, keepForHoldout: boolean) => Effect.Effect<ArmMeasurement | undefined, E>
  /** Whether measuring this many stimuli more still leaves what the holdout measurement will cost. */
  readonly fitsWithHoldoutReserve: (stimuli: number) => Effect.Effect<boolean>
  /** Whether the scan's budget has run out (set by `measure`). */
  readonly budgetExhausted: () => boolean
}

/**
 * Successive halving over the pool, then multi-objective acceptance on the full working set: the
 * winner (undefined when no finalist is eligible) and every finalist's record. The finalists that
 * do not win are logged as lost; the winner is not logged (its holdout measurement decides how).
 */
export interface TournamentResult {
  /** The winner; undefined when no finalist is eligible. */
  readonly best: TournamentEntry | undefined
  readonly finalists: ReadonlyArray<FinalistRecord>
  /** Every candidate that lost or could not be paid for, and why, in order. */
  readonly decisionLog: ReadonlyArray<DecisionLogEntry>
  /** The configurations considered: the given ones and the merges made. */
  readonly seen: ReadonlySet<string>
}

export const runTournament = <E>(input: TournamentInput<E>): Effect.Effect<TournamentResult, E> =>
  Effect.gen(function*() {
    const { framework, baselineAgents, pool, working, scorers, inputs, measure, fitsWithHoldoutReserve, budgetExhausted } = input
    const seen = new Set(input.seen)
    const decisionLog: Array<DecisionLogEntry> = []
    // Successive halving over growing shares of the working set.
    const rng = seededGenerator(hashString(`tournament:${input.seed}`))
    const shuffled = [...working].map((s) => ({ s, k: rng.next() })).sort((a, b) => a.k - b.k).map((x) => x.s)
    const rounds = Math.max(1, framework.optimization.maxRounds)
    const rungSizes = Array.from({ length: rounds }, (_, r) => Math.max(1, Math.ceil(shuffled.length / 2 ** (rounds - 1 - r))))
    const costPerFailure = framework.economics.costPerFailureUsd
    const vectors = framework.objective.vectors.length > 0
      ? framework.objective.vectors
      : [{ name: "quality", kind: "quality" as const, direction: "maximize" as const, weight: 1 }]
    // The baseline's runs on all of a rung's stimuli, picked once per rung: a pairing that kept
    // every stimulus (both arms scored them all, as most do) reuses them.
    const baselineOnRung = new WeakMap<ReadonlySet<string>, ReadonlyArray<RunMeasurement>>()
    const baselineRunsOn = (ids: ReadonlySet<string>, paired: ReadonlySet<string>): ReadonlyArray<RunMeasurement> => {
      // `paired` is a subset of `ids`: the same size, the same set.
      if (paired.size !== ids.size) return measuredRuns(input.baseline, paired)
      let runs = baselineOnRung.get(ids)
      if (runs === undefined) baselineOnRung.set(ids, runs = measuredRuns(input.baseline, ids))
      return runs
    }
    // Both arms on the same stimuli: one that either arm could not run at all is left out of both.
    const vectorsFor = (measurement: ArmMeasurement, ids: ReadonlySet<string>): ReadonlyArray<VectorValue> => {
      const paired = scoredByBoth(input.baseline, measurement, ids)
      const baselineRuns = baselineRunsOn(ids, paired)
      const candidateRuns = measuredRuns(measurement, paired)
      return vectors.flatMap((v) => {
        const b = vectorValueOf(v, baselineRuns, scorers, inputs)
        const c = vectorValueOf(v, candidateRuns, scorers, inputs)
        if (b === undefined || c === undefined) return []
        return [{ vector: v.name, kind: v.kind, direction: v.direction, weight: v.weight, baseline: b, candidate: c } satisfies VectorValue]
      })
    }
    const score = (candidate: Candidate, measurement: ArmMeasurement, ids: ReadonlySet<string>): TournamentEntry => {
      const v = vectorsFor(measurement, ids)
      return { candidate, measurement, delta: pairedMeanDelta(input.baseline, measurement, ids), objective: objectiveOf(v, costPerFailure), vectors: v }
    }
    let alive: Array<TournamentEntry> = pool.map((candidate) => ({ candidate, measurement: { arm: candidate.id, runs: [] }, delta: 0, objective: 0, vectors: [] }))
    let measuredUpTo = 0
    for (const [round, size] of rungSizes.entries()) {
      const slice = shuffled.slice(measuredUpTo, size)
      const ids = new Set(shuffled.slice(0, size).map((s) => s.id))
      const next: Array<TournamentEntry> = []
      // A candidate added after the earlier rungs (the merge) catches up on them.
      const todoOf = (entry: TournamentEntry) => {
        const have = new Set(entry.measurement.runs.map((r) => r.stimulusId))
        return [...shuffled.slice(0, measuredUpTo).filter((s) => !have.has(s.id)), ...slice]
      }
      // When the whole rung fits the budget (with the holdout kept back), its candidates are
      // measured at once: the scan's call permits bound the calls, and no candidate waits for
      // another. Otherwise one at a time, so the budget stops the rung where it runs out.
      const todos = alive.map(todoOf)
      const rungStimuli = todos.reduce((n, todo) => n + todo.length, 0)
      const together = yield* fitsWithHoldoutReserve(rungStimuli)
      const measuredRung = together
        ? yield* Effect.forEach(alive, (entry, index) => measure(entry.candidate, todos[index]!, false), { concurrency: "unbounded" })
        : undefined
      for (const [index, entry] of alive.entries()) {
        if (measuredRung === undefined && budgetExhausted()) {
          decisionLog.push({ strategy: entry.candidate.strategy, candidateId: entry.candidate.id, outcome: "over_budget", reason: `the scan's budget ran out before round ${round + 1}` })
          continue
        }
        const m = measuredRung === undefined ? yield* measure(entry.candidate, todos[index]!, true) : measuredRung[index]
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
      if (round === 0 && !budgetExhausted()) {
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
          const merged = group.slice(1).reduce((acc, e) => mergeCandidates(acc, e.candidate, baselineAgents), group[0]!.candidate)
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
    const onFront = (e: TournamentEntry) => !dominates(baselineVectors, e.vectors) && !finalists.some((o) => o !== e && dominates(o.vectors, e.vectors))
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
    for (const e of finalists.filter((f) => f !== best)) {
      const why = !onFront(e)
        ? dominates(baselineVectors, e.vectors) ? "dominated by the baseline on the framework's vectors" : `off the Pareto front (dominated by ${finalists.find((o) => o !== e && dominates(o.vectors, e.vectors))?.candidate.id})`
        : e.delta <= 0 ? `no quality improvement on the full working set (${(e.delta * 100).toFixed(1)} pts)`
        : e.objective <= 0 ? `the framework's objective does not improve (${(e.objective * 100).toFixed(2)})`
        : `on the Pareto front, but its objective ${(e.objective * 100).toFixed(2)} < the winner's ${((best?.objective ?? 0) * 100).toFixed(2)}`
      decisionLog.push({ strategy: e.candidate.strategy, candidateId: e.candidate.id, outcome: "lost", reason: `final round: ${why} (${describeVectors(e)})`, workingDelta: e.delta })
    }
    return { best, finalists: records, decisionLog, seen }
  })

/** The tournament as a service: successive halving then multi-objective acceptance (`runTournament`). */
export class Tournament extends Context.Service<Tournament, {
  readonly run: <E>(input: TournamentInput<E>) => Effect.Effect<TournamentResult, E>
}>()("@spectral/engine/optimize/Tournament") {
  static readonly layer = Layer.succeed(Tournament, Tournament.of({ run: runTournament }))
}
