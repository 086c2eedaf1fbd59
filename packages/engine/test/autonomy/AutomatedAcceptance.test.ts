/**
 * The bounded_auto guards on the toy team, driven through the engine's own handler: the
 * `require_validated_changeset` guard refuses a change set validated on a baseline that is no
 * longer the current one (another change set was accepted meanwhile), and lets the same change
 * set through when it is off.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AutomatedAcceptance } from "../../src/autonomy/AutomatedAcceptance.ts"
import { ChangeSets } from "../../src/changesets/ChangeSetLifecycle.ts"
import type { Workspace } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ChangeSetRepo, SampleRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const engine = ScanEngine.layer().pipe(
  Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("reader")))
)

const bounded = (workspace: Workspace, requireValidatedChangeSet: boolean): Workspace => ({
  ...workspace,
  autonomy: { mode: "bounded_auto", killSwitch: false, minBlendedDelta: 0, minWorldModelScore: 0, maxRulesAffected: 100, requireValidatedChangeSet }
})

/**
 * Two manual scans propose cs:1 and cs:2, both measured against the declared agents; then a
 * person accepts cs:1 and the workspace switches to bounded_auto. What does the handler decide
 * for cs:2?
 */
const staleChangeSet = (requireValidatedChangeSet: boolean) =>
  Effect.gen(function*() {
    const workspaces = yield* WorkspaceRepo
    const orchestrator = yield* ScanOrchestrator
    const manual = toyWorkspace({ broken: "reader" })
    yield* workspaces.upsert(manual)
    const first = yield* orchestrator.run({ workspaceId: manual.id, seed: 3, concurrency: 4 })
    const second = yield* orchestrator.run({ workspaceId: manual.id, seed: 4, concurrency: 4 })
    assert.strictEqual(first.changeSet?.status, "proposed")
    assert.strictEqual(second.changeSet?.status, "proposed")
    assert.strictEqual(second.changeSet?.baselineId, null)
    // Both change sets record the versioned sample set they were measured on: the same eval set, one version.
    assert.deepStrictEqual(first.changeSet?.sampleSet, { id: "toy-evalset-40", version: 1 })
    assert.deepStrictEqual(second.changeSet?.sampleSet, { id: "toy-evalset-40", version: 1 })
    const stored = yield* (yield* SampleRepo).sampleSets(manual.id)
    assert.strictEqual(stored.length, 1)
    assert.strictEqual(stored[0]!.working.length + stored[0]!.holdout.length, 40)
    yield* (yield* ChangeSets).accept(manual.id, first.changeSet!.id, "alice", "reviewed")
    yield* workspaces.upsert(bounded(manual, requireValidatedChangeSet))
    const decision = yield* (yield* AutomatedAcceptance).onScanCompleted({
      workspaceId: manual.id,
      scanId: second.scan.id,
      changeSetId: second.changeSet!.id,
      outcome: "go",
      authority: { worldModelId: "toy-orders", worldModelVersion: "1.0.0", ruleSetHash: "toy" }
    })
    const after = yield* (yield* ChangeSetRepo).get(manual.id, second.changeSet!.id)
    return { decision, after, accepted: first.changeSet!.id }
  }).pipe(Effect.provide(engine))

describe("bounded_auto: require_validated_changeset", () => {
  it.effect("refuses a change set validated on a baseline that is no longer current, naming both", () =>
    Effect.gen(function*() {
      const { decision, after, accepted } = yield* staleChangeSet(true)
      assert.strictEqual(decision.action, "approval_required")
      const reason = decision.reasons.find((r) => r.startsWith("require_validated_changeset"))
      assert.strictEqual(reason, `require_validated_changeset: measured against the workspace's declared agents, but the current baseline is ${accepted}: scan again on the current baseline`)
      assert.strictEqual(after.status, "proposed")
    }))

  it.effect("with the guard off, the same change set is accepted (the guard is what refused it)", () =>
    Effect.gen(function*() {
      const { decision, after } = yield* staleChangeSet(false)
      assert.deepStrictEqual(decision.reasons.filter((r) => r.startsWith("require_validated_changeset")), [])
      assert.strictEqual(decision.action, "auto_accepted", decision.reasons.join("; "))
      assert.strictEqual(after.status, "accepted")
    }))
})
