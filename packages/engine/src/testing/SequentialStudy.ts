/**
 * The sequential verdict's study (`framework.sequential`): the tournament winner's holdout
 * measured in batches, a look after each, stopping once the anytime-valid confidence sequence
 * (stats/ConfidenceSequence.ts) on the paired holdout deltas lies above or below zero, then the real
 * gates judging the stimuli measured — beside the fixed-n verdict on the whole holdout, on the same
 * data with the same bootstrap seed. Plain seeded functions, like VerdictStudy.
 *
 * Design (`SEQUENTIAL_DESIGN`): the scores of VerdictStudy's simulator on 200 working + 200 synthetic
 * holdout stimuli, batches of 20 (10 looks), α = the study's α, the framework defaults otherwise
 * (minSamples 30: no look before 15 comparable holdout stimuli). A/A: K = 6 no-effect candidates,
 * the winner the best working delta, as a tournament picks it (the holdout took no part in the
 * choice). Effects: one candidate whose true effect is the same on working and holdout; a
 * regression of −e is the +e simulation with the two arms swapped. "Clear" cells are those where
 * the fixed-n verdict decides (bootstrap interval off zero) in ≥ 99 % of comparisons; the others
 * ("moderate") show what happens near the edge of detection.
 *
 * What the false-go bound rests on: a go needs either the sequence to lie above zero at some look
 * (probability ≤ α/2 under no effect, however many looks) or, when it never does, the fixed-n
 * bootstrap on the whole holdout (≈ α/2, as without the sequence): ≤ α together by construction.
 * Beside it, the same looks judged naively — a two-sided paired t-test at α at every look, go at the
 * first positive rejection — show what peeking without the sequence does to the false-go rate.
 */
import type { Decision } from "../gates/Decision.ts"
import type { VerdictInput } from "../gates/VerdictInput.ts"
import { makeConfidenceSequence } from "../stats/ConfidenceSequence.ts"
import { SeededStream } from "../stats/SeededStream.ts"
import { pairedTTest, type ScoreKind, selectionInput, simulateArms, studyThresholds } from "./VerdictStudy.ts"

export interface SequentialCell {
  readonly kind: ScoreKind
  /** Working-set stimuli (the tournament selects on these) and synthetic holdout stimuli (measured in batches). */
  readonly working: number
  readonly holdout: number
  /** True effect of the first candidate on working and holdout alike; negative: a regression (arms swapped, one candidate). */
  readonly effect: number
  /** Candidates in the tournament; the others have no effect. */
  readonly candidates: number
}

export interface SequentialStudyOptions {
  readonly alpha: number
  readonly comparisons: number
  readonly resamples: number
  readonly seed: number
  /** Holdout stimuli between looks. */
  readonly batch: number
  /** The verdict under test: the gates and fold over an input. */
  readonly decide: (input: VerdictInput) => Pick<Decision, "outcome" | "checks">
}

export interface SequentialCellResult extends SequentialCell {
  readonly comparisons: number
  readonly batch: number
  /** Holdout stimuli measured, summed over comparisons, and the sum of their squares (for the interval of the mean). */
  readonly measured: number
  readonly measuredSquares: number
  /** Comparisons where the sequence stopped above / below zero before the end of the holdout. */
  readonly stoppedBetter: number
  readonly stoppedWorse: number
  readonly sequentialGo: number
  readonly sequentialNoGo: number
  readonly fixedGo: number
  readonly fixedNoGo: number
  /** Comparisons where the sequential and fixed-n verdicts reached the same outcome (go / caution / no_go). */
  readonly outcomeAgreement: number
  /** … and where their bootstrap CI gates reached the same status (significant either way, or not). */
  readonly intervalAgreement: number
  /** For the outcome disagreements: how many times each check (`gate/check`) had a different status. */
  readonly disagreeingChecks: Readonly<Record<string, number>>
  /** Comparisons the fixed-n bootstrap interval decided (pass or fail). */
  readonly fixedDecided: number
  /** Continuous monitoring without the sequence: a paired t-test at α at every look, go at the first positive rejection. */
  readonly naivePeekingGo: number
}

/** The study's design: 200 working + 200 synthetic holdout stimuli, batches of 20. */
export const SEQUENTIAL_DESIGN = { working: 200, holdout: 200, batch: 20 } as const

/** A/A (K = 6, as a tournament), clear and moderate effects (pts / 100). */
export const SEQUENTIAL_CLEAR_EFFECTS: Readonly<Record<ScoreKind, ReadonlyArray<number>>> = { continuous: [0.05, 0.1, -0.05, -0.1], binary: [0.2, -0.2] }
export const SEQUENTIAL_MODERATE_EFFECTS: Readonly<Record<ScoreKind, ReadonlyArray<number>>> = { continuous: [0.02], binary: [0.1, -0.1] }

/** Where the sequential rule stops on one stream of holdout deltas: after which stimulus, and why. */
export const sequentialStop = (
  deltas: ArrayLike<number>,
  options: { readonly alpha: number; readonly batch: number; readonly minimum: number }
): { readonly measured: number; readonly stopped: "better" | "worse" | "exhausted" } => {
  const sequence = makeConfidenceSequence({ alpha: options.alpha })
  let count = 0
  while (count < deltas.length) {
    const end = Math.min(deltas.length, count + options.batch)
    for (let i = count; i < end; i++) sequence.push(deltas[i]!)
    count = end
    const test = sequence.n() >= options.minimum ? sequence.test() : "inside"
    if (test !== "inside") return { measured: count, stopped: test === "above" ? "better" : "worse" }
  }
  return { measured: count, stopped: "exhausted" }
}

