/**
 * Statistical validation of the verdict: a seeded simulator of paired baseline/candidate scores
 * (binary pass/fail or continuous, with per-stimulus difficulty), a paired t-test written here
 * as the reference, and the A/A (false-go) and power studies that run the real gates and fold on
 * the simulated data. Used by `npm run bench -- verdict` and by the gate tests. No effects: plain
 * functions over numbers, seeded, reproducible.
 *
 * What "go" means statistically: go needs the lower end of the two-sided (1 − α) paired bootstrap
 * interval above zero (plus every other gate). That is a one-sided test at α/2, i.e. the
 * improving half of a two-sided paired test at α. So the A/A false-go rate is ≈ α/2 (the target
 * "≤ α" holds with margin, on purpose: a false go ships a change to a customer), and the reference
 * for power is the two-sided paired t-test at the same α, counted as a go when it rejects with a
 * positive mean difference. The study framework sets `minDelta` to 0: a business minimum on the
 * point estimate is a different question from significance, and a t-test knows nothing of it.
 *
 * Tournament selection: a scan's candidate is the best of K on the working set, so its working
 * delta is biased upward. The selection study draws K candidates on working + holdout stimuli,
 * picks the best working delta, and runs the verdict as the engine does for a tournament winner
 * (`selectedOnWorkingSet`: judged on the synthetic holdout); the A/A false-go must stay ≤ α for
 * every K.
 *
 * Multiplicity: the regression gates test every watched agent and dimension as one family (paired
 * bootstrap, Holm at α, blocking only when significant and beyond the tolerance). The study's
 * design (`MULTIPLICITY_DESIGN`): a true +3 pts blended improvement on 200 stimuli (the continuous
 * simulator) with 4 agents and 8 world-model dimensions watched that truly do not move, each
 * independent of the others and of the blended score, each per-stimulus paired difference
 * N(0, σ²) with σ = 0.16 for agents (tolerance 2 pts) and 0.24 for dimensions (tolerance 3 pts):
 * tolerance / SE ≈ 1.77 for every metric, where the old point-estimate rule (block when a metric's
 * mean delta is below −tolerance, `pointEstimateRuleBlocks`) blocks ≈ 37 % of real improvements.
 * Each replication decides the same data, with the same bootstrap seed, three ways: nothing
 * watched, the 12 watched and unchanged, and `agent_0` truly 2× its tolerance worse; the old rule
 * is applied to the same inputs. Targets: go with 12 watched ≥ 90 % of go with none; go with the
 * regression in ≤ 5 %. Watching only adds checks, so the go replications with 12 watched are a
 * subset of those with none and the ratio is a binomial proportion among the latter (an exact
 * interval). The same design at larger n (noise fixed) finds where both targets hold;
 * `multiplicityRequiredSize` is the normal approximation of that n, for the engine's rule and for
 * the best rule that thresholds estimates alone.
 */
import { DEFAULT_THRESHOLDS, type VerdictThresholds } from "../contracts/index.ts"
import { SeededStream } from "../stats/SeededStream.ts"
import { normalQuantile } from "../stats/NormalDistribution.ts"
import type { Decision } from "../gates/Decision.ts"
import type { GateArm, PairedStimulus, VerdictInput } from "../gates/VerdictInput.ts"

// ---------------------------------------------------------------------------------------------
// Student's t distribution (regularized incomplete beta, Numerical Recipes' continued fraction)

const logGamma = (x: number): number => {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5]
  let y = x
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5)
  let ser = 1.000000000190015
  for (const ci of c) ser += ci / ++y
  return -tmp + Math.log((2.5066282746310005 * ser) / x)
}

