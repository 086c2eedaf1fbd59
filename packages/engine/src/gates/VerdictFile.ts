/**
 * The verdict on two runs a scan did not make (`spectral verdict --input FILE`): the file's case
 * shape, its decoding into a `VerdictInput` (framework thresholds defaulted, then checked against
 * their domain; an unknown framework key is rejected, named), and the result row. Only the case
 * id, the stimulus ids and each arm's score are required; a gate whose inputs are absent reports
 * neutral. No I/O here: the CLI reads and writes.
 */
import { Result, Schema, SchemaIssue } from "effect"
import { DEFAULT_THRESHOLDS, VerdictThresholds } from "../contracts/index.ts"
import type { GateCheck, Outcome } from "../contracts/index.ts"
import type { Gate } from "./Gate.ts"
import { decide } from "./Decision.ts"
import type { GateArm, PairedStimulus, VerdictInput } from "./VerdictInput.ts"

/** Resamples of every file verdict's bootstrap, and its seed (results are reproducible). */
export const FILE_RESAMPLES = 9999
export const FILE_SEED = 1

const Score = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * Largest weight, cost or latency accepted: the gates sum and difference these, and a value
 * near a double's limit (1e308) would turn a mean into Infinity ("regresses by Infinity pts").
 * 1e12 is far beyond any real stimulus weight, dollar cost or millisecond latency.
 */
export const MAX_FILE_MAGNITUDE = 1e12
const NonNegativeAmount = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: MAX_FILE_MAGNITUDE }))

export const VerdictFileArm = Schema.Struct({
  score: Score,
  /** Per-epoch scores when the stimulus ran several times (consistency); `score` is still the one compared. */
  runs: Schema.optionalKey(Schema.Array(Score)),
  /** Per-agent and per-dimension scores are on the same [0, 1] scale as `score` (regressions are in points). */
  agents: Schema.optionalKey(Schema.Record(Schema.String, Score)),
  /** Ground-truth dimensions (the world-model authority: your own checker's per-dimension results). */
  dimensions: Schema.optionalKey(Schema.Record(Schema.String, Score)),
  /** The judge's dimensions (the rubric authority), kept apart from `dimensions` even where ids collide. */
  rubricDimensions: Schema.optionalKey(Schema.Record(Schema.String, Score)),
  costUsd: Schema.optionalKey(NonNegativeAmount),
  latencyMs: Schema.optionalKey(NonNegativeAmount),
  output: Schema.optionalKey(Schema.String)
})
export type VerdictFileArm = typeof VerdictFileArm.Type

export const VerdictFileStimulus = Schema.Struct({
  id: Schema.NonEmptyString,
  holdout: Schema.optionalKey(Schema.Boolean),
  weight: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(MAX_FILE_MAGNITUDE))),
  group: Schema.optionalKey(Schema.String),
  baseline: VerdictFileArm,
  candidate: VerdictFileArm
})

export const VerdictFileCase = Schema.Struct({
  id: Schema.String,
  /** Any subset of the framework's verdict thresholds; the rest take `DEFAULT_THRESHOLDS`. Other keys are rejected, named. */
  framework: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  stimuli: Schema.Array(VerdictFileStimulus).check(Schema.isMinLength(1))
})
export type VerdictFileCase = typeof VerdictFileCase.Type

export interface VerdictFileResult {
  readonly id: string
  readonly verdict: Outcome
  readonly checksPassed: number
  readonly checksTotal: number
  readonly delta: { readonly estimate: number; readonly low: number; readonly high: number } | null
  readonly gates: ReadonlyArray<{ readonly gate: string; readonly status: GateCheck["status"]; readonly reason: string }>
}

export type VerdictFileOutcome = VerdictFileResult | { readonly id: string; readonly error: string }

const formatIssue = SchemaIssue.makeFormatterDefault()

const toArm = (arm: VerdictFileArm): GateArm => ({
  score: arm.score,
  runs: arm.runs ?? [arm.score],
  ...(arm.agents !== undefined ? { agents: arm.agents } : {}),
  ...(arm.dimensions !== undefined ? { worldDimensions: arm.dimensions } : {}),
  ...(arm.rubricDimensions !== undefined ? { rubricDimensions: arm.rubricDimensions } : {}),
  ...(arm.costUsd !== undefined ? { costUsd: arm.costUsd } : {}),
  ...(arm.latencyMs !== undefined ? { latencyMs: arm.latencyMs } : {}),
  ...(arm.output !== undefined ? { output: arm.output } : {})
})

