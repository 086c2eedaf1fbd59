/**
 * The durable event bus, written once and run on each SQL backend (embedded PGlite, a PostgreSQL
 * server): the outbox row commits or rolls back with the caller's transaction; an event left
 * behind by a crash between commit and dispatch is delivered after a restart and applied once; a
 * dispatcher killed after the handler committed but before marking the event delivered does not
 * apply it again; the same event delivered by several dispatchers at once, and again after a
 * restart, is applied once; an unknown type or version is dead-lettered with its payload; a failed
 * handler does not acknowledge its event, is retried, and is dead-lettered after its attempts; an
 * event whose payload names another workspace is rejected. "Applied" is observable: the handler
 * appends an audit entry with a fresh id per run, in the handler's transaction, so the number of
 * entries is the number of committed applications.
 */
import { expect, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { type EventBus, type EventHandler, StorageError } from "@spectral/engine"
import type { SpectralEvent } from "@spectral/engine/contracts"
import { Effect, type Layer, type Scope } from "effect"
import { DurableEventBus, type DurableEventBusOptions } from "../../src/events/index.ts"
import { makeRepositories } from "../../src/storage/internal/SqlRepositories.ts"
import { makeWorkspaceTransaction } from "../../src/storage/internal/WorkspaceTransaction.ts"
import * as F from "../storage/fixtures.ts"
import { AppSession } from "../storage/RlsProbe.ts"

export const convergenceEvent = (workspaceId: string, id: string, payloadWorkspaceId = workspaceId): SpectralEvent => ({
  id,
  type: "scan.convergence.delta",
  version: 1,
  workspaceId,
  occurredAt: "2025-01-01T00:00:00.000Z",
  payload: { workspaceId: payloadWorkspaceId, scanId: "scan-1", convergenceDelta: { _tag: "Present", value: 0.1 } }
})

let runs = 0

export const durableEventsSuite = <E>(
  backend: string,
  database: Layer.Layer<PgClient.PgClient | AppSession, E>,
  assumeRole: string | undefined
) =>
  layer(database, { timeout: "120 seconds", excludeTestServices: true })(`durable events: ${backend}`, (it) => {
    /** A bus instance ("a process"): closing its scope is the process going away. */
    const openBus = (options: DurableEventBusOptions = {}): Effect.Effect<EventBus["Service"], never, PgClient.PgClient | Scope.Scope> =>
      DurableEventBus.make({ poll: false, retryBaseDelay: 0, ...options, assumeRole })

    const services = Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const repos = yield* makeRepositories({ assumeRole })
      const tx = makeWorkspaceTransaction(sql, { assumeRole })
      const session = yield* AppSession
      return { repos, tx, session }
    })

    /** A handler that applies the event once per run (an audit entry with a fresh id). */
    const applier = (repos: Effect.Success<typeof services>["repos"], calls: { n: number }): EventHandler => (event) =>
      Effect.gen(function*() {
        calls.n++
        yield* repos.changeSet.appendAudit(
          F.auditEntry(event.workspaceId, `applied:${event.id}`, `run-${++runs}-${calls.n}`, "applied")
        )
      })

    const appliedCount = (repos: Effect.Success<typeof services>["repos"], workspaceId: string, eventId: string) =>
      Effect.map(repos.changeSet.audit(workspaceId, `applied:${eventId}`), (entries) => entries.length)

    const outboxRow = (workspaceId: string, eventId: string) =>
      Effect.gen(function*() {
        const session = yield* AppSession
        return yield* session.run(workspaceId, (sql) =>
          sql<{ delivered: boolean; attempts: unknown }>`SELECT delivered_at IS NOT NULL AS delivered, attempts
              FROM spectral.event_outbox WHERE id = ${eventId}`.withoutTransform)
      })

    it.effect("the outbox row commits with the caller's transaction, and rolls back with it", () =>
      Effect.gen(function*() {
        const { repos, tx } = yield* services
        const bus = yield* openBus()
        const ws = F.freshWorkspaceId("outbox")
        const failed = yield* Effect.flip(tx.transactional(ws, Effect.gen(function*() {
          yield* repos.scan.insert(F.scan(ws, "scan-rolled-back", 1))
          yield* bus.publish(convergenceEvent(ws, "e-rolled-back"))
          return yield* StorageError.unavailable("boom after publish")
        })))
        expect(failed.message).toContain("boom after publish")
        expect(yield* repos.scan.list(ws)).toEqual([])
        expect(yield* outboxRow(ws, "e-rolled-back")).toEqual([])
        expect(yield* bus.published).toEqual([])

        yield* tx.transactional(ws, Effect.gen(function*() {
          yield* repos.scan.insert(F.scan(ws, "scan-kept", 1))
          yield* bus.publish(convergenceEvent(ws, "e-kept"))
        }))
        expect((yield* repos.scan.list(ws)).map((s) => s.id)).toEqual(["scan-kept"])
        expect(yield* outboxRow(ws, "e-kept")).toEqual([{ delivered: false, attempts: {} }])
        expect((yield* bus.published).map((e) => e.id)).toEqual(["e-kept"])
      }).pipe(Effect.scoped))

    it.effect("killed between commit and dispatch: after a restart the poll loop delivers it, applied once; killed before marking: not applied again", () =>
      Effect.gen(function*() {
        const { repos, tx, session } = yield* services
        const ws = F.freshWorkspaceId("crash")
        // Process 1 commits the state change and its event, then dies before dispatching.
        yield* Effect.scoped(Effect.gen(function*() {
          const bus = yield* openBus()
          yield* tx.transactional(ws, Effect.gen(function*() {
            yield* repos.scan.insert(F.scan(ws, "scan-1", 1))
            yield* bus.publish(convergenceEvent(ws, "e-crash"))
          }))
        }))
        // Process 2 starts with its subscriber; its background loop finds the pending event.
        const calls = { n: 0 }
        yield* Effect.scoped(Effect.gen(function*() {
          const bus = yield* openBus({ poll: true, pollInterval: "20 millis" })
          // The loop also finds other tests' pending events; this subscriber counts only its own.
          const apply = applier(repos, calls)
          yield* bus.subscribe("applier", (event) => event.workspaceId === ws ? apply(event) : Effect.void)
          for (let i = 0; i < 300 && (yield* outboxRow(ws, "e-crash"))[0]?.delivered !== true; i++) yield* Effect.sleep("20 millis")
        }))
        expect(yield* outboxRow(ws, "e-crash")).toMatchObject([{ delivered: true }])
        expect(yield* appliedCount(repos, ws, "e-crash")).toBe(1)
        expect(calls.n).toBe(1)

        // Process 3: as if the dispatcher had died after the handler committed, before marking.
        yield* session.run(ws, (sql) => sql`UPDATE spectral.event_outbox SET delivered_at = NULL WHERE id = 'e-crash'`)
        const again = { n: 0 }
        yield* Effect.scoped(Effect.gen(function*() {
          const bus = yield* openBus()
          yield* bus.subscribe("applier", applier(repos, again))
          yield* bus.drain(ws)
        }))
        expect(again.n).toBe(0)
        expect(yield* appliedCount(repos, ws, "e-crash")).toBe(1)
        expect(yield* outboxRow(ws, "e-crash")).toMatchObject([{ delivered: true }])
      }))

    it.effect("the same event published 3 times and delivered by 4 dispatchers at once, then after a restart: applied once", () =>
      Effect.gen(function*() {
        const { repos } = yield* services
        const ws = F.freshWorkspaceId("concurrent")
        const calls = { n: 0 }
        const buses = yield* Effect.all(Array.from({ length: 4 }, () => openBus()))
        for (const bus of buses) yield* bus.subscribe("applier", applier(repos, calls))
        yield* Effect.all([1, 2, 3].map(() => buses[0]!.publish(convergenceEvent(ws, "e-many"))), { concurrency: "unbounded" })
        yield* Effect.all(buses.map((bus) => bus.drain(ws)), { concurrency: "unbounded" })
        expect(yield* appliedCount(repos, ws, "e-many")).toBe(1)
        const processed = yield* (yield* AppSession).run(ws, (sql) =>
          sql`SELECT 1 FROM spectral.processed_events WHERE event_id = 'e-many'`)
        expect(processed).toHaveLength(1)

        yield* (yield* AppSession).run(ws, (sql) => sql`UPDATE spectral.event_outbox SET delivered_at = NULL WHERE id = 'e-many'`)
        const restarted = yield* Effect.scoped(Effect.gen(function*() {
          const bus = yield* openBus()
          const after = { n: 0 }
          yield* bus.subscribe("applier", applier(repos, after))
          yield* Effect.all([bus.drain(ws), bus.drain(ws)], { concurrency: "unbounded" })
          return after.n
        }))
        expect(restarted).toBe(0)
        expect(yield* appliedCount(repos, ws, "e-many")).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("an unknown event type or version goes to dead_letters with its payload; no handler sees it", () =>
      Effect.gen(function*() {
        const { session } = yield* services
        const bus = yield* openBus()
        const ws = F.freshWorkspaceId("dead")
        const seen: Array<string> = []
        yield* bus.subscribe("recorder", (event) => Effect.sync(() => void seen.push(event.id)))
        const teleported = { ...convergenceEvent(ws, "e-teleport"), type: "scan.teleported" }
        const futureVersion = { ...convergenceEvent(ws, "e-v2"), version: 2 }
        yield* session.run(ws, (sql) =>
          Effect.all([
            sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc)
                VALUES (${ws}, 'e-teleport', 'scan.teleported', 1, ${sql.json(teleported)})`,
            sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc)
                VALUES (${ws}, 'e-v2', 'scan.convergence.delta', 2, ${sql.json(futureVersion)})`
          ]))
        yield* bus.publish(convergenceEvent(ws, "e-fine"))
        yield* bus.drain(ws)
        expect(seen).toEqual(["e-fine"])
        const letters = yield* session.run(ws, (sql) =>
          sql<{ event_id: string; reason: string; type: string; version: number; subscriber: string | null; doc: unknown }>`
            SELECT event_id, reason, type, version, subscriber, doc FROM spectral.dead_letters ORDER BY seq`.withoutTransform)
        expect(letters).toEqual([
          { event_id: "e-teleport", reason: "unknown_type", type: "scan.teleported", version: 1, subscriber: null, doc: teleported },
          { event_id: "e-v2", reason: "unknown_type", type: "scan.convergence.delta", version: 2, subscriber: null, doc: futureVersion }
        ])
        expect(yield* outboxRow(ws, "e-teleport")).toMatchObject([{ delivered: true }])
        yield* bus.drain(ws)
        expect(seen).toEqual(["e-fine"])
      }).pipe(Effect.scoped))

    it.effect("a failed handler does not acknowledge its event: retried until it succeeds (applied once); one that keeps failing is dead-lettered", () =>
      Effect.gen(function*() {
        const { repos, session } = yield* services
        const bus = yield* openBus({ maxAttempts: 3 })
        const ws = F.freshWorkspaceId("retry")
        const flaky = { n: 0 }
        const steady = { n: 0 }
        const hopeless = { n: 0 }
        const apply = applier(repos, flaky)
        yield* bus.subscribe("flaky", (event) =>
          Effect.gen(function*() {
            yield* apply(event)
            // The audit entry above is rolled back with the failure.
            if (flaky.n <= 2) return yield* Effect.fail(new Error(`flaky failure ${flaky.n}`))
          }))
        yield* bus.subscribe("steady", (event) =>
          Effect.andThen(Effect.sync(() => steady.n++), repos.changeSet.appendAudit(F.auditEntry(ws, "steady", `steady-${++runs}`))))
        yield* bus.subscribe("hopeless", () => Effect.andThen(Effect.sync(() => hopeless.n++), Effect.die(new Error("always broken"))))
        yield* bus.publish(convergenceEvent(ws, "e-retry"))

        yield* bus.drain(ws)
        expect(yield* appliedCount(repos, ws, "e-retry")).toBe(0)
        const processedBy = () =>
          Effect.map(session.run(ws, (sql) =>
            sql<{ subscriber: string }>`SELECT subscriber FROM spectral.processed_events WHERE event_id = 'e-retry' ORDER BY subscriber`),
            (rows) => rows.map((row) => row.subscriber))
        expect(yield* processedBy()).toEqual(["steady"])
        expect(yield* outboxRow(ws, "e-retry")).toMatchObject([{ delivered: false, attempts: { flaky: { count: 1 }, hopeless: { count: 1 } } }])
        expect((yield* bus.failures).map((f) => f.subscriber)).toEqual(["flaky", "hopeless"])

        yield* bus.drain(ws)
        yield* bus.drain(ws)
        expect(flaky.n).toBe(3)
        expect(yield* appliedCount(repos, ws, "e-retry")).toBe(1)
        expect(yield* processedBy()).toEqual(["flaky", "steady"])
        expect(steady.n).toBe(1)
        expect((yield* repos.changeSet.audit(ws, "steady")).length).toBe(1)
        expect(hopeless.n).toBe(3)
        const letters = yield* session.run(ws, (sql) =>
          sql<{ subscriber: string; reason: string; error: string }>`SELECT subscriber, reason, error FROM spectral.dead_letters`)
        expect(letters).toHaveLength(1)
        expect(letters[0]).toMatchObject({ subscriber: "hopeless", reason: "handler_failed" })
        expect(letters[0]!.error).toContain("always broken")
        expect(yield* outboxRow(ws, "e-retry")).toMatchObject([{ delivered: true }])
        yield* bus.drain(ws)
        expect([flaky.n, steady.n, hopeless.n]).toEqual([3, 1, 3])
      }).pipe(Effect.scoped))

    it.effect("a run that fails because the database is unavailable counts no attempt; the event waits", () =>
      Effect.gen(function*() {
        const { repos } = yield* services
        const bus = yield* openBus({ maxAttempts: 1 })
        const ws = F.freshWorkspaceId("down")
        const calls = { n: 0 }
        const apply = applier(repos, calls)
        yield* bus.subscribe("applier", (event) =>
          calls.n === 0 ? Effect.andThen(Effect.sync(() => calls.n++), StorageError.unavailable("connection lost")) : apply(event))
        yield* bus.publish(convergenceEvent(ws, "e-down"))
        yield* bus.drain(ws)
        expect(yield* outboxRow(ws, "e-down")).toEqual([{ delivered: false, attempts: {} }])
        yield* bus.drain(ws)
        expect(yield* appliedCount(repos, ws, "e-down")).toBe(1)
        expect(yield* outboxRow(ws, "e-down")).toMatchObject([{ delivered: true }])
      }).pipe(Effect.scoped))

    it.effect("an event whose payload names another workspace is rejected; nothing reaches the outbox", () =>
      Effect.gen(function*() {
        const bus = yield* openBus()
        const a = F.freshWorkspaceId("a")
        const b = F.freshWorkspaceId("b")
        const rejected = yield* Effect.flip(bus.publish(convergenceEvent(a, "e-mixed", b)))
        expect(rejected._tag).toBe("EventRejected")
        expect(rejected.message).toContain("disagrees")
        expect(yield* outboxRow(a, "e-mixed")).toEqual([])
        expect(yield* outboxRow(b, "e-mixed")).toEqual([])
        expect(yield* bus.published).toEqual([])
      }).pipe(Effect.scoped))
  })
