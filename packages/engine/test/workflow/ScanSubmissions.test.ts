/**
 * Scans left behind and scans running at once, in one process on the memory store (the CLI suite
 * does the same with separate OS processes, SIGKILL and Postgres), every scan run as the scan
 * workflow: a scan in progress whose lease ran out is carried on under its own id by the next run
 * (`ScanSubmissions.plan`, then its submission); one whose lease is being renewed (a live process)
 * is left alone; one that is not the scan asked for is abandoned with the reason; of two runs that
 * find the same scan left behind, one takes it over and the other scans anew; a scan submitted to
 * the cluster's runners is theirs on a shared store; an interrupted scan lets its lease go so the
 * next run carries it on at once; two scans of one workspace at once take distinct change-set
 * versions, each with exactly one `created` audit entry.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Schedule } from "effect"
import type { Scan, Workspace } from "../../src/contracts/index.ts"
import { declarationDigest, ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { ChangeSetRepo, ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import * as ScanSubmissions from "../../src/workflow/ScanSubmissions.ts"
import { toyModel, toyWorkspace } from "../optimize/ToyTeam.ts"
import { hookedToyModel } from "../pipeline/HookedToyModel.ts"
import { durableWith, runSubmission } from "./RunSubmission.ts"

const engine = durableWith(toyModel("reader"), { durationMs: 400, heartbeatMs: 50 })

/** The toy model answering after a millisecond, whose calls in `optimize` hang while `hanging()` says so. */
const stallingModel = (hanging: () => boolean) =>
  hookedToyModel(({ phase }) => Effect.andThen(Effect.sleep("1 millis"), phase === "optimize" && hanging() ? Effect.never : Effect.void))

const iso = (ms: number) => new Date(ms).toISOString()

/** A scan row as a process that stopped (or still runs elsewhere) leaves it; stored before scans ran as workflows (no submission). */
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