const betaContinuedFraction = (a: number, b: number, x: number): number => {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** The regularized incomplete beta function I_x(a, b). */
export const regularizedBeta = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export const studentTCdf = (t: number, df: number): number => {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

/** The p-quantile of Student's t with `df` degrees of freedom (bisection on the CDF). */
export const studentTQuantile = (p: number, df: number): number => {
  let low = -1
  let high = 1
  while (studentTCdf(low, df) > p) low *= 2
  while (studentTCdf(high, df) < p) high *= 2
  for (let i = 0; i < 200 && high - low > 1e-12; i++) {
    const mid = (low + high) / 2
    if (studentTCdf(mid, df) < p) low = mid
    else high = mid
  }
  return (low + high) / 2
}

export interface PairedTTest {
  readonly n: number
  readonly meanDifference: number
  readonly t: number
  /** Two-sided p-value. */
  readonly p: number
}

/** The paired t-test of candidate − baseline (two-sided). Zero variance: t = 0 and p = 1 unless the mean differs. */
export const pairedTTest = (baseline: ReadonlyArray<number>, candidate: ReadonlyArray<number>): PairedTTest => {
  const n = baseline.length
  let mean = 0
  for (let i = 0; i < n; i++) mean += candidate[i]! - baseline[i]!
  mean /= n
  let ss = 0
  for (let i = 0; i < n; i++) {
    const d = candidate[i]! - baseline[i]! - mean
    ss += d * d
  }
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0
  if (sd === 0) return { n, meanDifference: mean, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, p: mean === 0 || n < 2 ? 1 : 0 }
  const t = mean / (sd / Math.sqrt(n))
  return { n, meanDifference: mean, t, p: 2 * studentTCdf(-Math.abs(t), n - 1) }
}

// ---------------------------------------------------------------------------------------------
// The simulator

export type ScoreKind = "binary" | "continuous"

export interface SimulationCell {
  readonly kind: ScoreKind
  readonly n: number
  /** True mean improvement of the candidate, on the 0..1 scale (0.02 = +2 points). */
  readonly effect: number
}

const normal = (rng: SeededStream): number => normalQuantile(rng.nextDouble())
const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x)

/** Mean of the baseline pass probability under the binary simulator (Beta(7, 3): mean 0.7). */
const BINARY_MEAN = 0.7

const betaDraw = (rng: SeededStream, a: number, b: number): number => {
  // Integer shape parameters: the a-th order statistic of a + b − 1 uniforms.
  const u = Array.from({ length: a + b - 1 }, () => rng.nextDouble()).sort((p, q) => p - q)
  return u[a - 1]!
}

/**
 * One simulated paired comparison. Each stimulus has a difficulty: binary, a pass probability
 * p ~ Beta(7, 3) for the baseline and p + effect·(1 − p)/0.3 for the candidate (the improvement
 * lands where there is room; its expectation is exactly `effect`), each arm drawn independently;
 * continuous, a stimulus level μ + d with d ~ N(0, 0.15), each arm adding its own run noise
 * N(0, 0.08), the candidate shifted by `effect`, clamped to [0, 1].
 */
export const simulatePair = (cell: SimulationCell, rng: SeededStream): { readonly baseline: Float64Array; readonly candidate: Float64Array } => {
  const { baseline, candidates } = simulateArms(cell.kind, cell.n, [cell.effect], rng)
  return { baseline, candidate: candidates[0]! }
}

/**
 * The baseline and several candidates on the same `n` stimuli (one difficulty per stimulus shared
 * by every arm, as `simulatePair` draws it; each candidate has its own effect and its own run
 * noise). With one candidate it draws exactly what `simulatePair` draws.
 */
export const simulateArms = (
  kind: ScoreKind,
  n: number,
  effects: ReadonlyArray<number>,
  rng: SeededStream
): { readonly baseline: Float64Array; readonly candidates: ReadonlyArray<Float64Array> } => {
  const baseline = new Float64Array(n)
  const candidates = effects.map(() => new Float64Array(n))
  for (let i = 0; i < n; i++) {
    if (kind === "binary") {
      const p = betaDraw(rng, 7, 3)
      baseline[i] = rng.nextDouble() < p ? 1 : 0
      for (let k = 0; k < effects.length; k++) {
        const q = p + (effects[k]! * (1 - p)) / (1 - BINARY_MEAN)
        candidates[k]![i] = rng.nextDouble() < q ? 1 : 0
      }
    } else {
      const level = 0.6 + 0.15 * normal(rng)
      baseline[i] = clamp01(level + 0.08 * normal(rng))
      for (let k = 0; k < effects.length; k++) candidates[k]![i] = clamp01(level + effects[k]! + 0.08 * normal(rng))
    }
  }
  return { baseline, candidates }
}

/** The thresholds the studies run the gates with: the framework defaults, α as given, `minDelta` 0 (see the module doc). */
export const studyThresholds = (alpha: number): VerdictThresholds => ({ ...DEFAULT_THRESHOLDS, alpha, minDelta: 0 })

export const studyInput = (baseline: ArrayLike<number>, candidate: ArrayLike<number>, thresholds: VerdictThresholds, resamples: number, seed: number): VerdictInput => {
  const stimuli: Array<PairedStimulus> = []
  for (let i = 0; i < baseline.length; i++) {
    stimuli.push({
      id: `s${i}`,
      holdout: false,
      source: "synthetic",
      weight: 1,
      baseline: { score: baseline[i]!, runs: [baseline[i]!] },
      candidate: { score: candidate[i]!, runs: [candidate[i]!] }
    })
  }
  return { stimuli, thresholds, vectors: [], resamples, seed, noCandidate: false, budgetExhausted: false }
}

export interface CellResult extends SimulationCell {
  readonly comparisons: number
  /** Share of comparisons the verdict called go. */
  readonly goRate: number
  /** Share the two-sided paired t-test at α rejected with a positive mean difference. */
  readonly tTestRate: number
  /** Share where the two disagreed. */
  readonly disagreement: number
}

export interface StudyOptions {
  readonly alpha: number
  readonly comparisons: number
  /** Bootstrap resamples per verdict. */
  readonly resamples: number
  readonly seed: number
  /** The verdict under test: the gates and fold over an input. */
  readonly decide: (input: VerdictInput) => Pick<Decision, "outcome">
}

/** Run `comparisons` simulated comparisons of one cell through the verdict and the t-test. */
export const runCell = (cell: SimulationCell, options: StudyOptions): CellResult => {
  const thresholds = studyThresholds(options.alpha)
  const rng = SeededStream.make(options.seed, Math.round(cell.n * 1000 + cell.effect * 1e4) + (cell.kind === "binary" ? 7 : 13))
  let go = 0
  let tGo = 0
  let disagree = 0
  for (let r = 0; r < options.comparisons; r++) {
    const { baseline, candidate } = simulatePair(cell, rng)
    const decision = options.decide(studyInput(baseline, candidate, thresholds, options.resamples, options.seed * 7919 + r))
    const t = pairedTTest(Array.from(baseline), Array.from(candidate))
    const isGo = decision.outcome === "go"
    const tIsGo = t.p < options.alpha && t.meanDifference > 0
    if (isGo) go++
    if (tIsGo) tGo++
    if (isGo !== tIsGo) disagree++
  }
  return { ...cell, comparisons: options.comparisons, goRate: go / options.comparisons, tTestRate: tGo / options.comparisons, disagreement: disagree / options.comparisons }
}

export const STUDY_SIZES = [50, 200, 1000] as const
export const STUDY_EFFECTS = [0.02, 0.05, 0.1] as const
export const STUDY_KINDS: ReadonlyArray<ScoreKind> = ["binary", "continuous"]

/** A/A: the candidate identical in distribution to the baseline, every kind and size. */
export const aaStudy = (options: StudyOptions, sizes: ReadonlyArray<number> = STUDY_SIZES): ReadonlyArray<CellResult> =>
  STUDY_KINDS.flatMap((kind) => sizes.map((n) => runCell({ kind, n, effect: 0 }, options)))

/** Power: every kind, effect and size. */
export const powerStudy = (
  options: StudyOptions,
  sizes: ReadonlyArray<number> = STUDY_SIZES,
  effects: ReadonlyArray<number> = STUDY_EFFECTS
): ReadonlyArray<CellResult> =>
  STUDY_KINDS.flatMap((kind) => effects.flatMap((effect) => sizes.map((n) => runCell({ kind, n, effect }, options))))

/** Exact one-sided upper (1 − confidence) Clopper–Pearson bound on a rate from `k` of `n` (bisection). */
export const clopperPearsonUpper = (k: number, n: number, confidence = 0.95): number => {
  if (k >= n) return 1
  // P(X ≤ k | p) = 1 − I_p(k + 1, n − k); find p where it equals 1 − confidence.
  let low = k / n
  let high = 1
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2
    const cdf = 1 - regularizedBeta(mid, k + 1, n - k)
    if (cdf > 1 - confidence) low = mid
    else high = mid
  }
  return (low + high) / 2
}

