import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { TestClock } from "effect/testing"
import type { AgentVersion, ChangeSet, ChangeSetStatus } from "../../src/contracts/index.ts"
import { allowedTransitions, ChangeSets } from "../../src/changesets/ChangeSetLifecycle.ts"
import { nextAgentVersions } from "../../src/pipeline/Complete.ts"
import { ChangeSetRepo } from "../../src/ports/Repositories.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"

const agent = (agentId: string, version: number, temperature = 0.5, guidance: ReadonlyArray<string> = []): AgentVersion => ({
  agentId,
  version,
  template: {
    basePrompt: `You are ${agentId}.`,
    contextSelection: { mode: "full", maxChars: 1000, truncation: "tail" },
    chainOfThought: "none",
    fewShotExamples: [],
    upstreamInjection: { mode: "none", label: "" },
    guidance,
    outputFields: ["answer"]
  },
  hyperparameters: { provider: "simulated", model: "m", temperature, maxTokens: 100 }
})

const changeSet = (version: number, status: ChangeSetStatus, baselineId: string | null = null): ChangeSet => ({
  id: `ws:cs:${version}`,
  workspaceId: "ws",
  version,
  baselineId,
  framework: { id: "f", version: 1 },
  sampleSet: { id: "e", version: 1 },
  agents: [agent("intake", 1), agent("advisor", 1)],
  explainability: { summary: "", reasoning: [], decisionLog: [], clusterOutcomes: [] },
  status,
  scanId: `ws:scan:${version}`,
  authority: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z"
})

const TestLayer = ChangeSets.layer.pipe(Layer.provideMerge(MemoryStorage.layer))

const statuses: ReadonlyArray<ChangeSetStatus> = ["proposed", "accepted", "superseded", "validated", "rejected"]

describe("change-set state machine", () => {
  it.effect("every illegal transition is a typed error that changes nothing: same row, no audit entry", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const changeSets = yield* ChangeSets
      let version = 0
      let illegal = 0
      for (const from of statuses) {
        for (const to of statuses) {
          if (allowedTransitions[from].includes(to)) continue
          const cs = changeSet(++version, from)
          yield* repo.insert(cs)
          const error = yield* Effect.flip(changeSets.transition("ws", cs.id, to, "alice", "try"))
          assert.strictEqual(error._tag, "IllegalTransition", `${from} → ${to} should fail`)
          if (error._tag === "IllegalTransition") {
            assert.deepStrictEqual([error.changeSetId, error.from, error.to], [cs.id, from, to])
          }
          assert.deepStrictEqual(yield* repo.get("ws", cs.id), cs)
          assert.deepStrictEqual(yield* repo.audit("ws", cs.id), [])
          illegal++
        }
      }
      // 25 pairs, 5 legal ones (proposed→accepted|rejected, accepted→superseded|rejected, superseded→accepted).
      assert.strictEqual(illegal, 20)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("approving a change set supersedes the accepted one; both moves are audited", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const changeSets = yield* ChangeSets
      yield* repo.insert(changeSet(1, "accepted"))
      yield* repo.insert(changeSet(2, "proposed", "ws:cs:1"))
      const accepted = yield* changeSets.approve("ws", "ws:cs:2", "bob")
      assert.strictEqual(accepted.status, "accepted")
      assert.strictEqual((yield* repo.get("ws", "ws:cs:1")).status, "superseded")
      const trail1 = yield* repo.audit("ws", "ws:cs:1")
      const trail2 = yield* repo.audit("ws", "ws:cs:2")
      assert.deepStrictEqual(trail1.map((e) => [e.action, e.actor, e.from, e.to]), [["status:superseded", "bob", "accepted", "superseded"]])
      assert.deepStrictEqual(trail2.map((e) => [e.action, e.actor, e.from, e.to, e.detail]), [["status:accepted", "bob", "proposed", "accepted", "approved by bob"]])
      // Approving it again is illegal and leaves everything as it was.
      const again = yield* Effect.exit(changeSets.approve("ws", "ws:cs:2", "bob"))
      assert.isTrue(Exit.isFailure(again))
      assert.strictEqual((yield* repo.audit("ws", "ws:cs:2")).length, 1)
      assert.strictEqual((yield* repo.get("ws", "ws:cs:1")).status, "superseded")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("approving a final change set does not supersede the accepted one", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const changeSets = yield* ChangeSets
      yield* repo.insert(changeSet(1, "accepted"))
      yield* repo.insert(changeSet(2, "rejected", "ws:cs:1"))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(changeSets.approve("ws", "ws:cs:2", "bob"))))
      assert.strictEqual((yield* repo.get("ws", "ws:cs:1")).status, "accepted")
      assert.deepStrictEqual(yield* repo.audit("ws", "ws:cs:1"), [])
    }).pipe(Effect.provide(TestLayer)))
})

