import { assert, describe, it } from "vitest"
import { cohensKappa, judgeAgreementGate, wilson } from "../../src/gates/JudgeAgreementGate.ts"
import { arm, input, stimulus } from "./fixtures.ts"

/** 50 stimuli; ground truth passes `filing_status` on 30 of them; the judge scores as `judge(i, truth)`. */
const judged = (judge: (i: number, truth: number) => number) =>
  Array.from({ length: 50 }, (_, i) => {
    const truth = i < 30 ? 1 : 0
    const dims = { worldDimensions: { filing_status: truth }, rubricDimensions: { filing_status: judge(i, truth) } }
    return stimulus(i, arm(0.7, dims), arm(0.72, dims))
  })

describe("judge agreement with ground truth", () => {
  it("a judge that tracks the truth passes, with κ 1 and no bias", () => {
    const [c] = judgeAgreementGate.run(input(judged((_, t) => (t === 1 ? 0.9 : 0.1))))
    assert.strictEqual(c!.status, "pass")
    assert.strictEqual(c!.check, "judge:filing_status")
    assert.match(c!.reason, /^the judge agrees with ground truth on filing_status for 100\.0% \[\d+\.\d%, 100\.0%\] of 100 judged answers \(κ 1\.00, /)
  })

  it("a lenient judge that passes everything is caught: caution, with the agreement, κ and the leaning", () => {
    const [c] = judgeAgreementGate.run(input(judged(() => 0.9)))
    assert.strictEqual(c!.status, "caution")
    assert.closeTo(c!.value!, 0.6, 1e-9)
    assert.include(c!.reason, "for 60.0% [")
    assert.include(c!.reason, "κ 0.00")
    assert.include(c!.reason, "lenient by +")
    assert.include(c!.reason, ": below 70.0%")
  })

  it("a harsh judge is named harsh", () => {
    const [c] = judgeAgreementGate.run(input(judged((_, t) => (t === 1 ? 0.6 : 0.1) - 0.3 * t)))
    assert.include(c!.reason, "harsh by −")
  })

  it("is neutral when no rubric dimension has a world-model dimension's id", () => {
    const stimuli = [stimulus(0, arm(0.5, { worldDimensions: { a: 1 }, rubricDimensions: { b: 1 } }), arm(0.6, { worldDimensions: { a: 1 }, rubricDimensions: { b: 1 } }))]
    assert.deepStrictEqual(judgeAgreementGate.run(input(stimuli)).map((c) => c.status), ["neutral"])
  })

  it("Wilson interval and Cohen's κ match hand computations", () => {
    const w = wilson(8, 10)
    assert.closeTo(w.low, 0.4902, 1e-4)
    assert.closeTo(w.high, 0.9433, 1e-4)
    // po = 0.7, pe = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4.
    assert.closeTo(cohensKappa(20, 15, 5, 10), 0.4, 1e-12)
  })
})