/** Exact one-sided lower Clopper–Pearson bound on a rate from `k` of `n` (the upper bound of the misses, mirrored). */
export const clopperPearsonLower = (k: number, n: number, confidence = 0.95): number => (k <= 0 ? 0 : 1 - clopperPearsonUpper(n - k, n, confidence))

// ---------------------------------------------------------------------------------------------
// Tournament selection: the winner is the best of K candidates on the working set

export interface SelectionCell {
  readonly kind: ScoreKind
  /** Working-set stimuli (the tournament selects on these) and synthetic holdout stimuli. */
  readonly working: number
  readonly holdout: number
  /** Candidates in the tournament. */
  readonly candidates: number
  /** True effect of the first candidate (the others have none); 0 for the A/A study. */
  readonly effect: number
}

export interface SelectionCellResult extends SelectionCell {
  readonly comparisons: number
  /** Share the verdict called go. */
  readonly goRate: number
  /** Share a two-sided paired t-test at α on the winner's holdout rejected with a positive mean. */
  readonly tTestRate: number
  readonly disagreement: number
  /** Mean working-set delta of the winner (the selection's upward bias under no effect). */
  readonly meanWinnerWorkingDelta: number
}

export interface SelectionStudyOptions extends StudyOptions {
  /**
   * Whether the input says the candidate was selected on the working set, as the engine's Verdict
   * phase does for a tournament winner (default true). False replays the verdict as it was before
   * the gates knew: the winner tested on the data that chose it.
   */
  readonly markSelected?: boolean
}

