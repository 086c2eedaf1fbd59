/**
 * The retention clock of an ingested trace starts at ingest: a trace nobody ever curates is purged
 * when its 90 days from ingest end (not kept forever), a held one is not; curating restarts the
 * clock at derivation. And the scheduled curation pass: segments filled to a target, the rest of the
 * traffic left uncurated (its clock from ingest), a segment whose samples aged out refreshed from
 * new traffic, the pool kept in numbered SampleSet versions that stay stored side by side.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { Trace } from "../../src/contracts/index.ts"
import {
  MemoryStorage,
  repositoriesContext,
  type RetentionRepo,
  type SampleRepo,
  type ScanRepo,
  type ScanTraceRepo,
  type TraceRepo
} from "../../src/ports/index.ts"
import { curateIncoming, placeLegalHold, runRetentionSweep, trackIngested } from "../../src/traces/index.ts"

const W = "ws-clock"

const spanOf = (traceId: string, agent: string): Trace => ({
  id: `${traceId}/root`,
  workspaceId: W,
  traceId,
  spanId: "root",
  name: "chat",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:00:01.000Z",
  agentName: agent,
  attributes: { "gen_ai.operation.name": "chat", "gen_ai.agent.name": agent },
  input: "customer text",
  output: "answer"
})

const withStorage = Effect.gen(function*() {
  const storage = yield* MemoryStorage.make
  const provide = <A, E>(effect: Effect.Effect<A, E, TraceRepo | SampleRepo | RetentionRepo | ScanRepo | ScanTraceRepo>) =>
    Effect.provideContext(effect, repositoriesContext(storage))
  const ingest = (traceIds: ReadonlyArray<string>, agent = "intake") =>
    Effect.andThen(storage.trace.append(W, traceIds.map((id) => spanOf(id, agent))), provide(trackIngested(W, traceIds)))
  const stored = Effect.map(storage.trace.list(W), (spans) => [...new Set(spans.map((s) => s.traceId))].sort())
  return { storage, provide, ingest, stored }
})

describe("the retention clock of an ingested trace", () => {
  it.effect("a trace never curated is purged when its window from ingest ends; a held one is kept", () =>
    Effect.gen(function*() {
      const { storage, provide, ingest, stored } = yield* withStorage
      yield* ingest(["alone", "held"])
      yield* provide(placeLegalHold({ id: "hold-1", workspaceId: W, traceIds: ["held"], reason: "litigation" }, "admin"))
      yield* TestClock.adjust("89 days")
      assert.strictEqual((yield* provide(runRetentionSweep(W))).purgedTraces, 0)
      assert.deepStrictEqual(yield* stored, ["alone", "held"])
      yield* TestClock.adjust("1 day")
      const report = yield* provide(runRetentionSweep(W))
      assert.strictEqual(report.purgedTraces, 1)
      assert.deepStrictEqual(report.held, [{ traceId: "held", holdId: "hold-1" }])
      assert.deepStrictEqual(yield* stored, ["held"])
      const states = new Map((yield* storage.retention.records(W)).map((r) => [r.traceId, r.state]))
      assert.strictEqual(states.get("alone"), "TOMBSTONED")
      assert.strictEqual(states.get("held"), "ORPHANED")
      const trail = (yield* storage.retention.events(W)).filter((e) => e.subject === "alone").map((e) => `${e.from}->${e.to} (${e.actor})`)
      assert.deepStrictEqual(trail, ["null->ACTIVE (ingest)", "ACTIVE->ORPHANED (retention-sweep)", "ORPHANED->TOMBSTONED (retention-sweep)"])
    }))

  it.effect("curating restarts the clock at derivation", () =>
    Effect.gen(function*() {
      const { provide, ingest, stored } = yield* withStorage
      yield* ingest(["curated"])
      yield* TestClock.adjust("30 days")
      assert.strictEqual((yield* provide(curateIncoming(W))).derived.length, 1)
      yield* TestClock.adjust("60 days")
      assert.strictEqual((yield* provide(runRetentionSweep(W))).purgedTraces, 0)
      yield* TestClock.adjust("30 days")
      assert.strictEqual((yield* provide(runRetentionSweep(W))).purgedTraces, 1)
      assert.deepStrictEqual(yield* stored, [])
    }))
})

describe("curateIncoming", () => {
  it.effect("fills each segment to its target, keeps numbered sample-set versions, refreshes a segment whose samples aged out", () =>
    Effect.gen(function*() {
      const { storage, provide, ingest } = yield* withStorage
      yield* ingest(["a1", "a2", "a3"], "intake")
      yield* ingest(["b1"], "advisor")
      const policy = { minActivePerSegment: 1, targetPerSegment: 2 }
      const first = yield* provide(curateIncoming(W, policy))
      assert.strictEqual(first.derived.length, 3)
      assert.strictEqual(first.skipped, 1)
      assert.deepStrictEqual(first.coverage.map((c) => [c.segment, c.active]), [["advisor", 1], ["intake", 2]])
      assert.deepStrictEqual(first.sampleSet, { id: "curated", version: 1, created: true })
      // Nothing new: the same pool, the same version.
      const idle = yield* provide(curateIncoming(W, policy))
      assert.strictEqual(idle.derived.length, 0)
      assert.deepStrictEqual(idle.sampleSet, { id: "curated", version: 1, created: false })
      // The uncurated trace kept its clock from ingest: at 90 days it is purged with the rest.
      yield* TestClock.adjust("90 days")
      const swept = yield* provide(runRetentionSweep(W))
      assert.strictEqual(swept.purgedTraces, 4)
      assert.strictEqual(swept.tombstonedSamples, 3)
      // Every segment lost its active samples; new traffic refills intake, advisor stays flagged.
      yield* ingest(["a4"], "intake")
      const refresh = yield* provide(curateIncoming(W, policy))
      assert.deepStrictEqual(refresh.derived.map((s) => s.traceRef.traceId), ["a4"])
      assert.deepStrictEqual(refresh.needsRefresh, ["advisor"])
      assert.deepStrictEqual(refresh.sampleSet, { id: "curated", version: 2, created: true })
      const versions = yield* storage.sample.sampleSets(W)
      assert.deepStrictEqual(versions.map((v) => [v.id, v.version, v.working.length + v.holdout.length]), [["curated", 2, 1], ["curated", 1, 3]])
    }))
})
