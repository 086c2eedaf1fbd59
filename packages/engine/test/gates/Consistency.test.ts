import { assert, describe, it } from "vitest"
import { consistencyGate } from "../../src/gates/ConsistencyGate.ts"
import { decodeVerdictCase } from "../../src/gates/VerdictFile.ts"
import { arm, input, stimulus, withThresholds } from "./fixtures.ts"

/** n stimuli with 3 epochs each; the baseline passes every run on all, the candidate on `share` of them. */
const epochs = (n: number, candidatePassesEvery: (i: number) => boolean) =>
  Array.from({ length: n }, (_, i) =>
    stimulus(
      i,
      { ...arm(0.9), runs: [0.9, 0.85, 0.92] },
      { ...arm(0.88), runs: candidatePassesEvery(i) ? [0.9, 0.9, 0.88] : [0.9, 0.2, 0.88] }
    ))

describe("consistency (pass^k)", () => {
  it("is neutral with one run per stimulus, and says why", () => {
    const [c] = consistencyGate.run(input(Array.from({ length: 10 }, (_, i) => stimulus(i, arm(0.7), arm(0.8)))))
    assert.strictEqual(c!.status, "neutral")
    assert.strictEqual(c!.reason, "one run per stimulus: consistency (pass^k) needs epochs > 1")
  })

  it("fails a candidate that passes every run significantly less often, beyond the tolerance", () => {
    const [c] = consistencyGate.run(input(epochs(60, (i) => i % 3 !== 0)))
    assert.strictEqual(c!.status, "fail")
    assert.match(c!.reason, /^the candidate passes every run less often: pass\^3 100\.0% → 66\.7% \(-33\.3 pts \[/)
  })

  it("passes an unchanged or better candidate, and a small drop within the tolerance", () => {
    assert.strictEqual(consistencyGate.run(input(epochs(60, () => true)))[0]!.status, "pass")
    // One stimulus in 60 (−1.7 pts) is within the 5-pt tolerance.
    assert.strictEqual(consistencyGate.run(input(epochs(60, (i) => i !== 0)))[0]!.status, "pass")
    // …and fails at a 1-pt tolerance only if significant: one stimulus is not.
    assert.strictEqual(consistencyGate.run(input(epochs(60, (i) => i !== 0), { thresholds: withThresholds({ maxConsistencyRegression: 0.01 }) }))[0]!.status, "pass")
  })

  it("a verdict file whose epochs have missing runs is an invalid case naming the stimulus", () => {
    const decoded = decodeVerdictCase({
      id: "epochs",
      stimuli: [
        { id: "a", baseline: { score: 0.5, runs: [0.5, 0.5] }, candidate: { score: 0.6, runs: [0.6, 0.6] } },
        { id: "b", baseline: { score: 0.5, runs: [0.5] }, candidate: { score: 0.6, runs: [0.6, 0.6] } }
      ]
    })
    assert.isTrue(decoded._tag === "Failure")
    if (decoded._tag === "Failure") {
      assert.include(decoded.failure, "runs (per-epoch scores) must have the same length")
      assert.include(decoded.failure, `stimulus "b": baseline 1, candidate 2`)
    }
  })
})