describe("approval workflow", () => {
  it.effect("assign, snooze until a date, reject with a reason: each in the append-only audit trail", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const changeSets = yield* ChangeSets
      yield* TestClock.setTime(Date.parse("2026-03-01T00:00:00.000Z"))
      yield* repo.insert(changeSet(1, "proposed"))
      yield* changeSets.assign("ws", "ws:cs:1", "lead", "carol@ledger.example")
      const afterAssign = yield* repo.audit("ws", "ws:cs:1")
      yield* changeSets.snooze("ws", "ws:cs:1", "carol@ledger.example", "2026-03-08")
      let state = yield* changeSets.approvalState("ws", "ws:cs:1")
      assert.deepStrictEqual(state, { status: "proposed", assignee: "carol@ledger.example", snoozedUntil: "2026-03-08T00:00:00.000Z", snoozed: true, awaitingDecision: false })
      yield* TestClock.setTime(Date.parse("2026-03-09T00:00:00.000Z"))
      state = yield* changeSets.approvalState("ws", "ws:cs:1")
      assert.isFalse(state.snoozed)
      assert.isTrue(state.awaitingDecision)
      const rejected = yield* changeSets.reject("ws", "ws:cs:1", "carol@ledger.example", "raises cost 30% for 1 pt")
      assert.strictEqual(rejected.status, "rejected")
      const trail = yield* repo.audit("ws", "ws:cs:1")
      assert.deepStrictEqual(trail.map((e) => [e.action, e.actor, e.detail]), [
        ["assign", "lead", "assigned to carol@ledger.example"],
        ["snooze", "carol@ledger.example", "snoozed until 2026-03-08T00:00:00.000Z"],
        ["status:rejected", "carol@ledger.example", "rejected: raises cost 30% for 1 pt"]
      ])
      // Append-only: what was written first is still there, unchanged.
      assert.deepStrictEqual(trail.slice(0, afterAssign.length), afterAssign)
      assert.strictEqual(trail[2]!.at, "2026-03-09T00:00:00.000Z")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("invalid approval actions are typed errors and record nothing", () =>
    Effect.gen(function*() {
      const repo = yield* ChangeSetRepo
      const changeSets = yield* ChangeSets
      yield* TestClock.setTime(Date.parse("2026-03-01T00:00:00.000Z"))
      yield* repo.insert(changeSet(1, "proposed"))
      yield* repo.insert(changeSet(2, "accepted"))
      const attempts: ReadonlyArray<Effect.Effect<unknown, unknown>> = [
        changeSets.reject("ws", "ws:cs:1", "carol", "  "),
        changeSets.snooze("ws", "ws:cs:1", "carol", "next week"),
        changeSets.snooze("ws", "ws:cs:1", "carol", "2026-02-01"),
        changeSets.assign("ws", "ws:cs:1", "carol", ""),
        changeSets.snooze("ws", "ws:cs:2", "carol", "2026-04-01"),
        changeSets.assign("ws", "ws:cs:2", "carol", "dave")
      ]
      for (const attempt of attempts) {
        const exit = yield* Effect.exit(attempt)
        assert.isTrue(Exit.isFailure(exit))
        assert.include(JSON.stringify(exit), "InvalidApproval")
      }
      assert.deepStrictEqual(yield* repo.audit("ws", "ws:cs:1"), [])
      assert.deepStrictEqual(yield* repo.audit("ws", "ws:cs:2"), [])
      assert.strictEqual((yield* repo.get("ws", "ws:cs:1")).status, "proposed")
    }).pipe(Effect.provide(TestLayer)))
})

describe("per-agent versions", () => {
  it("only agents that changed get a new version; unchanged ones keep theirs", () => {
    const baseline = [agent("intake", 3), agent("advisor", 5)]
    const next = nextAgentVersions(baseline, [agent("intake", 1), agent("advisor", 1, 0.2, ["Check the spouse's year of death."])])
    assert.deepStrictEqual(next.map((a) => [a.agentId, a.version]), [["intake", 3], ["advisor", 6]])
    assert.deepStrictEqual(next[0], baseline[0])
    assert.strictEqual(next[1]!.hyperparameters.temperature, 0.2)
    // A new agent starts at version 1.
    assert.deepStrictEqual(nextAgentVersions(baseline, [agent("reviewer", 9)]).map((a) => a.version), [1])
  })
})