export const selectionInput = (
  baseline: ArrayLike<number>,
  candidate: ArrayLike<number>,
  working: number,
  thresholds: VerdictThresholds,
  resamples: number,
  seed: number,
  selectedOnWorkingSet: boolean
): VerdictInput => {
  const base = studyInput(baseline, candidate, thresholds, resamples, seed)
  return { ...base, stimuli: base.stimuli.map((s, i) => (i < working ? s : { ...s, holdout: true })), selectedOnWorkingSet }
}

/**
 * K candidates on working + holdout stimuli; the winner is the candidate with the best working-set
 * delta (the tournament's choice); the verdict runs on the winner measured on both, gated as the
 * engine gates a tournament winner (`selectedOnWorkingSet`).
 */
export const runSelectionCell = (cell: SelectionCell, options: SelectionStudyOptions): SelectionCellResult => {
  const thresholds = studyThresholds(options.alpha)
  const n = cell.working + cell.holdout
  const effects = Array.from({ length: cell.candidates }, (_, k) => (k === 0 ? cell.effect : 0))
  const rng = SeededStream.make(options.seed, 1_000_003 + cell.candidates * 7919 + n * 31 + Math.round(cell.effect * 1e4) + (cell.kind === "binary" ? 7 : 13))
  let go = 0
  let tGo = 0
  let disagree = 0
  let winnerDeltaSum = 0
  for (let r = 0; r < options.comparisons; r++) {
    const { baseline, candidates } = simulateArms(cell.kind, n, effects, rng)
    let winner = 0
    let best = -Infinity
    for (let k = 0; k < candidates.length; k++) {
      let sum = 0
      for (let i = 0; i < cell.working; i++) sum += candidates[k]![i]! - baseline[i]!
      const delta = sum / cell.working
      if (delta > best) {
        best = delta
        winner = k
      }
    }
    winnerDeltaSum += best
    const candidate = candidates[winner]!
    const decision = options.decide(selectionInput(baseline, candidate, cell.working, thresholds, options.resamples, options.seed * 7919 + r, options.markSelected ?? true))
    const t = pairedTTest(Array.from(baseline.subarray(cell.working)), Array.from(candidate.subarray(cell.working)))
    const isGo = decision.outcome === "go"
    const tIsGo = t.p < options.alpha && t.meanDifference > 0
    if (isGo) go++
    if (tIsGo) tGo++
    if (isGo !== tIsGo) disagree++
  }
  const c = options.comparisons
  return { ...cell, comparisons: c, goRate: go / c, tTestRate: tGo / c, disagreement: disagree / c, meanWinnerWorkingDelta: winnerDeltaSum / c }
}

