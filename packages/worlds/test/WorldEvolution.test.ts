import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { SpectralEvent } from "@spectral/engine/contracts"
import { taxWorld_0_1_0, WorldEvolution, WorldRegistry } from "../src/index.ts"

const authority = taxWorld_0_1_0.authority
let n = 0
const cluster = (workspaceId: string, label: string, over: { frequencyPct?: number; effectSize?: number; actionable?: boolean; memberCount?: number; explanations?: Array<string> } = {}): SpectralEvent => {
  n++
  return {
    id: `evt-${n}`,
    type: "platform.failure_cluster.detected",
    version: 1,
    workspaceId,
    occurredAt: "2026-04-20T00:00:00.000Z",
    payload: {
      workspaceId,
      scanId: `scan-${n}`,
      clusterId: `c-${n}`,
      label,
      frequencyPct: over.frequencyPct ?? 18,
      effectSize: over.effectSize ?? 22,
      actionable: over.actionable ?? true,
      memberCount: over.memberCount ?? 10,
      segments: { married_living_apart: 7, single_parent: 3 },
      representativeExplanations: over.explanations ?? ["filed MFS although the spouse moved out in March and the child lived at home"],
      authority
    }
  }
}
const divergence = (workspaceId: string, rate: number, gap: number): SpectralEvent => {
  n++
  return {
    id: `evt-${n}`,
    type: "rubric.divergence",
    version: 1,
    workspaceId,
    occurredAt: "2026-04-20T00:00:00.000Z",
    payload: {
      workspaceId,
      scanId: `scan-${n}`,
      worldModelScore: { _tag: "Present", value: 0.8 },
      rubricScore: { _tag: "Present", value: 0.6 },
      divergence: { _tag: "Present", value: gap },
      disagreementRate: { _tag: "Present", value: rate },
      stimuliCount: 80,
      authority
    }
  }
}

const LIVING_APART = "misses the considered unmarried test for head of household"

