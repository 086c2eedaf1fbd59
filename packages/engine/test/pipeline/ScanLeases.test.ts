/**
 * Scans left behind and scans running at once, in one process on the memory store (the CLI suite
 * does the same with separate OS processes, SIGKILL and Postgres): a scan in progress whose lease
 * ran out is resumed by `runOrResume` under its own id; one whose lease is being renewed (a live
 * process) is left alone; one that is not the scan asked for is abandoned with the reason; an
 * interrupted scan lets its lease go so the next run resumes it at once; `resume` refuses a scan
 * another live process holds; two scans of one workspace at once take distinct change-set
 * versions, each with exactly one `created` audit entry.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import type { LanguageModel } from "effect/ai"
import type { Scan, Workspace } from "../../src/contracts/index.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { declarationDigest, ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ChangeSetRepo, ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "./HookedToyModel.ts"

const engineWith = (model: Layer.Layer<LanguageModel.LanguageModel>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), model)))

const engine = engineWith(toyModel("reader"))

/**
 * The toy model answering after a millisecond (so scans run at once interleave), whose calls in
 * `optimize` hang while `hanging()` says so (a scan stuck mid-way).
 */
const stallingModel = (hanging: () => boolean) =>
  hookedToyModel(({ phase }) => Effect.andThen(Effect.sleep("1 millis"), phase === "optimize" && hanging() ? Effect.never : Effect.void))

const iso = (ms: number) => new Date(ms).toISOString()

/** A scan row as a process that stopped (or still runs elsewhere) leaves it. */
const leftBehind = (workspace: Workspace, now: number, patch: Partial<Scan> = {}): Scan => ({
  id: `${workspace.id}:scan:1`,
  workspaceId: workspace.id,
  state: "running",
  seed: 3,
  completedPhases: [],
  declarationDigest: declarationDigest(workspace),
  lease: { owner: "other-host:4242#gone", expiresAt: iso(now - 1_000) },
  createdAt: iso(now - 60_000),
  updatedAt: iso(now - 5_000),
  ...patch
})

const setUp = (patch: (workspace: Workspace, now: number) => Partial<Scan> = () => ({})) =>
  Effect.gen(function*() {
    const workspace = toyWorkspace({ broken: "reader" })
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const now = yield* Clock.currentTimeMillis
    const scan = leftBehind(workspace, now, patch(workspace, now))
    yield* (yield* ScanRepo).insert(scan)
    return { workspace, scan }
  })

const short = { durationMs: 400, heartbeatMs: 50 }