export const SELECTION_CANDIDATES = [1, 6, 24] as const

/** A/A with tournament selection: K no-effect candidates, every kind; false-go must stay ≤ α. */
export const aaSelectionStudy = (
  options: SelectionStudyOptions,
  size: { readonly working: number; readonly holdout: number } = { working: 60, holdout: 40 },
  candidates: ReadonlyArray<number> = SELECTION_CANDIDATES,
  kinds: ReadonlyArray<ScoreKind> = STUDY_KINDS
): ReadonlyArray<SelectionCellResult> =>
  kinds.flatMap((kind) => candidates.map((k) => runSelectionCell({ kind, ...size, candidates: k, effect: 0 }, options)))


// ---------------------------------------------------------------------------------------------
// Multiplicity: watching many metrics must not block a real improvement

export interface MultiplicityDesign {
  /** Stimuli per comparison. */
  readonly n: number
  /** True improvement of the blended score (the continuous simulator), 0..1 scale. */
  readonly effect: number
  /** Watched agents (`agent_0`, …) and world-model dimensions (`dimension_0`, …); none of them moves unless regressed. */
  readonly agents: number
  readonly worldDimensions: number
  /** Per-stimulus standard deviation of each agent's paired difference (candidate − baseline), 0..1 scale. */
  readonly agentNoise: number
  /** The same for each world-model dimension. */
  readonly dimensionNoise: number
  /** In the regression scenario `agent_0` truly drops by this many agent tolerances (`maxAgentRegression`). */
  readonly regressionTolerances: number
}

/**
 * The study's design: 4 agents + 8 world-model dimensions watched, +3 pts blended on 200 stimuli,
 * per-stimulus SD 0.16 (agents) and 0.24 (dimensions), so that tolerance / standard error is
 * 0.02·√200 / 0.16 = 0.03·√200 / 0.24 ≈ 1.77 for every metric at n = 200.
 */
export const MULTIPLICITY_DESIGN: MultiplicityDesign = {
  n: 200,
  effect: 0.03,
  agents: 4,
  worldDimensions: 8,
  agentNoise: 0.16,
  dimensionNoise: 0.24,
  regressionTolerances: 2
}

/** Tolerance over the standard error of a watched metric's mean paired difference: tolerance·√n / noise. */
export const toleranceOverStandardError = (tolerance: number, noise: number, n: number): number => (tolerance * Math.sqrt(n)) / noise

/**
 * The regression rule before the paired tests, kept here as the reference: block when any watched
 * metric's weighted-mean paired delta (candidate − baseline, on the stimuli both arms scored) is
 * below −tolerance (`maxAgentRegression` for agents, `maxDimensionRegression` for dimensions of
 * either authority). No significance, no multiplicity adjustment.
 */
