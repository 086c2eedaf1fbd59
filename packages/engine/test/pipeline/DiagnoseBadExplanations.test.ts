/**
 * Bad rubric explanations through Diagnose: each failing trace is either in a cluster or listed in
 * `skippedExplanations` with its reason; cleaned and truncated ones are in `adjustedExplanations`;
 * and the diagnosis survives a JSON round trip through its schema (no lone surrogate or NUL reaches
 * what is stored).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Diagnosis, type EvalSet } from "../../src/contracts/index.ts"
import { diagnose, FailureClusterer } from "../../src/pipeline/Diagnose.ts"
import type { RunMeasurement } from "../../src/measurement/Measurement.ts"
import type { ScanContext } from "../../src/pipeline/ScanContext.ts"

const context = {
  workspace: { id: "ws", framework: { passThreshold: 0.8 } },
  scan: { id: "scan-1", seed: 1 },
  agents: [{ id: "advisor", dependsOn: [] }],
  finalAgentIds: ["advisor"]
} as unknown as ScanContext

const run = (id: string, rubric: number, explanation: string): RunMeasurement => ({
  stimulusId: id,
  epoch: 0,
  traceId: `t-${id}`,
  status: "ok",
  worldModel: rubric,
  rubric,
  blended: rubric,
  passed: rubric >= 0.8,
  agents: { advisor: rubric },
  worldDimensions: {},
  rubricDimensions: {},
  explanation,
  agentOutputs: {},
  truncatedAgents: [],
  costUsd: 0,
  latencyMs: 0
})

const explanations: ReadonlyArray<string> = [
  "timeout after 15s calling tax_lookup",
  "timeout after 30s calling tax_lookup",
  "",
  "   ",
  "\u0000\u0001",
  "\uFFFD\uFFFD",
  "timeout after 45s calling tax_lookup \uD800\u0000",
  `timeout after 60s calling tax_lookup. ${"The call to tax_lookup timed out again. ".repeat(3_000)}`,
  "answered single where head of household applies",
  "answered single where head of household applies for this filer"
]

const evalSet = { samples: explanations.map((_, i) => ({ id: `s${i}`, segment: "a" })) } as unknown as EvalSet

const diagnosed = (runs: ReadonlyArray<RunMeasurement>) =>
  Effect.gen(function*() {
    const clusterer = yield* FailureClusterer
    return yield* diagnose(context, evalSet, runs, (input) => clusterer.cluster(input, 1))
  }).pipe(Effect.provide(FailureClusterer.layerOffline))

describe("Diagnose on bad explanations", () => {
  it.effect("skips empty, whitespace and content-free explanations with their reason, and clusters the rest", () =>
    Effect.gen(function*() {
      const runs = [...explanations.map((e, i) => run(`s${i}`, 0.3, e)), run("pass", 0.95, "fine")]
      const diagnosis = yield* diagnosed(runs)
      assert.strictEqual(diagnosis.failingCount, explanations.length)
      assert.deepStrictEqual(diagnosis.skippedExplanations?.map((s) => [s.traceId, s.reason]), [
        ["t-s2", "empty"],
        ["t-s3", "whitespace_only"],
        ["t-s4", "no_content"],
        ["t-s5", "no_content"]
      ])
      assert.deepStrictEqual(diagnosis.adjustedExplanations?.map((a) => [a.traceId, a.adjustments]), [
        ["t-s6", ["lone_surrogates_replaced", "control_characters_removed"]],
        ["t-s7", ["truncated"]]
      ])
      const clustered = diagnosis.clusters.flatMap((c) => c.memberTraceIds).sort()
      assert.deepStrictEqual(clustered, ["t-s0", "t-s1", "t-s6", "t-s7", "t-s8", "t-s9"])
      for (const c of diagnosis.clusters) {
        assert.isAbove(c.label.length, 0)
        assert.strictEqual(c.labelSource, "offline")
        assert.isTrue(Number.isFinite(c.effectSize) && Number.isFinite(c.frequencyPct))
      }
      // Stored as JSON through the schema: decodes to the same diagnosis, with no ill-formed text.
      const json = JSON.stringify(Schema.encodeSync(Diagnosis)(diagnosis))
      assert.notMatch(json, /\\u0000|\\ud800/iu)
      assert.deepStrictEqual(Schema.decodeUnknownSync(Diagnosis)(JSON.parse(json)), diagnosis)
    }))

  it.effect("when every explanation is skipped the diagnosis has no clusters and lists every skip", () =>
    Effect.gen(function*() {
      const diagnosis = yield* diagnosed([run("a", 0.2, ""), run("b", 0.1, " \n "), run("c", 0.3, "42")])
      assert.deepStrictEqual(diagnosis.clusters, [])
      assert.deepStrictEqual(diagnosis.skippedExplanations?.map((s) => s.reason), ["empty", "whitespace_only", "no_content"])
      assert.strictEqual(diagnosis.failingCount, 3)
    }))

  it.effect("a corpus of one explanation repeated is one cluster", () =>
    Effect.gen(function*() {
      const same = Array.from({ length: 12 }, (_, i) => run(`r${i}`, 0.4, "claimed the child tax credit for a dependent over 17"))
      const diagnosis = yield* diagnosed(same)
      assert.strictEqual(diagnosis.clusters.length, 1)
      assert.strictEqual(diagnosis.clusters[0]!.memberTraceIds.length, 12)
      assert.strictEqual(diagnosis.clusters[0]!.label, "claimed the child tax credit for a dependent over 17")
      assert.isUndefined(diagnosis.skippedExplanations)
    }))
})
