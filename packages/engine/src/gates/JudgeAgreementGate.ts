/**
 * Judge calibration against ground truth. On a synthetic stimulus the world model's answer is
 * known, so wherever a rubric dimension has the id of a world-model dimension the judge can be
 * measured: per such dimension, over every judged answer of both arms, the agreement on pass/fail
 * (each side passes at ≥ 0.5), its Wilson interval, Cohen's κ, and the mean signed bias
 * rubric − world model (positive: a lenient judge; negative: a harsh one). A judge that agrees less
 * than the framework's `minJudgeAgreement` on a dimension makes the verdict caution, with the
 * figures in the reason: the blended score leans on a judge that does not track the truth.
 */
import { check, comparable, type Gate, share } from "./Gate.ts"
import type { GateArm, VerdictInput } from "./VerdictInput.ts"

export interface JudgeAgreement {
  readonly dimension: string
  readonly n: number
  readonly agreement: number
  readonly low: number
  readonly high: number
  readonly kappa: number
  /** Mean of rubric − world model over the judged answers (0–1 scale). */
  readonly bias: number
}

/** Wilson score interval for a proportion at 95%. */
export const wilson = (successes: number, n: number, z = 1.959963984540054): { readonly low: number; readonly high: number } => {
  if (n === 0) return { low: 0, high: 1 }
  const p = successes / n
  const denominator = 1 + (z * z) / n
  const centre = (p + (z * z) / (2 * n)) / denominator
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/** Cohen's κ of two binary raters from their 2×2 table. */
export const cohensKappa = (bothPass: number, bothFail: number, onlyA: number, onlyB: number): number => {
  const n = bothPass + bothFail + onlyA + onlyB
  if (n === 0) return 0
  const observed = (bothPass + bothFail) / n
  const aPass = (bothPass + onlyA) / n
  const bPass = (bothPass + onlyB) / n
  const expected = aPass * bPass + (1 - aPass) * (1 - bPass)
  return expected === 1 ? (observed === 1 ? 1 : 0) : (observed - expected) / (1 - expected)
}

export const judgeAgreement = (input: VerdictInput): ReadonlyArray<JudgeAgreement> => {
  const pairs = new Map<string, Array<{ readonly world: number; readonly rubric: number }>>()
  const add = (arm: GateArm) => {
    for (const [key, rubric] of Object.entries(arm.rubricDimensions ?? {})) {
      const world = arm.worldDimensions?.[key]
      if (world === undefined) continue
      const list = pairs.get(key) ?? []
      list.push({ world, rubric })
      pairs.set(key, list)
    }
  }
  for (const s of comparable(input)) {
    if (s.source !== "synthetic") continue
    add(s.baseline)
    if (!input.noCandidate) add(s.candidate)
  }
  return [...pairs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dimension, list]) => {
    let bothPass = 0
    let bothFail = 0
    let onlyWorld = 0
    let onlyRubric = 0
    let bias = 0
    for (const { world, rubric } of list) {
      const w = world >= 0.5
      const r = rubric >= 0.5
      if (w && r) bothPass++
      else if (!w && !r) bothFail++
      else if (w) onlyWorld++
      else onlyRubric++
      bias += rubric - world
    }
    const n = list.length
    const agreed = bothPass + bothFail
    return { dimension, n, agreement: agreed / n, ...wilson(agreed, n), kappa: cohensKappa(bothPass, bothFail, onlyWorld, onlyRubric), bias: bias / n }
  })
}

const pts = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)} pts`

export const judgeAgreementGate: Gate = {
  name: "builtin/judge_agreement",
  description: "Where a rubric dimension has a world-model dimension's id, the judge agrees with ground truth at least minJudgeAgreement of the time.",
  run: (input) => {
    const rows = judgeAgreement(input)
    if (rows.length === 0) return [check("judge_agreement", "judge", "neutral", "no rubric dimension shares an id with a world-model dimension: the judge cannot be checked against ground truth")]
    const min = input.thresholds.minJudgeAgreement
    return rows.map((r) => {
      const leaning = Math.abs(r.bias) < 0.005 ? "unbiased" : r.bias > 0 ? `lenient by ${pts(r.bias)}` : `harsh by ${pts(r.bias)}`
      const text = `the judge agrees with ground truth on ${r.dimension} for ${share(r.agreement)} [${share(r.low)}, ${share(r.high)}] of ${r.n} judged answers (κ ${r.kappa.toFixed(2)}, ${leaning})`
      return r.agreement < min
        ? check("judge_agreement", `judge:${r.dimension}`, "caution", `${text}: below ${share(min)}`, r.agreement, min)
        : check("judge_agreement", `judge:${r.dimension}`, "pass", text, r.agreement, min)
    })
  }
}