export const pointEstimateRuleBlocks = (input: VerdictInput): boolean => {
  const sources = [
    { tolerance: input.thresholds.maxAgentRegression, pick: (arm: GateArm) => arm.agents },
    { tolerance: input.thresholds.maxDimensionRegression, pick: (arm: GateArm) => arm.worldDimensions },
    { tolerance: input.thresholds.maxDimensionRegression, pick: (arm: GateArm) => arm.rubricDimensions }
  ]
  const rows = input.stimuli.filter((s) => (s.baseline.status ?? "ok") === "ok" && (s.candidate.status ?? "ok") === "ok")
  for (const source of sources) {
    const keys = new Set<string>()
    for (const s of rows) for (const k of Object.keys(source.pick(s.baseline) ?? {})) keys.add(k)
    for (const key of keys) {
      let sum = 0
      let weight = 0
      for (const s of rows) {
        const b = source.pick(s.baseline)?.[key]
        const c = source.pick(s.candidate)?.[key]
        if (b === undefined || c === undefined) continue
        sum += s.weight * (c - b)
        weight += s.weight
      }
      if (weight > 0 && sum / weight < -source.tolerance) return true
    }
  }
  return false
}

export interface MultiplicityResult extends MultiplicityDesign {
  readonly replications: number
  /** Go counts, every one on the same replications (same blended data, same bootstrap seed). */
  readonly goNothingWatched: number
  /** Every metric watched and truly unchanged: the engine's gates, and the point-estimate rule. */
  readonly goWatched: number
  readonly goWatchedOldRule: number
  /** The same data with `agent_0` regressed by `regressionTolerances` tolerances. */
  readonly goRegressed: number
  readonly goRegressedOldRule: number
  /** Replications that were go with metrics watched but not with nothing watched: 0, since watching only adds checks. */
  readonly nestingViolations: number
}

const withWatched = (
  input: VerdictInput,
  agents: ReadonlyArray<{ readonly baseline: Float64Array; readonly candidate: Float64Array }>,
  dimensions: ReadonlyArray<{ readonly baseline: Float64Array; readonly candidate: Float64Array }>,
  agentShift: number
): VerdictInput => {
  const scores = (metrics: typeof agents, prefix: string, i: number, arm: "baseline" | "candidate", shift: number) => {
    const out: Record<string, number> = {}
    for (const [k, m] of metrics.entries()) out[`${prefix}_${k}`] = m[arm][i]! + (k === 0 ? shift : 0)
    return out
  }
  return {
    ...input,
    stimuli: input.stimuli.map((s, i) => ({
      ...s,
      baseline: { ...s.baseline, agents: scores(agents, "agent", i, "baseline", 0), worldDimensions: scores(dimensions, "dimension", i, "baseline", 0) },
      candidate: { ...s.candidate, agents: scores(agents, "agent", i, "candidate", agentShift), worldDimensions: scores(dimensions, "dimension", i, "candidate", 0) }
    }))
  }
}

/**
 * One watched metric on `n` stimuli: a per-stimulus level 0.6 + 0.1·N(0, 1) shared by both arms,
 * each arm adding its own run noise N(0, noise²/2), so the paired difference is exactly
 * N(0, noise²). Not clamped to [0, 1]: the gates read only differences, and clamping would shrink
 * the stated noise and the regression.
 */
const simulateWatchedMetric = (n: number, noise: number, rng: SeededStream) => {
  const baseline = new Float64Array(n)
  const candidate = new Float64Array(n)
  const run = noise / Math.SQRT2
  for (let i = 0; i < n; i++) {
    const level = 0.6 + 0.1 * normal(rng)
    baseline[i] = level + run * normal(rng)
    candidate[i] = level + run * normal(rng)
  }
  return { baseline, candidate }
}

/**
 * `comparisons` replications of one design. Each draws the blended scores from the continuous
 * simulator with the design's effect and every watched metric independently (of each other and of
 * the blended score: the case where multiplicity bites hardest), then decides three inputs with
 * the same bootstrap seed: nothing watched, every metric watched and unchanged, and the same data
 * with `agent_0` regressed. The point-estimate rule is applied to the same inputs.
 */
