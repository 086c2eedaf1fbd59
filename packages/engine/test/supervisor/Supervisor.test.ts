/**
 * The supervisor on synthetic histories: every class is reached, and each one has a near miss that
 * lands elsewhere (so none of the tests can pass for a constant classifier). One history crosses a
 * world-model version bump: the classification is computed across it, never reset by it (ADR-030).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { classifyAgents, decodeScanHistory, type ScanSummary, SupervisorOptions } from "../../src/supervisor/index.ts"

interface Point {
  readonly q: number
  readonly se?: number
  readonly cost?: number
  readonly version?: number
}

const scanAt = (i: number, agents: Readonly<Record<string, Point>>, worldVersion = "0.1.0"): ScanSummary => ({
  scanId: `ws:scan:${i}`,
  workspaceId: "ws",
  at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  attribution: { worldModelId: "world", worldModelVersion: worldVersion },
  agents: Object.entries(agents).map(([agentId, p]) => ({
    agentId,
    agentVersion: p.version ?? 1,
    quality: { estimate: p.q, low: p.q - 1.96 * (p.se ?? 0.02), high: p.q + 1.96 * (p.se ?? 0.02), level: 0.95, standardError: p.se ?? 0.02 },
    stimuli: 40,
    costUsd: p.cost ?? 0.002
  }))
})

/** One agent "a" with these points, one scan each, oldest first. */
const series = (points: ReadonlyArray<Point>, versions?: ReadonlyArray<string>) =>
  points.map((p, i) => scanAt(i + 1, { a: p }, versions?.[i]))

const statusOf = (history: ReadonlyArray<ScanSummary>, options = {}) => classifyAgents(history, options)[0]!

describe("supervisor classes", () => {
  it("NO_DATA with fewer than two scans; a second scan ends it", () => {
    const one = statusOf(series([{ q: 0.7 }]))
    assert.strictEqual(one.status, "NO_DATA")
    assert.strictEqual(one.reason, "NO_DATA: only 1 scan scored this agent; the supervisor needs at least 2")
    assert.notStrictEqual(statusOf(series([{ q: 0.7 }, { q: 0.7 }])).status, "NO_DATA")
    const declared = classifyAgents(series([{ q: 0.7 }, { q: 0.7 }]), { agents: ["never-scored"] })
    assert.deepStrictEqual(declared.map((s) => [s.agentId, s.status]), [["a", "PLATEAU"], ["never-scored", "NO_DATA"]])
    assert.strictEqual(declared[1]!.reason, "NO_DATA: no scan scored this agent; the supervisor needs at least 2")
  })

  it("ACTIVE when the latest score lies above the window's first beyond noise; the same climb inside the noise is a plateau", () => {
    const climbing = series([0.6, 0.63, 0.66, 0.69, 0.72].map((q) => ({ q })))
    const active = statusOf(climbing)
    assert.strictEqual(active.status, "ACTIVE")
    assert.strictEqual(active.trend, "improving")
    // Δ = 12 pts, se √2·2 pts: 95% CI 12 ± 5.5.
    assert.strictEqual(active.reason, "ACTIVE: improving beyond noise across the last 5 scans (Δ +12.0 pts, 95% CI [+6.5, +17.5])")
    assert.strictEqual(active.change?.fromScanId, "ws:scan:1")
    const noisy = statusOf(series([0.6, 0.63, 0.66, 0.69, 0.72].map((q) => ({ q, se: 0.05 }))))
    assert.strictEqual(noisy.status, "PLATEAU")
  })

  it("the window is the last K scans: an early climb followed by five flat scans is no longer active", () => {
    const history = series([0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7].map((q) => ({ q })))
    assert.strictEqual(statusOf(history).status, "PLATEAU")
    assert.strictEqual(statusOf(history, { window: 7 }).status, "ACTIVE")
  })

  it("PLATEAU names the change and its interval", () => {
    // se chosen so that 1.96 · √(2 se²) = 1.5 pts.
    const se = 0.015 / (1.959963984540054 * Math.SQRT2)
    const flat = statusOf(series([0.7, 0.71, 0.695, 0.705, 0.704].map((q) => ({ q, se }))))
    assert.strictEqual(flat.status, "PLATEAU")
    assert.strictEqual(flat.trend, "flat")
    assert.isTrue(flat.reason.startsWith("PLATEAU: no significant change across the last 5 scans (Δ +0.4 pts, 95% CI [−1.1, +1.9])"), flat.reason)
    assert.include(flat.reason, "every scan cost about the same")
  })

  it("FRONTIER when nothing in the history is as good for less; a cheaper, as-good earlier scan makes it a plateau", () => {
    const cheapWorse = { q: 0.6, cost: 0.001 }
    const better = { q: 0.8, cost: 0.002 }
    const history = series([cheapWorse, cheapWorse, better, better, better, better, better])
    const frontier = statusOf(history)
    assert.strictEqual(frontier.status, "FRONTIER")
    assert.strictEqual(frontier.trend, "flat")
    assert.isUndefined(frontier.dominatedBy)
    assert.deepStrictEqual(frontier.frontier, ["ws:scan:1", "ws:scan:2", "ws:scan:3", "ws:scan:4", "ws:scan:5", "ws:scan:6", "ws:scan:7"])
    assert.include(frontier.reason, "FRONTIER: on the quality/cost front of its 7 scans — none scored as well for less (latest 80.0 pts at $0.0020 per stimulus; scan ws:scan:2 60.0 pts at $0.0010 per stimulus)")
    const cheapAsGood = series([cheapWorse, { q: 0.8, cost: 0.001 }, better, better, better, better, better])
    const dominated = statusOf(cheapAsGood)
    assert.strictEqual(dominated.status, "PLATEAU")
    assert.strictEqual(dominated.dominatedBy, "ws:scan:2")
    assert.include(dominated.reason, "scan ws:scan:2 scored 80.0 pts at $0.0010 per stimulus, against the latest's 80.0 pts at $0.0020 per stimulus")
    assert.notInclude(dominated.frontier, "ws:scan:7")
  })

  it("a drop bought with a lower cost is a trade on the front; the same drop at the same cost is a declining ACTIVE", () => {
    const before = { q: 0.8, cost: 0.002 }
    const trade = statusOf(series([before, before, before, before, { q: 0.7, cost: 0.0005 }]))
    assert.strictEqual(trade.status, "FRONTIER")
    assert.strictEqual(trade.trend, "declining")
    assert.include(trade.reason, "a significant drop bought with a lower cost")
    const regression = statusOf(series([before, before, before, before, { q: 0.7, cost: 0.002 }]))
    assert.strictEqual(regression.status, "ACTIVE")
    assert.strictEqual(regression.trend, "declining")
    assert.isDefined(regression.dominatedBy)
    assert.isTrue(regression.reason.startsWith("ACTIVE: declining beyond noise across the last 5 scans (Δ −10.0 pts, 95% CI [−15.5, −4.5]); scan ws:scan:"), regression.reason)
  })

  it("costs within the tolerance are the same cost: no front is explored", () => {
    const history = series([{ q: 0.6, cost: 0.00200 }, { q: 0.6, cost: 0.00205 }, { q: 0.6, cost: 0.00198 }])
    assert.strictEqual(statusOf(history).status, "PLATEAU")
    assert.strictEqual(statusOf(history, { costTolerance: 0.001 }).status, "FRONTIER")
  })
})

