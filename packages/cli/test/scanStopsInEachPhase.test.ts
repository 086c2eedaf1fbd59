/**
 * The runner carrying a scan stops in each phase in turn (the in-process runner of `spectral scan`
 * on embedded PGlite, its cluster state in the same database; the toy team's model): the runner,
 * the store and everything in flight are torn down while the phase is running, then a new runner
 * on the same folder is given the same submission. For every phase, the scan completes under its
 * own id with the verdict and traces of an uninterrupted run; no model call of a phase that had
 * finished is made again; one change set with one `created` audit entry. (SIGKILL of runner
 * processes mid-Observe and mid-tournament: runnerChunks and scanWorkflowResume.)
 */
import { assert, describe, it } from "@effect/vitest"
import { ChangeSetRepo, ScanEngine, type ScanProgressReporter, ScanRepo, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
import { type PhaseName, phaseOrder } from "@spectral/engine/contracts"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ModelPhase } from "../../engine/src/ports/ModelCall.ts"
import { toyProvider, toyWorkspace } from "../../engine/test/optimize/ToyTeam.ts"
import { hookedToyModel } from "../../engine/test/pipeline/HookedToyModel.ts"
import * as InProcessRunner from "../src/runners/InProcessRunner.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const workspace = toyWorkspace({ broken: "reader" })

/** The engine on the embedded store under `dataDir` (with the cluster's tables), every model call's phase logged in `calls`. */
const engineOn = (dataDir: string, calls: Array<ModelPhase>) =>
  ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(
      InProcessRunner.embeddedStore(dataDir, { events: { poll: false } }),
      toyProvider(12),
      hookedToyModel(({ phase }) => Effect.sync(() => void calls.push(phase)))
    ))
  )

const request = (requestId: string, progress?: ScanProgressReporter) => ({
  workspaceId: workspace.id,
  seed: 3,
  concurrency: 4,
  requestId,
  exclusiveStore: true,
  progress,
  lease: { durationMs: 2_000 }
})

/** What a finished scan left: its row, its traces' ids, its change sets with their `created` entries. */
const finished = (scanId: string) =>
  Effect.gen(function*() {
    const scan = yield* (yield* ScanRepo).get(workspace.id, scanId)
    const traces = (yield* (yield* ScanTraceRepo).traces(workspace.id, scanId)).map((t) => t.id)
    const repo = yield* ChangeSetRepo
    const changeSets = yield* Effect.forEach(yield* repo.list(workspace.id), (c) =>
      Effect.map(repo.audit(workspace.id, c.id), (entries) => ({ scanId: c.scanId, created: entries.filter((e) => e.action === "created").length })))
    return { scan, traces, changeSets }
  })

const scratchDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-each-phase-"))
  return { dir, dataDir: initialisedDataDir(join(dir, "db")) }
}

/** The same scan uninterrupted: its verdict, traces and calls per phase. */
const reference = Effect.gen(function*() {
  const { dir, dataDir } = scratchDir()
  const calls: Array<ModelPhase> = []
  const result = yield* Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* InProcessRunner.run(request("reference"))
    return { outcome, ...(yield* finished(outcome.scan.id)) }
  }).pipe(Effect.provide(Layer.fresh(engineOn(dataDir, calls))))
  rmSync(dir, { recursive: true, force: true })
  return { ...result, calls }
})

/** Stop the runner while `phase` runs, then give a new runner the same submission. */
const stoppedIn = (phase: PhaseName) =>
  Effect.gen(function*() {
    const { dir, dataDir } = scratchDir()
    const calls: Array<ModelPhase> = []
    const requestId = `stopped-in-${phase}`
    const reached = yield* Deferred.make<string>()
    // The phase has started (its step is running): from here it hangs until the runner is torn down.
    const hanging: ScanProgressReporter = {
      enabled: true,
      report: (event) =>
        event._tag === "PhaseStarted" && event.phase === phase ? Effect.andThen(Deferred.succeed(reached, event.scanId), Effect.never) : Effect.void
    }
    const first = yield* Effect.forkChild(
      Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        return yield* InProcessRunner.run(request(requestId, hanging))
      }).pipe(Effect.provide(Layer.fresh(engineOn(dataDir, calls))))
    )
    const scanId = yield* Deferred.await(reached)
    yield* Fiber.interrupt(first)
    const callsBefore = calls.length
    const result = yield* Effect.gen(function*() {
      const left = yield* (yield* ScanRepo).get(workspace.id, scanId)
      const outcome = yield* InProcessRunner.run(request(requestId))
      return { left, outcome, ...(yield* finished(outcome.scan.id)) }
    }).pipe(Effect.provide(Layer.fresh(engineOn(dataDir, calls))))
    rmSync(dir, { recursive: true, force: true })
    return { ...result, scanId, callsAfter: calls.slice(callsBefore) }
  })

describe("the runner carrying a scan stops in each phase", () => {
  it.live("for every phase the same submission completes the same scan, with the uninterrupted verdict and traces, no finished phase's call made again", () =>
    Effect.gen(function*() {
      const base = yield* reference
      assert.strictEqual(base.scan.state, "completed")
      const normalized = (ids: ReadonlyArray<string>, scanId: string) => ids.map((id) => id.replaceAll(scanId, "SCAN")).sort()
      for (const phase of phaseOrder) {
        const run = yield* stoppedIn(phase)
        const label = `stopped in ${phase}`
        assert.include(["scheduled", "running"], run.left.state, `${label}: left in progress`)
        assert.notInclude(run.left.completedPhases, phase, `${label}: the phase had not finished`)
        assert.strictEqual(run.outcome.scan.id, run.scanId, `${label}: the same scan`)
        assert.isTrue(run.outcome.resumed, label)
        assert.strictEqual(run.scan.state, "completed", label)
        assert.deepStrictEqual(run.scan.completedPhases, [...phaseOrder], label)
        // The phases finished before the stop make no model call again.
        const again = run.callsAfter.filter((p) => (run.left.completedPhases as ReadonlyArray<string>).includes(p))
        assert.deepStrictEqual(again, [], `${label}: calls of finished phases made again`)
        assert.strictEqual(run.outcome.verdict.outcome, base.outcome.verdict.outcome, label)
        assert.deepStrictEqual(run.outcome.verdict.checks.map((c) => [c.gate, c.check, c.status]), base.outcome.verdict.checks.map((c) => [c.gate, c.check, c.status]), label)
        assert.deepStrictEqual(normalized(run.traces, run.scanId), normalized(base.traces, base.scan.id), `${label}: the same traces, none twice`)
        assert.deepStrictEqual(run.changeSets.map((c) => [c.scanId, c.created]), [[run.scanId, 1]], `${label}: one change set, one created entry`)
      }
    }), 600_000)
})