describe("WorldEvolution", () => {
  it.effect("single-workspace evidence stays an observation; a second workspace raises a rule revision", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const first = yield* evolution.consume(cluster("ws-a", LIVING_APART))
      assert.strictEqual(first.decision, "observation")
      const again = yield* evolution.consume(cluster("ws-a", LIVING_APART))
      assert.strictEqual(again.decision, "observation")
      assert.deepStrictEqual(yield* evolution.candidates, [])
      const second = yield* evolution.consume(cluster("ws-b", LIVING_APART))
      assert.strictEqual(second.decision, "rule_revision")
      const [candidate] = yield* evolution.candidates
      assert.strictEqual(candidate.targetRuleId, "hoh.considered-unmarried")
      assert.strictEqual(candidate.status, "proposed")
      assert.deepStrictEqual(candidate.evidence.workspaces, ["ws-a", "ws-b"])
      assert.strictEqual(candidate.evidence.events, 3)
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("a pattern no rule covers becomes a rule candidate; severity variants aggregate under one label", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      yield* evolution.consume(cluster("ws-a", "Ignores the 2 dollar state residency credit", { explanations: ["mentions state residency credit"] }))
      const d = yield* evolution.consume(cluster("ws-b", "ignores the 7 dollar state residency credit", { explanations: ["mentions state residency credit"] }))
      assert.strictEqual(d.decision, "rule_candidate")
      const [candidate] = yield* evolution.candidates
      assert.strictEqual(candidate.kind, "rule_candidate")
      assert.isNull(candidate.targetRuleId)
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("below the threshold is noise, however many workspaces", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      for (const ws of ["ws-a", "ws-b", "ws-c"]) {
        const low = yield* evolution.consume(cluster(ws, "rare formatting slip", { frequencyPct: 9.9, effectSize: 40 }))
        assert.strictEqual(low.decision, "noise")
      }
      for (const ws of ["ws-a", "ws-b"]) {
        const weak = yield* evolution.consume(cluster(ws, "small effect", { frequencyPct: 30, effectSize: 14.9 }))
        assert.strictEqual(weak.decision, "noise")
        const inert = yield* evolution.consume(cluster(ws, "not actionable", { actionable: false }))
        assert.strictEqual(inert.decision, "noise")
      }
      assert.deepStrictEqual(yield* evolution.candidates, [])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("the threshold is computed over the stream, not per event", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const big = yield* evolution.consume(cluster("ws-a", LIVING_APART, { frequencyPct: 40, effectSize: 30, memberCount: 10 }))
      assert.strictEqual(big.decision, "observation")
      // A large second workspace where the pattern is marginal drags the member-weighted mean below 10%.
      const diluted = yield* evolution.consume(cluster("ws-b", LIVING_APART, { frequencyPct: 2, effectSize: 30, memberCount: 90 }))
      assert.strictEqual(diluted.decision, "noise")
      assert.closeTo(diluted.evidence!.frequencyPct, 5.8, 1e-9)
      assert.deepStrictEqual(yield* evolution.candidates, [])
      // More evidence in a third workspace lifts it back over the line.
      const lifted = yield* evolution.consume(cluster("ws-c", LIVING_APART, { frequencyPct: 30, effectSize: 30, memberCount: 200 }))
      assert.strictEqual(lifted.decision, "rule_revision")
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("rubric divergence: one workspace is an observation, two drive a revision candidate", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      assert.strictEqual((yield* evolution.consume(divergence("ws-a", 0.25, 0.2))).decision, "observation")
      assert.strictEqual((yield* evolution.consume(divergence("ws-a", 0.3, 0.2))).decision, "observation")
      assert.strictEqual((yield* evolution.consume(divergence("ws-b", 0.2, 0.18))).decision, "rule_revision")
      const candidates = yield* evolution.candidates
      assert.deepStrictEqual(candidates.map((c) => [c.kind, c.source]), [["rule_revision", "rubric_divergence"]])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("repeats are dropped and other events ignored", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const event = cluster("ws-a", LIVING_APART)
      yield* evolution.consume(event)
      assert.strictEqual((yield* evolution.consume(event)).decision, "duplicate")
      const verdict: SpectralEvent = {
        id: "v-1", type: "verdict.issued", version: 1, workspaceId: "ws-a", occurredAt: "2026-04-20T00:00:00.000Z",
        payload: { workspaceId: "ws-a", scanId: "s", verdictId: "v", outcome: "go", checksPassed: 9, checksTotal: 9, changeSetId: null }
      }
      assert.strictEqual((yield* evolution.consume(verdict)).decision, "ignored")
      // the duplicate is not recorded as a decision
      assert.deepStrictEqual((yield* evolution.decisions).map((d) => d.decision), ["observation", "ignored"])
    }).pipe(Effect.provide(WorldEvolution.layer)))

  it.effect("nothing is published without an explicit call", () =>
    Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const registry = yield* WorldRegistry
      yield* evolution.consume(cluster("ws-a", LIVING_APART))
      yield* evolution.consume(cluster("ws-b", LIVING_APART))
      const tax = (yield* registry.list).find((w) => w.worldModelId === "us-federal-individual-tax")!
      assert.deepStrictEqual(tax.versions, ["0.1.0", "0.2.0"])
      const [candidate] = yield* evolution.candidates
      const next = { ...JSON.parse(JSON.stringify(taxWorld_0_1_0.definition)), version: "0.3.0" }
      next.rules.find((r: { id: string }) => r.id === "hoh.considered-unmarried").statement += " (revised)"
      const published = yield* evolution.publishCandidate(candidate.id, next)
      assert.strictEqual(published.authority.worldModelVersion, "0.3.0")
      assert.strictEqual((yield* registry.current("us-federal-individual-tax")).authority.worldModelVersion, "0.1.0")
      const [after] = yield* evolution.candidates
      assert.deepStrictEqual([after.status, after.publishedVersion], ["published", "0.3.0"])
    }).pipe(Effect.provide(WorldEvolution.layer)))
})