export const runMultiplicity = (design: MultiplicityDesign, options: StudyOptions): MultiplicityResult => {
  const thresholds = studyThresholds(options.alpha)
  const rng = SeededStream.make(options.seed, 2_000_003 + design.n * 31 + Math.round(design.agentNoise * 1e4) * 7 + Math.round(design.dimensionNoise * 1e4))
  const shift = -design.regressionTolerances * thresholds.maxAgentRegression
  let goNothingWatched = 0
  let goWatched = 0
  let goWatchedOldRule = 0
  let goRegressed = 0
  let goRegressedOldRule = 0
  let nestingViolations = 0
  for (let r = 0; r < options.comparisons; r++) {
    const { baseline, candidates } = simulateArms("continuous", design.n, [design.effect], rng)
    const agents = Array.from({ length: design.agents }, () => simulateWatchedMetric(design.n, design.agentNoise, rng))
    const dimensions = Array.from({ length: design.worldDimensions }, () => simulateWatchedMetric(design.n, design.dimensionNoise, rng))
    const nothing = studyInput(baseline, candidates[0]!, thresholds, options.resamples, options.seed * 7919 + r)
    const watched = withWatched(nothing, agents, dimensions, 0)
    const regressed = withWatched(nothing, agents, dimensions, shift)
    const base = options.decide(nothing).outcome === "go"
    const unchanged = options.decide(watched).outcome === "go"
    if (base) goNothingWatched++
    if (unchanged) goWatched++
    if (unchanged && !base) nestingViolations++
    if (base && !pointEstimateRuleBlocks(watched)) goWatchedOldRule++
    if (options.decide(regressed).outcome === "go") goRegressed++
    if (base && !pointEstimateRuleBlocks(regressed)) goRegressedOldRule++
  }
  return { ...design, replications: options.comparisons, goNothingWatched, goWatched, goWatchedOldRule, goRegressed, goRegressedOldRule, nestingViolations }
}

/** The design at each of several sizes, the per-stimulus noise held fixed (tolerance / SE grows with √n). */
export const multiplicityStudy = (
  options: StudyOptions,
  sizes: ReadonlyArray<number>,
  design: MultiplicityDesign = MULTIPLICITY_DESIGN
): ReadonlyArray<MultiplicityResult> => sizes.map((n) => runMultiplicity({ ...design, n }, options))

/** The study's targets: go with every metric watched ≥ 90 % of go with none; go with the regression ≤ 5 %. */
export const MULTIPLICITY_TARGETS = { goRatio: 0.9, regressedGo: 0.05 } as const

/**
 * The normal approximation of the smallest n at which both targets can hold, the per-stimulus
 * noise of the design held fixed (a metric's estimate / SE is N(δ / SE, 1), independent across
 * metrics; the regressed metric `agent_0` has δ = −ρ·tolerance; the blended go rate is a common
 * factor and left out). The engine's rule
 * lets the regression through when it is not significant after Holm (its p is the family's
 * smallest, so the bar is z_{α/m}) or within the tolerance: it needs tolerance / SE ≥
 * max((z_{α/m} + z_{0.95}) / ρ, z_{0.95} / (ρ − 1)); unchanged metrics block it with probability
 * ≤ α, inside the go-ratio target whenever α ≤ 1 − 0.9. For comparison, the best rule that blocks
 * a metric when its estimate is below a fixed threshold (the old rule with another margin): the
 * threshold that keeps (1 − Φ(−t))^m ≥ 0.9 must also leave the regression ≥ 1.645 SE inside it.
 */
export const multiplicityRequiredSize = (design: MultiplicityDesign, alpha: number): { readonly engineRule: number; readonly anyThresholdRule: number } => {
  const thresholds = studyThresholds(alpha)
  const m = design.agents + design.worldDimensions
  const rho = design.regressionTolerances
  const zTarget = normalQuantile(1 - MULTIPLICITY_TARGETS.regressedGo)
  const engineK = Math.max((normalQuantile(1 - alpha / m) + zTarget) / rho, rho > 1 ? zTarget / (rho - 1) : Infinity)
  const thresholdK = (-normalQuantile(1 - MULTIPLICITY_TARGETS.goRatio ** (1 / m)) + zTarget) / rho
  // The regressed metric is `agent_0`: its tolerance / SE is what has to reach k.
  const size = (k: number) => ((k * design.agentNoise) / thresholds.maxAgentRegression) ** 2
  return { engineRule: size(engineK), anyThresholdRule: size(thresholdK) }
}
