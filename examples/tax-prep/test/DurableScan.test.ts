/**
 * Whole scans on the SQL store with the durable event bus (outbox) and the simulated model: on
 * embedded PGlite every event of the scan is delivered exactly once and the `scan.completed`
 * handler stamps the change set's authority; on a PostgreSQL server the engine's connections are
 * terminated mid-scan (pg_terminate_backend from the owner), the scan fails typed, a retry (a new
 * submission of the same scan, `spectral scan --retry`) completes it from its last finished phase, and nothing is duplicated — the same traces and
 * verdict as the uninterrupted run, each event applied once. The server is the adapters' throwaway
 * cluster (their vitest global setup, run here in `beforeAll`); without one the server test skips.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Fiber, Layer, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { SimulatedLanguageModel, type SqlStore, Storage } from "@spectral/adapters"
import {
  ChangeSetRepo,
  EventBus,
  type ScanOutcome,
  ScanEngine,
  ScanOrchestrator,
  ScanRepo,
  ScanTraceRepo,
  WorkspaceRepo
} from "@spectral/engine"
import { eventTypes, phaseOrder, type Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { InProcessRunner } from "@spectral/cli"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import setupStorage from "../../../packages/adapters/test/storage/storage.globalSetup.ts"
import type { PgServerInfo } from "../../../packages/adapters/test/storage/PgServer.ts"
import { smallWorkspace } from "./ScanHarness.ts"

const provided: Record<string, unknown> = {}
let teardown: (() => void) | undefined
beforeAll(async () => {
  teardown = await setupStorage({ provide: (key: string, value: unknown) => void (provided[key] = value) } as never)
}, 120_000)
afterAll(() => teardown?.())

const pgliteDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-durable-scan-"))
  cpSync(provided["spectralPgliteTemplate"] as string, dir, { recursive: true })
  return dir
}

const engineOn = <E>(store: Layer.Layer<SqlStore, E>) =>
  ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(store, WorldsEvalSetProvider.layer, SimulatedLanguageModel.layer({ seed: 1 })))
  )

/** Subscribe a recorder: how many times each event id was handed to a subscriber. */
const recordDeliveries = Effect.gen(function*() {
  const deliveries = new Map<string, number>()
  yield* (yield* EventBus).subscribe("test-recorder", (event) =>
    Effect.sync(() => void deliveries.set(`${event.type} ${event.id}`, (deliveries.get(`${event.type} ${event.id}`) ?? 0) + 1)))
  return deliveries
})

const checkDeliveredOnce = (deliveries: Map<string, number>, outcome: ScanOutcome) => {
  for (const type of eventTypes) assert.isTrue([...deliveries.keys()].some((key) => key.startsWith(`${type} `)), `${type} delivered`)
  assert.deepStrictEqual([...deliveries.values()].filter((n) => n !== 1), [], "every event delivered exactly once")
  assert.strictEqual(
    [...deliveries.keys()].filter((key) => key.startsWith("platform.failure_cluster.detected ")).length,
    outcome.diagnosis.clusters.length
  )
}

const scanOnce = (workspace: Workspace) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const deliveries = yield* recordDeliveries
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 7 })
    const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)
    return { outcome, deliveries, traceIds: traces.map((t) => t.id).sort() }
  })

let uninterrupted: { readonly traceIds: ReadonlyArray<string>; readonly outcome: ScanOutcome } | undefined