describe("continuity across world-model versions (ADR-030)", () => {
  const versions = ["0.1.0", "0.1.0", "0.1.0", "0.2.0", "0.2.0"]

  it("a climb that crosses a version bump is one climb: ACTIVE, where a reset at the bump would see two scans and a plateau", () => {
    const history = series([0.6, 0.65, 0.7, 0.75, 0.8].map((q) => ({ q })), versions)
    const status = statusOf(history)
    assert.strictEqual(status.status, "ACTIVE")
    assert.strictEqual(status.change?.fromScanId, "ws:scan:1")
    assert.strictEqual(status.change?.scans, 5)
    assert.deepStrictEqual(status.worldModelVersions, ["world@0.1.0", "world@0.2.0"])
    assert.include(status.reason, "the window spans world@0.1.0 → world@0.2.0")
    // What a supervisor that reset at the bump would have said:
    assert.strictEqual(statusOf(history.slice(3)).status, "PLATEAU")
  })

  it("a drop at the bump shows as a drop (a declining ACTIVE), not as a fresh start", () => {
    const history = series([0.8, 0.8, 0.8, 0.7, 0.7].map((q) => ({ q })), versions)
    const status = statusOf(history)
    assert.strictEqual(status.status, "ACTIVE")
    assert.strictEqual(status.trend, "declining")
    assert.strictEqual(statusOf(history.slice(3)).status, "PLATEAU")
  })
})

describe("supervisor input", () => {
  it("order and repeats of the history do not change the answer", () => {
    const history = series([0.6, 0.63, 0.66, 0.69, 0.72].map((q) => ({ q })))
    const shuffled = [history[3]!, history[0]!, history[4]!, history[1]!, history[2]!, history[0]!]
    assert.deepStrictEqual(classifyAgents(shuffled), classifyAgents(history))
  })

  it("several agents are classified on their own scans", () => {
    const history = [0, 1, 2, 3, 4].map((i) => scanAt(i + 1, { intake: { q: 0.6 + 0.03 * i }, advisor: { q: 0.7 }, ...(i === 4 ? { late: { q: 0.5 } } : {}) }))
    assert.deepStrictEqual(classifyAgents(history).map((s) => [s.agentId, s.status]), [["advisor", "PLATEAU"], ["intake", "ACTIVE"], ["late", "NO_DATA"]])
  })

  it.effect("a malformed history is refused naming the field; out-of-range options are refused", () =>
    Effect.gen(function*() {
      const bad = [{ ...scanAt(1, { a: { q: 0.7 } }), agents: [{ agentId: "a", quality: { estimate: 0.7, low: 0.8, high: 0.9, level: 0.95 }, stimuli: 40, costUsd: 0 }] }]
      const error = yield* Effect.flip(decodeScanHistory(bad))
      assert.strictEqual(error._tag, "ScanHistoryInvalid")
      assert.include(error.message, "low ≤ estimate ≤ high")
      assert.include(error.message, "quality")
      const one = yield* Effect.flip(decodeScanHistory([{ ...scanAt(1, { a: { q: 0.7 } }), agents: [{ ...scanAt(1, { a: { q: 0.7 } }).agents[0]!, stimuli: 1 }] }]))
      assert.include(one.message, "stimuli")
      assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(SupervisorOptions)({ window: 1 })))
      assert.isTrue(Exit.isSuccess(Schema.decodeUnknownExit(SupervisorOptions)({ window: 3, level: 0.9 })))
    }))
})
