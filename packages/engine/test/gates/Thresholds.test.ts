import { Result, Schema } from "effect"
import { assert, describe, it } from "vitest"
import { VerdictThresholds } from "../../src/contracts/index.ts"
import { thresholds } from "./fixtures.ts"

const decode = (patch: Record<string, unknown>) => Schema.decodeUnknownResult(VerdictThresholds)({ ...thresholds, ...patch })
const errorOf = (patch: Record<string, unknown>) => {
  const r = decode(patch)
  assert.isTrue(Result.isFailure(r), JSON.stringify(patch))
  return Result.isFailure(r) ? r.failure.message : ""
}

describe("verdict thresholds are checked when the framework is decoded", () => {
  it("valid thresholds decode", () => {
    assert.isTrue(Result.isSuccess(decode({})))
  })
  it("out-of-domain values are rejected, naming the field", () => {
    // α ≤ 0 means a level ≥ 1; α > 0.5 a level below one half.
    assert.include(errorOf({ alpha: -0.05 }), `["alpha"]`)
    assert.include(errorOf({ alpha: 0 }), `["alpha"]`)
    assert.include(errorOf({ alpha: 0.7 }), `["alpha"]`)
    assert.include(errorOf({ minDelta: -0.01 }), `["minDelta"]`)
    assert.include(errorOf({ maxInfraFailureRate: 1.5 }), `["maxInfraFailureRate"]`)
    assert.include(errorOf({ minSamples: 0 }), `["minSamples"]`)
    assert.include(errorOf({ minSamples: 2.5 }), `["minSamples"]`)
    assert.include(errorOf({ maxHoldoutGap: Number.NaN }), `["maxHoldoutGap"]`)
  })
  it("cross-field: an empty changed-share band or a minimum above the sanity ceiling is rejected", () => {
    assert.include(errorOf({ minChangedShare: 0.6, maxChangedShare: 0.4 }), `minChangedShare (0.6) must not exceed maxChangedShare (0.4)\n  at ["minChangedShare"]`)
    assert.include(errorOf({ minDelta: 0.7, sanityMaxDelta: 0.5 }), `["minDelta"]`)
    // Edge: equal ends are fine.
    assert.isTrue(Result.isSuccess(decode({ minChangedShare: 0.5, maxChangedShare: 0.5 })))
  })
})