describe("a scan on the SQL store with the durable bus", () => {
  it.live("embedded PGlite: all five event types delivered exactly once, the change set's authority stamped", () =>
    Effect.gen(function*() {
      const workspace = smallWorkspace()
      const run = yield* scanOnce(workspace)
      const { outcome } = run
      assert.strictEqual(outcome.scan.state, "completed")
      assert.deepStrictEqual(outcome.scan.completedPhases, [...phaseOrder])
      checkDeliveredOnce(run.deliveries, outcome)
      const published = yield* (yield* EventBus).published
      assert.strictEqual(new Set(published.map((e) => e.id)).size, published.length, "each event published once")
      assert.strictEqual(published.length, run.deliveries.size)
      const changeSet = yield* (yield* ChangeSetRepo).get(workspace.id, outcome.changeSet!.id)
      assert.deepStrictEqual(changeSet.authority, outcome.scan.attribution?.authority, "scan.completed handler stamped it")
      assert.deepStrictEqual(outcome.changeSet?.authority, outcome.scan.attribution?.authority)
      uninterrupted = { traceIds: run.traceIds, outcome }
    }).pipe(Effect.provide(engineOn(Storage.layerPgliteWithEvents({ dataDir: pgliteDir(), events: { poll: false } })))), 60_000)

  it.live("PostgreSQL server: connections terminated mid-scan → a typed failure, resume completes it, nothing duplicated", () =>
    Effect.gen(function*() {
      const server = provided["spectralPgServer"] as PgServerInfo | null | undefined
      if (server === null || server === undefined) {
        // CI (SPECTRAL_REQUIRE_PG_SERVER=1) fails here; elsewhere the server test is skipped.
        assert.notStrictEqual(process.env["SPECTRAL_REQUIRE_PG_SERVER"], "1", String(provided["spectralPgServerSkipReason"]))
        return
      }
      const workspace = smallWorkspace()
      const owner = yield* PgClient.make({ url: Redacted.make(server.ownerUrl), maxConnections: 1 })
      const store = Storage.layerPgWithEvents({ url: server.appUrl, ownerUrl: server.ownerUrl, maxConnections: 4, events: { poll: false } })
      const result = yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const deliveries = yield* recordDeliveries
        const orchestrator = yield* ScanOrchestrator
        const scans = yield* ScanRepo
        const running = yield* Effect.forkChild(Effect.exit(orchestrator.run({ workspaceId: workspace.id, seed: 7 })))
        const scanId = `${workspace.id}:scan:1`
        // Once the scan has finished a phase, keep killing the engine's backends until it stops.
        for (let i = 0; i < 500; i++) {
          const started = yield* Effect.option(scans.get(workspace.id, scanId))
          if (started._tag === "Some" && started.value.completedPhases.includes("observe")) break
          yield* Effect.sleep("10 millis")
        }
        let killed = 0
        while (running.pollUnsafe() === undefined) {
          const rows = yield* owner<{ ok: boolean }>`SELECT pg_terminate_backend(pid) AS ok FROM pg_catalog.pg_stat_activity
            WHERE usename = 'spectral_app' AND datname = current_database()`
          killed += rows.length
          yield* Effect.sleep("25 millis")
        }
        const first = yield* Fiber.join(running)
        assert.isTrue(killed > 0, "backends were terminated")
        assert.isTrue(Exit.isFailure(first), "the interrupted scan failed")
        if (Exit.isFailure(first)) {
          const error = first.cause.reasons.find((reason) => reason._tag === "Fail")
          assert.include(["ScanFailed", "StorageError"], (error as { error: { _tag: string } } | undefined)?.error._tag)
        }
        const failed = yield* scans.get(workspace.id, scanId)
        assert.notStrictEqual(failed.state, "completed")
        // Carried on as a new submission of the same scan, on a runner of this process (`spectral scan --retry`).
        const outcome = yield* InProcessRunner.runOnRunner({ workspaceId: workspace.id, seed: 7, concurrency: 8, exclusiveStore: false, retry: scanId })
        const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, scanId)
        const results = yield* (yield* ScanTraceRepo).results(workspace.id, scanId)
        return { outcome, deliveries, traceIds: traces.map((t) => t.id).sort(), failedPhases: failed.completedPhases, results }
      }).pipe(Effect.provide(InProcessRunner.layerMemory().pipe(Layer.provideMerge(engineOn(store)))))

      const { outcome } = result
      assert.strictEqual(outcome.scan.state, "completed")
      assert.deepStrictEqual(outcome.scan.completedPhases, [...phaseOrder])
      assert.isTrue(result.failedPhases.length < phaseOrder.length)
      checkDeliveredOnce(result.deliveries, outcome)
      assert.strictEqual(new Set(result.traceIds).size, result.traceIds.length)
      assert.strictEqual(new Set(result.results.map((r) => r.id)).size, result.results.length)
      if (uninterrupted !== undefined) {
        assert.deepStrictEqual(
          result.traceIds.map((id) => id.replace(workspace.id, "ws")),
          uninterrupted.traceIds.map((id) => id.replace(workspace.id, "ws")),
          "the same traces as an uninterrupted run"
        )
        assert.strictEqual(outcome.verdict.outcome, uninterrupted.outcome.verdict.outcome)
      }
      const changeSets = yield* Effect.gen(function*() {
        return yield* (yield* ChangeSetRepo).list(workspace.id)
      }).pipe(Effect.provide(Storage.layerPg({ url: server.appUrl })))
      assert.strictEqual(changeSets.filter((c) => c.scanId === outcome.scan.id).length, 1, "one change set for the scan")
    }).pipe(Effect.scoped, Effect.provide(Reactivity.layer)), 60_000)
})