const statusOf = (decision: Pick<Decision, "checks">, gate: string) => decision.checks.find((c) => c.gate === gate)?.status

/** The checks (`gate/check`) whose status differs between two decisions. */
const differingChecks = (a: Pick<Decision, "checks">, b: Pick<Decision, "checks">): ReadonlyArray<string> => {
  const statuses = new Map(a.checks.map((c) => [`${c.gate}/${c.check}`, c.status]))
  const keys = new Set([...statuses.keys(), ...b.checks.map((c) => `${c.gate}/${c.check}`)])
  const other = new Map(b.checks.map((c) => [`${c.gate}/${c.check}`, c.status]))
  return [...keys].filter((k) => statuses.get(k) !== other.get(k))
}

/** `comparisons` replications of one cell: the sequential verdict and the fixed-n verdict on the same data. */
export const runSequentialCell = (cell: SequentialCell, options: SequentialStudyOptions): SequentialCellResult => {
  if (cell.effect < 0 && cell.candidates !== 1) throw new RangeError("a regression cell has one candidate")
  const thresholds = studyThresholds(options.alpha)
  const minimum = Math.ceil(thresholds.minSamples / 2)
  const n = cell.working + cell.holdout
  const effects = Array.from({ length: cell.candidates }, (_, k) => (k === 0 ? Math.abs(cell.effect) : 0))
  const rng = SeededStream.make(options.seed, 3_000_017 + cell.candidates * 7919 + n * 31 + Math.round(cell.effect * 1e4) * 3 + (cell.kind === "binary" ? 7 : 13))
  const deltas = new Float64Array(cell.holdout)
  const disagreeingChecks: Record<string, number> = {}
  const counts = { measured: 0, measuredSquares: 0, stoppedBetter: 0, stoppedWorse: 0, sequentialGo: 0, sequentialNoGo: 0, fixedGo: 0, fixedNoGo: 0, outcomeAgreement: 0, intervalAgreement: 0, fixedDecided: 0, naivePeekingGo: 0 }
  for (let r = 0; r < options.comparisons; r++) {
    const arms = simulateArms(cell.kind, n, effects, rng)
    let winner = 0
    let best = -Infinity
    for (let k = 0; k < arms.candidates.length; k++) {
      let sum = 0
      for (let i = 0; i < cell.working; i++) sum += arms.candidates[k]![i]! - arms.baseline[i]!
      if (sum > best) {
        best = sum
        winner = k
      }
    }
    const baseline = cell.effect < 0 ? arms.candidates[0]! : arms.baseline
    const candidate = cell.effect < 0 ? arms.baseline : arms.candidates[winner]!
    for (let i = 0; i < cell.holdout; i++) deltas[i] = candidate[cell.working + i]! - baseline[cell.working + i]!
    const stop = sequentialStop(deltas, { alpha: options.alpha, batch: options.batch, minimum })
    const seed = options.seed * 7919 + r
    const fixed = options.decide(selectionInput(baseline, candidate, cell.working, thresholds, options.resamples, seed, true))
    const end = cell.working + stop.measured
    const sequential = stop.stopped === "exhausted"
      ? fixed
      : options.decide(selectionInput(baseline.subarray(0, end), candidate.subarray(0, end), cell.working, thresholds, options.resamples, seed, true))
    counts.measured += stop.measured
    counts.measuredSquares += stop.measured * stop.measured
    if (stop.stopped === "better") counts.stoppedBetter++
    if (stop.stopped === "worse") counts.stoppedWorse++
    if (sequential.outcome === "go") counts.sequentialGo++
    if (sequential.outcome === "no_go") counts.sequentialNoGo++
    if (fixed.outcome === "go") counts.fixedGo++
    if (fixed.outcome === "no_go") counts.fixedNoGo++
    if (sequential.outcome === fixed.outcome) counts.outcomeAgreement++
    else for (const key of differingChecks(sequential, fixed)) disagreeingChecks[key] = (disagreeingChecks[key] ?? 0) + 1
    const fixedInterval = statusOf(fixed, "bootstrap_ci")
    if (statusOf(sequential, "bootstrap_ci") === fixedInterval) counts.intervalAgreement++
    if (fixedInterval === "pass" || fixedInterval === "fail") counts.fixedDecided++
    // The same looks, judged by a fixed-n test each time.
    for (let t = options.batch; t - options.batch < cell.holdout; t += options.batch) {
      const upTo = Math.min(t, cell.holdout)
      if (upTo < minimum) continue
      const test = pairedTTest(Array.from(baseline.subarray(cell.working, cell.working + upTo)), Array.from(candidate.subarray(cell.working, cell.working + upTo)))
      if (test.p < options.alpha) {
        if (test.meanDifference > 0) counts.naivePeekingGo++
        break
      }
    }
  }
  return { ...cell, comparisons: options.comparisons, batch: options.batch, ...counts, disagreeingChecks }
}

/** The mean share of the holdout left unmeasured, with a normal-approximation 95 % interval. */
export const sequentialSaving = (r: SequentialCellResult): { readonly saving: number; readonly low: number; readonly high: number } => {
  const mean = r.measured / r.comparisons
  const variance = Math.max(0, r.measuredSquares / r.comparisons - mean * mean) * (r.comparisons / Math.max(1, r.comparisons - 1))
  const half = 1.959963984540054 * Math.sqrt(variance / r.comparisons)
  return { saving: 1 - mean / r.holdout, low: 1 - (mean + half) / r.holdout, high: 1 - (mean - half) / r.holdout }
}
