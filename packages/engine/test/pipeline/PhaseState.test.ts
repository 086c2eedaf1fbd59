/**
 * Typed phase state: every phase output a scan saves decodes with its phase's Schema (also after a
 * JSON round trip, as a SQL store keeps it); a resumed scan whose saved output was tampered with
 * fails in that phase with `StoredStateInvalid` naming the field, records the typed failure on its
 * row and loses nothing stored; a phase's typed error and a defect each reach `ScanFailed` and the
 * scan row as a typed cause, never a bare string.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Schema } from "effect"
import type { LanguageModel } from "effect/ai"
import { EvalSetProvider, EvalSetUnavailable, PhaseOutputSchemas, phaseOrder, type Scan } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { declarationDigest, ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { durableWith, runSubmission } from "../workflow/RunSubmission.ts"
import { hookedToyModel } from "./HookedToyModel.ts"

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>, provider = toyProvider(30)) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, provider, model)))

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit), "the scan should have failed")
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  assert.isDefined(error, "with a typed failure")
  return (error as { readonly error: E }).error
}

describe("typed phase state", () => {
  it.live("every saved phase output decodes with its phase's Schema, also after a JSON round trip", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5 })
      const saved = yield* (yield* ScanRepo).phaseOutputs(workspace.id, outcome.scan.id)
      assert.deepStrictEqual([...saved.keys()].sort(), [...phaseOrder].sort())
      for (const phase of phaseOrder) {
        const stored = JSON.parse(JSON.stringify(saved.get(phase)))
        const decoded = yield* Schema.decodeUnknownEffect(PhaseOutputSchemas[phase] as Schema.Codec<unknown, unknown>)(stored).pipe(
          Effect.mapError((error) => new Error(`${phase}: ${error.message}`))
        )
        assert.deepStrictEqual(decoded, stored, `${phase} decodes to what was saved`)
      }
    }).pipe(Effect.provide(engineWith(toyModel("reader")))))

  it.live("a resumed scan whose saved calibrate output was tampered with fails in calibrate naming the field, and loses nothing", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const scans = yield* ScanRepo
      const finished = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3 })
      const outputs = yield* scans.phaseOutputs(workspace.id, finished.scan.id)
      const now = yield* Clock.currentTimeMillis
      // A scan left behind after calibrate, by a process that died; its calibrate row was then edited by hand.
      const left: Scan = {
        id: `${workspace.id}:scan:2`,
        workspaceId: workspace.id,
        state: "running",
        seed: 3,
        completedPhases: ["preflight", "observe", "calibrate"],
        declarationDigest: declarationDigest(workspace),
        lease: { owner: "gone-host:1#gone", expiresAt: new Date(now - 1_000).toISOString() },
        createdAt: new Date(now - 60_000).toISOString(),
        updatedAt: new Date(now - 5_000).toISOString()
      }
      yield* scans.insert(left)
      const { resamples: _resamples, ...calibrate } = outputs.get("calibrate") as Record<string, unknown>
      assert.isDefined(_resamples, "the calibration record has resamples to remove")
      yield* scans.savePhaseOutput(workspace.id, left.id, "preflight", outputs.get("preflight"))
      yield* scans.savePhaseOutput(workspace.id, left.id, "observe", outputs.get("observe"))
      yield* scans.savePhaseOutput(workspace.id, left.id, "calibrate", calibrate)

      const error = failure(yield* Effect.exit(runSubmission({ workspaceId: workspace.id, seed: 3 })))
      assert.strictEqual(error._tag, "ScanFailed")
      if (error._tag !== "ScanFailed") return
      assert.strictEqual(error.phase, "calibrate")
      assert.strictEqual(error.cause._tag, "StoredStateInvalid")
      assert.include(error.reason, "resamples")
      const row = yield* scans.get(workspace.id, left.id)
      assert.strictEqual(row.state, "failed")
      assert.deepStrictEqual(row.failure?.phase, "calibrate")
      assert.strictEqual(row.failure?.cause._tag, "StoredStateInvalid")
      assert.deepStrictEqual(row.completedPhases, ["preflight", "observe", "calibrate"])
      const kept = yield* scans.phaseOutputs(workspace.id, left.id)
      assert.deepStrictEqual(kept.get("calibrate"), calibrate, "the stored row is left as it was")
      assert.deepStrictEqual(kept.get("observe"), outputs.get("observe"))
    }).pipe(Effect.provide(durableWith(toyModel("reader"), { durationMs: 400, heartbeatMs: 50 }))))

  it.live("a phase's typed error reaches ScanFailed and the scan row as PhaseError with its tag", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const error = failure(yield* Effect.exit((yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1 })))
      assert.strictEqual(error._tag, "ScanFailed")
      if (error._tag !== "ScanFailed") return
      assert.strictEqual(error.phase, "observe")
      assert.deepStrictEqual(error.cause, { _tag: "PhaseError", error: "EvalSetUnavailable", message: error.cause._tag === "PhaseError" ? error.cause.message : "" })
      const [row] = yield* (yield* ScanRepo).list(workspace.id)
      assert.strictEqual(row?.state, "failed")
      assert.deepStrictEqual(row?.failure, { phase: "observe", cause: error.cause })
    }).pipe(Effect.provide(engineWith(toyModel("reader"), Layer.succeed(EvalSetProvider, EvalSetProvider.of({
      availability: () => Effect.succeed({ available: true, reason: "toy" }),
      evalSet: () => Effect.fail(new EvalSetUnavailable({ worldModelId: "toy-orders", reason: "the world is being republished" })),
      conformity: () => Effect.succeed([])
    }))))))

  it.live("a defect in a phase reaches ScanFailed as Defect with its message, in the phase it happened", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const error = failure(yield* Effect.exit((yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1 })))
      assert.strictEqual(error._tag, "ScanFailed")
      if (error._tag !== "ScanFailed") return
      assert.strictEqual(error.phase, "observe")
      assert.deepStrictEqual(error.cause, { _tag: "Defect", message: "plugin blew up" })
      const [row] = yield* (yield* ScanRepo).list(workspace.id)
      assert.deepStrictEqual(row?.failure, { phase: "observe", cause: { _tag: "Defect", message: "plugin blew up" } })
      assert.strictEqual(row?.failureReason, "observe: plugin blew up")
    }).pipe(Effect.provide(engineWith(hookedToyModel(({ phase }) => phase === "observe" ? Effect.die(new Error("plugin blew up")) : Effect.void), toyProvider(10)))))
})