describe("scans left behind", () => {
  it.live("a scan whose lease ran out is carried on under its own id by the workflow and completes; no second scan", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp()
      const { plan, scan: ended } = yield* runSubmission({ workspaceId: workspace.id, seed: 3 })
      assert.isTrue(plan.resumed)
      assert.strictEqual(ended.id, scan.id)
      assert.strictEqual(ended.state, "completed")
      assert.strictEqual(ended.resumes, 1)
      // It was given a submission, carried by this process's runner.
      assert.strictEqual(ended.submission?.requestId, plan.requestId)
      assert.strictEqual(ended.submission?.carrier, "process")
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
      const { plan, scan: ended } = yield* runSubmission({ workspaceId: workspace.id, seed: 3 })
      yield* Fiber.interrupt(renewing)
      assert.isFalse(plan.resumed)
      assert.notStrictEqual(ended.id, scan.id)
      assert.strictEqual(ended.state, "completed")
      const other = yield* scans.get(workspace.id, scan.id)
      assert.strictEqual(other.state, "running")
      assert.strictEqual(other.lease?.owner, "other-host:4242#live", "still the live process's")
      assert.deepStrictEqual(plan.abandoned, [])
    }).pipe(Effect.provide(engine)))

  it.live("scans left behind that are not the scan asked for are abandoned with the reason; the newest that is, is carried on", () =>
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
      const { plan, scan: ended } = yield* runSubmission({ workspaceId: workspace.id, seed: 3 })
      assert.isTrue(plan.resumed)
      assert.strictEqual(ended.id, `${workspace.id}:scan:5`)
      const reasons = Object.fromEntries(plan.abandoned.map((s) => [s.id.split(":").at(-1), s.failureReason]))
      assert.include(reasons["1"], "seed 3 was asked for, not 9")
      assert.include(reasons["2"], "the workspace declaration changed")
      assert.include(reasons["3"], "resumed 3 times")
      assert.include(reasons["4"], `scan ${workspace.id}:scan:5 was resumed instead`)
      const states = (yield* scans.list(workspace.id)).map((s) => s.state).sort()
      assert.deepStrictEqual(states, ["abandoned", "abandoned", "abandoned", "abandoned", "completed"], "none left running")
      // An abandoned scan is final: the next run scans anew.
      const next = yield* runSubmission({ workspaceId: workspace.id, seed: 9 })
      assert.isFalse(next.plan.resumed)
      assert.strictEqual(next.scan.id, `${workspace.id}:scan:6`)
    }).pipe(Effect.provide(engine)))

  it.live("a replay left behind is abandoned, saying how to replay it again: a plain run's engine is not the one its record built", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const scans = yield* ScanRepo
      const first = yield* runSubmission({ workspaceId: workspace.id, seed: 3 })
      const now = yield* Clock.currentTimeMillis
      const replay: Scan = { ...leftBehind(workspace, now), id: `${workspace.id}:scan:2`, record: { ...first.scan.record!, replayOf: first.scan.id } }
      yield* scans.insert(replay)
      const { plan, scan: ended } = yield* runSubmission({ workspaceId: workspace.id, seed: 3 })
      assert.isFalse(plan.resumed)
      assert.strictEqual(ended.id, `${workspace.id}:scan:3`, "a new scan")
      assert.deepStrictEqual(plan.abandoned.map((s) => s.id), [replay.id])
      assert.include(plan.abandoned[0]!.failureReason, `replay it again with --replay ${first.scan.id}`)
    }).pipe(Effect.provide(engine)))

  it.live("of two runs that find the same scan left behind, one carries it on and the other scans anew", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp()
      const [a, b] = yield* Effect.all([runSubmission({ workspaceId: workspace.id, seed: 3 }), runSubmission({ workspaceId: workspace.id, seed: 3 })], { concurrency: 2 })
      assert.deepStrictEqual([a.plan.resumed, b.plan.resumed].sort(), [false, true])
      const resumed = a.plan.resumed ? a : b
      assert.strictEqual(resumed.scan.id, scan.id)
      assert.strictEqual(resumed.scan.resumes, 1, "taken over once")
      const all = yield* (yield* ScanRepo).list(workspace.id)
      assert.deepStrictEqual(all.map((s) => s.state), ["completed", "completed"])
    }).pipe(Effect.provide(engine)))

  it.live("on a shared store a scan submitted to the cluster's runners is theirs: not carried on, not abandoned; alone on the store, it is carried on", () =>
    Effect.gen(function*() {
      const { workspace, scan } = yield* setUp(() => ({ submission: { requestId: "on-runners", executionId: "exec-on-runners" }, lease: { owner: "workflow:exec-on-runners", expiresAt: iso(0) } }))
      const shared = yield* ScanSubmissions.plan({ workspaceId: workspace.id, seed: 3, concurrency: 4, exclusiveStore: false, leaseMs: 400 })
      assert.isFalse(shared.resumed)
      assert.deepStrictEqual(shared.abandoned, [])
      assert.deepStrictEqual(yield* (yield* ScanRepo).get(workspace.id, scan.id), scan, "untouched")
      const alone = yield* ScanSubmissions.plan({ workspaceId: workspace.id, seed: 3, concurrency: 4, exclusiveStore: true, leaseMs: 400 })
      assert.isTrue(alone.resumed)
      assert.strictEqual(alone.requestId, "on-runners")
    }).pipe(Effect.provide(engine)))

  it.live("a submission named again while another process runs its scan is refused, naming that process; its lease is untouched", () =>
    Effect.gen(function*() {
      const lease = (now: number) => ({ owner: "workflow:exec-live", expiresAt: iso(now + 300), take: "other-host:4242#live.1" })
      const { workspace, scan } = yield* setUp((_, now) => ({ submission: { requestId: "named", executionId: "exec-live", carrier: "process" as const }, lease: lease(now) }))
      const scans = yield* ScanRepo
      // The live process's heartbeat.
      const renewing = yield* Effect.forkChild(
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const row = yield* scans.get(workspace.id, scan.id)
          yield* scans.update({ ...row, lease: lease(now), updatedAt: iso(now) })
        }).pipe(Effect.repeat(Schedule.spaced("50 millis")))
      )
      const exit = yield* Effect.exit(ScanSubmissions.plan({ workspaceId: workspace.id, seed: 3, concurrency: 4, requestId: "named", exclusiveStore: false, leaseMs: 400 }))
      yield* Fiber.interrupt(renewing)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? String(exit.cause) : ""
      assert.include(error, "is running in another process (workflow:exec-live")
      const after = yield* scans.get(workspace.id, scan.id)
      assert.strictEqual(after.lease?.take, "other-host:4242#live.1", "still the live process's take")
      assert.strictEqual(after.resumes, undefined)
    }).pipe(Effect.provide(engine)))

  it.live("a submission's first step run again (its result never recorded) finds its scan: one scan per submission", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const submission = { requestId: "once", executionId: "exec-once" }
      const first = yield* orchestrator.start({ workspaceId: workspace.id, seed: 3, owner: "workflow:exec-once", submission })
      const again = yield* orchestrator.start({ workspaceId: workspace.id, seed: 3, owner: "workflow:exec-once", submission })
      assert.strictEqual(again.id, first.id)
      assert.strictEqual((yield* (yield* ScanRepo).list(workspace.id)).length, 1)
    }).pipe(Effect.provide(engine)))

  let stalled = true
  it.live("an interrupted scan lets its lease go: the next run carries it on without waiting for the lease to run out", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const orchestrator = yield* ScanOrchestrator
      const scans = yield* ScanRepo
      // Started in process (as `spectral serve`'s API does), then its fiber interrupted (the service stopping).
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
      const { plan, scan: ended } = yield* runSubmission({ workspaceId: workspace.id, seed: 3, leaseMs: 600_000 })
      assert.isTrue(plan.resumed)
      assert.strictEqual(ended.id, stopped!.id)
      assert.strictEqual(ended.state, "completed")
      assert.isBelow((yield* Clock.currentTimeMillis) - started, 60_000, "no wait for a ten-minute lease")
    }).pipe(Effect.provide(durableWith(stallingModel(() => stalled)))))
})

describe("scans of one workspace at once", () => {
  it.live("take distinct change-set versions, each with exactly one created audit entry", () =>
    Effect.gen(function*() {
      const workspace = toyWorkspace({ broken: "reader" })
      yield* (yield* WorkspaceRepo).upsert(workspace)
      const [a, b] = yield* Effect.all([
        runSubmission({ workspaceId: workspace.id, seed: 3, concurrency: 2 }),
        runSubmission({ workspaceId: workspace.id, seed: 4, concurrency: 2 })
      ], { concurrency: 2 })
      assert.notStrictEqual(a.scan.id, b.scan.id)
      const repo = yield* ChangeSetRepo
      const changeSets = yield* repo.list(workspace.id)
      assert.deepStrictEqual(changeSets.map((c) => c.version).sort(), [1, 2])
      assert.deepStrictEqual(changeSets.map((c) => c.scanId).sort(), [a.scan.id, b.scan.id].sort(), "each scan has its own")
      assert.notStrictEqual(a.scan.changeSetId, b.scan.changeSetId)
      for (const changeSet of changeSets) {
        const created = (yield* repo.audit(workspace.id, changeSet.id)).filter((e) => e.action === "created")
        assert.strictEqual(created.length, 1, changeSet.id)
        assert.strictEqual(created[0]!.detail.includes(changeSet.scanId), true)
      }
    }).pipe(Effect.provide(durableWith(stallingModel(() => false)))))
})
