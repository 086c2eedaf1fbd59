import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { decodeVerdictCase, verdictFile } from "../../src/gates/VerdictFile.ts"

const stimuli = (n: number, arms: (i: number) => { baseline?: object; candidate?: object; weight?: number }) =>
  Array.from({ length: n }, (_, i) => {
    const { baseline, candidate, weight } = arms(i)
    return {
      id: `s${i}`,
      ...(weight !== undefined ? { weight } : {}),
      baseline: { score: 0.6, ...baseline },
      candidate: { score: 0.62, ...candidate }
    }
  })

const errorOf = (raw: unknown): string => {
  const decoded = decodeVerdictCase(raw)
  if (Result.isSuccess(decoded)) return assert.fail("expected the case to be rejected")
  return decoded.failure
}

describe("verdict file: values the gates cannot do finite arithmetic on are rejected, named", () => {
  it("an agent score of ±1e308 (was: 'regresses by Infinity pts')", () => {
    const error = errorOf({
      id: "huge-agents",
      stimuli: stimuli(4, (i) => ({ baseline: { agents: { intake: 1e308 } }, candidate: { agents: { intake: i % 2 === 0 ? -1e308 : 0.5 } } }))
    })
    assert.match(error, /agents/)
    assert.match(error, /intake/)
  })

  it("a dimension score outside [0, 1]", () => {
    assert.match(errorOf({ id: "dim", stimuli: stimuli(2, () => ({ candidate: { dimensions: { safety: 7 } } })) }), /dimensions[\s\S]*safety/)
  })

  it("an absurd weight, cost or latency", () => {
    assert.match(errorOf({ id: "w", stimuli: stimuli(2, () => ({ weight: 1e308 })) }), /weight/)
    assert.match(errorOf({ id: "c", stimuli: stimuli(2, () => ({ candidate: { costUsd: 1e308 } })) }), /costUsd/)
    assert.match(errorOf({ id: "l", stimuli: stimuli(2, () => ({ baseline: { latencyMs: 1e300 } })) }), /latencyMs/)
  })

  it("the others still run, with finite numbers only", () => {
    const outcomes = verdictFile([
      { id: "bad", stimuli: stimuli(2, () => ({ candidate: { agents: { intake: 1e308 } } })) },
      { id: "good", stimuli: stimuli(40, (i) => ({ baseline: { agents: { intake: 0.9 } }, candidate: { agents: { intake: 0.9 + (i % 2) * 0.01 } } })) }
    ], [])
    assert.isTrue("error" in outcomes[0])
    const good = outcomes[1]
    assert.isFalse("error" in good)
  })
})