/** Decode one raw case into the gates' input, or say what is wrong with it (naming the field). */
export const decodeVerdictCase = (raw: unknown): Result.Result<{ readonly id: string; readonly input: VerdictInput }, string> => {
  const decoded = Schema.decodeUnknownResult(VerdictFileCase)(raw)
  if (Result.isFailure(decoded)) return Result.fail(`invalid case: ${formatIssue(decoded.failure.issue)}`)
  const c = decoded.success
  // A misspelled threshold would otherwise be ignored and its default used without a word.
  const unknownKeys = Object.keys(c.framework ?? {}).filter((key) => !Object.hasOwn(DEFAULT_THRESHOLDS, key))
  if (unknownKeys.length > 0) {
    return Result.fail(
      `invalid framework: unknown key${unknownKeys.length === 1 ? "" : "s"} ${unknownKeys.map((k) => JSON.stringify(k)).join(", ")} (known: ${Object.keys(DEFAULT_THRESHOLDS).join(", ")})`
    )
  }
  const thresholds = Schema.decodeUnknownResult(VerdictThresholds)({ ...DEFAULT_THRESHOLDS, ...c.framework })
  if (Result.isFailure(thresholds)) return Result.fail(`invalid framework: ${formatIssue(thresholds.failure.issue)}`)
  // Epochs: either no arm gives per-run scores, or every arm of every stimulus gives the same number.
  const runCounts = new Set(c.stimuli.flatMap((s) => [s.baseline.runs?.length ?? 0, s.candidate.runs?.length ?? 0]))
  if (runCounts.size > 1) {
    const short = c.stimuli.find((s) => (s.baseline.runs?.length ?? 0) !== (s.candidate.runs?.length ?? 0) || (s.baseline.runs?.length ?? 0) !== Math.max(...runCounts))
    return Result.fail(`invalid case: runs (per-epoch scores) must have the same length on every arm of every stimulus; found lengths ${[...runCounts].sort((a, b) => a - b).join(", ")}${short === undefined ? "" : ` (stimulus "${short.id}": baseline ${short.baseline.runs?.length ?? 0}, candidate ${short.candidate.runs?.length ?? 0})`}`)
  }
  const seen = new Set<string>()
  for (const s of c.stimuli) {
    if (seen.has(s.id)) return Result.fail(`invalid case: stimulus id "${s.id}" appears twice`)
    seen.add(s.id)
    // A metric one arm has and the other lacks cannot be compared: say so instead of dropping it.
    for (const field of ["agents", "dimensions", "rubricDimensions"] as const) {
      const b = Object.keys(s.baseline[field] ?? {})
      const k = Object.keys(s.candidate[field] ?? {})
      const onlyB = b.filter((key) => !k.includes(key))
      const onlyC = k.filter((key) => !b.includes(key))
      if (onlyB.length > 0 || onlyC.length > 0) {
        const parts = [
          onlyB.length > 0 ? `baseline only: ${onlyB.join(", ")}` : "",
          onlyC.length > 0 ? `candidate only: ${onlyC.join(", ")}` : ""
        ].filter((x) => x !== "")
        return Result.fail(`invalid case: stimulus "${s.id}" has different ${field} in the two arms (${parts.join("; ")})`)
      }
    }
  }
  const stimuli: Array<PairedStimulus> = c.stimuli.map((s) => ({
    id: s.id,
    holdout: s.holdout ?? false,
    source: "synthetic",
    weight: s.weight ?? 1,
    ...(s.group !== undefined ? { group: s.group } : {}),
    baseline: toArm(s.baseline),
    candidate: toArm(s.candidate)
  }))
  // Runs the file gives us were not selected by us: the gates judge them as given.
  return Result.succeed({
    id: c.id,
    input: { stimuli, thresholds: thresholds.success, vectors: [], resamples: FILE_RESAMPLES, seed: FILE_SEED, selectedOnWorkingSet: false, noCandidate: false, budgetExhausted: false }
  })
}

const idOf = (raw: unknown, index: number) =>
  typeof raw === "object" && raw !== null && "id" in raw && typeof raw.id === "string" ? raw.id : `#${index}`

/** The verdict for every case of a parsed file; an invalid case yields `{id, error}` and the others still run. */
export const verdictFile = (cases: ReadonlyArray<unknown>, gates: ReadonlyArray<Gate>): ReadonlyArray<VerdictFileOutcome> =>
  cases.map((raw, index) => {
    const decoded = decodeVerdictCase(raw)
    if (Result.isFailure(decoded)) return { id: idOf(raw, index), error: decoded.failure }
    const d = decide(decoded.success.input, gates)
    return {
      id: decoded.success.id,
      verdict: d.outcome,
      checksPassed: d.checksPassed,
      checksTotal: d.checksTotal,
      delta: d.delta,
      gates: d.checks.map((c) => ({ gate: c.gate, status: c.status, reason: c.reason }))
    }
  })

/** Exit code for one case: 0 go, 1 no_go, 3 caution, 2 invalid. */
export const verdictExitCode = (outcome: VerdictFileOutcome): number =>
  "error" in outcome ? 2 : outcome.verdict === "go" ? 0 : outcome.verdict === "no_go" ? 1 : 3

/** Worst first: a no_go decides a file, then an invalid case, then a caution; go only when every case is go. */
const severity = (outcome: VerdictFileOutcome): number =>
  "error" in outcome ? 2 : outcome.verdict === "no_go" ? 3 : outcome.verdict === "caution" ? 1 : 0

export interface FileDecision {
  /** The process exit code for the whole file: the worst case's. */
  readonly code: number
  /** The case that decided it (the first of the worst); undefined for an empty file. */
  readonly decidedBy: string | undefined
  /** One line for a person: which case decided and how many cases were not go. */
  readonly summary: string
}

/** The exit code of a file of cases: the worst case decides (no_go 1 > invalid 2 > caution 3 > go 0); no case at all is 2. */
export const fileDecision = (outcomes: ReadonlyArray<VerdictFileOutcome>): FileDecision => {
  if (outcomes.length === 0) return { code: 2, decidedBy: undefined, summary: "the file holds no case" }
  const worst = outcomes.reduce((w, o) => (severity(o) > severity(w) ? o : w))
  const notGo = outcomes.filter((o) => severity(o) > 0).length
  const what = "error" in worst ? `is invalid (${worst.error})` : `is ${worst.verdict}`
  return {
    code: verdictExitCode(worst),
    decidedBy: worst.id,
    summary: notGo === 0
      ? `all ${outcomes.length} case${outcomes.length === 1 ? "" : "s"} go`
      : `case "${worst.id}" ${what}; ${notGo} of ${outcomes.length} case${outcomes.length === 1 ? "" : "s"} not go`
  }
}