describe("scans left behind", () => {
  it.live("a scan whose lease ran out is resumed under its own id and completes; no second scan", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp()
      const outcome = yield* (yield* ScanOrchestrator).runOrResume({ workspaceId: workspace.id, seed: 3, lease: short })
      assert.isTrue(outcome.resumed)
      assert.strictEqual(outcome.scan.id, scan.id)
      assert.strictEqual(outcome.scan.state, "completed")
      assert.strictEqual(outcome.scan.resumes, 1)
      const all = yield* (yield* ScanRepo).list(workspace.id)
      assert.deepStrictEqual(all.map((s) => [s.id, s.state]), [[scan.id, "completed"]])
      assert.isUndefined(all[0]!.lease, "a completed scan holds no lease")
    }).pipe(Effect.provide(engine)))

  it.live("a scan whose lease is being renewed (a live process) is neither resumed nor taken over: a new scan runs", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp((_, now) => ({ lease: { owner: "other-host:4242#live", expiresAt: iso(now + 300) } }))
      const scans = yield* ScanRepo
      // The other process's heartbeat.
      const renewing = yield* Effect.forkChild(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const row = yield* scans.get(workspace.id, scan.id)
          yield* scans.update({ ...row, lease: { owner: "other-host:4242#live", expiresAt: iso(now + 300) }, updatedAt: iso(now) })
        }).pipe(Effect.repeat(Schedule.spaced("50 millis")))
      )
      const outcome = yield* (yield* ScanOrchestrator).runOrResume({ workspaceId: workspace.id, seed: 3, lease: short })
      yield* Fiber.interrupt(renewing)
      assert.isFalse(outcome.resumed)
      assert.notStrictEqual(outcome.scan.id, scan.id)
      assert.strictEqual(outcome.scan.state, "completed")
      const other = yield* scans.get(workspace.id, scan.id)
      assert.strictEqual(other.state, "running")
      assert.strictEqual(other.lease?.owner, "other-host:4242#live", "still the live process's")
      assert.deepStrictEqual(outcome.abandoned, [])
    }).pipe(Effect.provide(engine)))

  it.live("scans left behind that are not the scan asked for are abandoned with the reason; the newest that is, is resumed", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const now = yield* Clock.currentTimeMillis
      const scans = yield* ScanRepo
      const base = leftBehind(workspace, now)
      yield* scans.insert({ ...base, id: `${workspace.id}:scan:1`, seed: 9, createdAt: iso(now - 40_000) })
      yield* scans.insert({ ...base, id: `${workspace.id}:scan:2`, declarationDigest: "an-older-declaration", createdAt: iso(now - 30_000) })
      yield* scans.insert({ ...base, id: `${workspace.id}:scan:3`, resumes: 3, createdAt: iso(now - 20_000) })
      yield* scans.insert({ ...base, id: `${workspace.id}:scan:4`, createdAt: iso(now - 15_000) })
      yield* scans.insert({ ...base, id: `${workspace.id}:scan:5`, createdAt: iso(now - 10_000) })
      const outcome = yield* (yield* ScanOrchestrator).runOrResume({ workspaceId: workspace.id, seed: 3, lease: short })
      assert.isTrue(outcome.resumed)
      assert.strictEqual(outcome.scan.id, `${workspace.id}:scan:5`)
      const reasons = Object.fromEntries(outcome.abandoned.map((s) => [s.id.split(":").at(-1), s.failureReason]))
      assert.include(reasons["1"], "seed 3 was asked for, not 9")
      assert.include(reasons["2"], "the workspace declaration changed")
      assert.include(reasons["3"], "resumed 3 times")
      assert.include(reasons["4"], `scan ${workspace.id}:scan:5 was resumed instead`)
      const states = (yield* scans.list(workspace.id)).map((s) => s.state).sort()
      assert.deepStrictEqual(states, ["abandoned", "abandoned", "abandoned", "abandoned", "completed"], "none left running")
      // An abandoned scan is final.
      const again = yield* Effect.exit((yield* ScanOrchestrator).resume(workspace.id, `${workspace.id}:scan:1`))
      assert.isTrue(Exit.isFailure(again))
    }).pipe(Effect.provide(engine)))

  it.live("resume refuses a scan another live process holds", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp((_, now) => ({ lease: { owner: "other-host:4242#live", expiresAt: iso(now + 60_000) } }))
      const exit = yield* Effect.exit((yield* ScanOrchestrator).resume(workspace.id, scan.id))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "running in another process")
      assert.strictEqual((yield* (yield* ScanRepo).get(workspace.id, scan.id)).lease?.owner, "other-host:4242#live")
    }).pipe(Effect.provide(engine)))

  let stalled = true
  it.live("an interrupted scan lets its lease go: the next run resumes it without waiting for the lease to run out", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const scans = yield* ScanRepo
      const fiber = yield* Effect.forkChild(orchestrator.run({ workspaceId: workspace.id, seed: 3, lease: { durationMs: 600_000 } }))
      yield* scans.list(workspace.id).pipe(
        Effect.repeat({ schedule: Schedule.spaced("5 millis"), until: (all) => all[0]?.completedPhases.includes("evaluate") === true })
      )
      yield* Fiber.interrupt(fiber)
      stalled = false
      const [stopped] = yield* scans.list(workspace.id)
      assert.strictEqual(stopped!.state, "running")
      const now = yield* Clock.currentTimeMillis
      assert.isAtMost(Date.parse(stopped!.lease!.expiresAt), now, "the lease was let go")
      const started = yield* Clock.currentTimeMillis
      const outcome = yield* orchestrator.runOrResume({ workspaceId: workspace.id, seed: 3, lease: { durationMs: 600_000 } })
      assert.isTrue(outcome.resumed)
      assert.strictEqual(outcome.scan.id, stopped!.id)
      assert.strictEqual(outcome.scan.state, "completed")
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 60_000, "no wait for a ten-minute lease")
    }).pipe(Effect.provide(engineWith(stallingModel(() => stalled)))))
})

describe("scans of one workspace at once", () => {
  it.live("take distinct change-set versions, each with exactly one created audit entry", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const [a, b] = yield* Effect.all([
        orchestrator.run({ workspaceId: workspace.id, seed: 3, concurrency: 2 }),
        orchestrator.run({ workspaceId: workspace.id, seed: 4, concurrency: 2 })
      ], { concurrency: 2 })
      assert.notStrictEqual(a.scan.id, b.scan.id)
      const repo = yield* ChangeSetRepo
      const changeSets = yield* repo.list(workspace.id)
      assert.deepStrictEqual(changeSets.map((c) => c.version).sort(), [1, 2])
      assert.deepStrictEqual(changeSets.map((c) => c.scanId).sort(), [a.scan.id, b.scan.id].sort(), "each scan has its own")
      assert.notStrictEqual(a.changeSet?.id, b.changeSet?.id)
      for (const changeSet of changeSets) {
        const created = (yield* repo.audit(workspace.id, changeSet.id)).filter((e) => e.action === "created")
        assert.strictEqual(created.length, 1, changeSet.id)
        assert.strictEqual(created[0]!.detail.includes(changeSet.scanId), true)
      }
    }).pipe(Effect.provide(engineWith(stallingModel(() => false)))))
})
