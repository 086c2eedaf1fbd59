/**
 * The durable EventBus on the SQL store (transactional outbox). `publish` validates the event
 * (Schema; the payload's workspace must match the envelope's) and inserts it into
 * `spectral.event_outbox` — inside the caller's transaction when there is one (the orchestrator's
 * phase boundary, a handler's delivery), so a state change and its outbox row commit together.
 *
 * Delivery is at least once, application exactly once: each (subscriber, event) runs in its own
 * workspace transaction that first inserts `processed_events (subscriber, event_id)` and then runs
 * the handler, so the acknowledgement commits with the handler's effects; a redelivered (or
 * concurrently delivered) event finds the row and is skipped. A handler that fails rolls back and
 * leaves its event pending (`attempts` counts, `next_attempt_at` backs off); after `maxAttempts`
 * the pair goes to `dead_letters`. A run that fails because the database is unavailable counts no
 * attempt: dispatch stops and the event waits for the next drain or poll. An outbox row that does not decode (unknown type or version, a
 * payload of another shape) goes to `dead_letters` with its payload and is never handed to anyone.
 * An event is marked delivered once every subscriber has acknowledged or dead-lettered it; with no
 * subscriber yet it stays pending.
 *
 * `drain(workspaceId)` dispatches everything pending for the workspace now (each event once, plus
 * what handlers publish meanwhile) and waits. A background loop in the layer's scope polls for due
 * events of every workspace (first look one interval after start, so subscriptions made while the
 * host's layers build are in place; exponential back-off while the database is unreachable), which
 * is how events left behind by a crash are delivered after a restart. Handlers whose effects are
 * not in the database (memory) get at-least-once delivery only.
 *
 * Owns: the outbox protocol. Not here: tables (migration 3), connections (Storage).
 */
import { EventBus, type EventHandler, EventRejected, type HandlerFailure, StorageError } from "@spectral/engine"
import { eventTypes, SpectralEvent } from "@spectral/engine/contracts"
import { PgClient } from "@effect/sql-pg"
import { Cause, Duration, Effect, Exit, Layer, Ref, Schedule, Schema, Semaphore } from "effect"
import { makeWorkspaceTransaction, type WorkspaceTransaction } from "../storage/internal/WorkspaceTransaction.ts"

export interface DurableEventBusOptions {
  /** A role switched to in every transaction (embedded PGlite; see `Storage.layerNoDeps`' `assumeRole`). */
  readonly assumeRole?: string | undefined
  /** Run the background poll loop (default true). */
  readonly poll?: boolean | undefined
  /** Time between polls when idle (default 1 second). */
  readonly pollInterval?: Duration.Input | undefined
  /** Longest wait between polls while the database fails (default 30 seconds). */
  readonly maxPollInterval?: Duration.Input | undefined
  /** Failed runs of one handler on one event before it is dead-lettered (default 5). */
  readonly maxAttempts?: number | undefined
  /** First back-off after a failed handler run, doubled per attempt (default 1 second). */
  readonly retryBaseDelay?: Duration.Input | undefined
  /** Outbox rows read per query (default 200). */
  readonly batchSize?: number | undefined
}

interface OutboxRow {
  readonly seq: string
  readonly id: string
  readonly type: string
  readonly version: number
  readonly doc: unknown
  readonly attempts: Record<string, { readonly count: number } | undefined>
}

const decodeEvent = Schema.decodeUnknownExit(SpectralEvent)
const validate = Schema.decodeUnknownEffect(SpectralEvent)
const encodeEvent = Schema.encodeEffect(SpectralEvent)

const isUnavailable = (error: unknown): boolean => error instanceof StorageError && error.reason._tag === "Unavailable"

const describeCause = (cause: Cause.Cause<unknown>): string => Cause.pretty(cause).split("\n").slice(0, 3).join(" ")

/** The durable bus on the PgClient in context; its poll loop runs in the caller's scope. */
export const make = Effect.fnUntraced(function*(options: DurableEventBusOptions = {}) {
  const sql = yield* PgClient.PgClient
  const tx: WorkspaceTransaction = makeWorkspaceTransaction(sql, { assumeRole: options.assumeRole })
  const maxAttempts = options.maxAttempts ?? 5
  const batchSize = options.batchSize ?? 200
  const retryBaseMillis = Duration.toMillis(Duration.fromInputUnsafe(options.retryBaseDelay ?? "1 second"))
  const pollInterval = Duration.fromInputUnsafe(options.pollInterval ?? "1 second")
  const maxPollInterval = Duration.fromInputUnsafe(options.maxPollInterval ?? "30 seconds")

  const log = yield* Ref.make<ReadonlyArray<SpectralEvent>>([])
  const failures = yield* Ref.make<ReadonlyArray<HandlerFailure>>([])
  const handlers = yield* Ref.make<ReadonlyArray<readonly [string, EventHandler]>>([])
  /** One dispatch at a time in this process (drain and the poll loop); other processes may race. */
  const dispatching = yield* Semaphore.make(1)

  const publish = Effect.fn("DurableEventBus.publish")(function*(event: SpectralEvent) {
    const valid = yield* validate(event).pipe(
      Effect.mapError((error) => new EventRejected({ type: event.type, message: error.message }))
    )
    const doc = yield* encodeEvent(valid).pipe(
      Effect.mapError((error) => new EventRejected({ type: event.type, message: error.message }))
    )
    yield* tx.transactional(
      valid.workspaceId,
      sql`INSERT INTO spectral.event_outbox (workspace_id, id, type, version, doc)
          VALUES (${valid.workspaceId}, ${valid.id}, ${valid.type}, ${valid.version}, ${sql.json(doc)})
          ON CONFLICT (workspace_id, id) DO NOTHING`
    ).pipe(
      // The port's one error: the event could not be accepted (here: the outbox is unreachable).
      Effect.mapError((error) => new EventRejected({ type: valid.type, message: `outbox write failed: ${error.message}` }))
    )
    yield* sql.afterCommit(Ref.update(log, (events) => [...events, valid]))
  })

  const pending = (workspaceId: string, afterSeq: string, dueOnly: boolean) =>
    tx.transactional(
      workspaceId,
      dueOnly
        ? sql<OutboxRow>`SELECT seq::text AS seq, id, type, version, doc, attempts FROM spectral.event_outbox
            WHERE workspace_id = ${workspaceId} AND delivered_at IS NULL AND next_attempt_at <= now()
              AND seq > ${afterSeq}::bigint
            ORDER BY seq LIMIT ${batchSize}`.withoutTransform
        : sql<OutboxRow>`SELECT seq::text AS seq, id, type, version, doc, attempts FROM spectral.event_outbox
            WHERE workspace_id = ${workspaceId} AND delivered_at IS NULL AND seq > ${afterSeq}::bigint
            ORDER BY seq LIMIT ${batchSize}`.withoutTransform
    )

  const markDelivered = (workspaceId: string, eventId: string) =>
    sql`UPDATE spectral.event_outbox SET delivered_at = now()
        WHERE workspace_id = ${workspaceId} AND id = ${eventId} AND delivered_at IS NULL`

  const deadLetter = (
    workspaceId: string,
    row: OutboxRow,
    subscriber: string | null,
    reason: "unknown_type" | "invalid_payload" | "handler_failed",
    error: string
  ) =>
    sql`INSERT INTO spectral.dead_letters (workspace_id, id, event_id, subscriber, reason, type, version, doc, error)
        VALUES (${workspaceId}, ${subscriber === null ? row.id : `${row.id}/${subscriber}`}, ${row.id}, ${subscriber},
                ${reason}, ${row.type}, ${row.version}, ${sql.json(row.doc)}, ${error})
        ON CONFLICT (workspace_id, id) DO NOTHING`

  /** Run one subscriber's handler on one event, acknowledged in the handler's own transaction. */
  const handleOnce = (workspaceId: string, event: SpectralEvent, subscriber: string, handler: EventHandler) =>
    tx.transactional(
      workspaceId,
      Effect.gen(function*() {
        const claimed = yield* sql`INSERT INTO spectral.processed_events (workspace_id, subscriber, event_id, doc)
            VALUES (${workspaceId}, ${subscriber}, ${event.id}, ${sql.json({ type: event.type })})
            ON CONFLICT (workspace_id, subscriber, event_id) DO NOTHING RETURNING 1`
        if (claimed.length === 0) return "already processed" as const
        yield* handler(event)
        return "applied" as const
      })
    )

  /** Record a failed run; returns how many runs of this subscriber on this event have failed. */
  const recordFailure = (workspaceId: string, row: OutboxRow, subscriber: string, error: string) =>
    tx.transactional(
      workspaceId,
      Effect.gen(function*() {
        const updated = yield* sql<{ readonly count: number }>`UPDATE spectral.event_outbox
            SET attempts = jsonb_set(attempts, ARRAY[${subscriber}::text], jsonb_build_object(
                  'count', COALESCE((attempts -> ${subscriber} ->> 'count')::int, 0) + 1, 'error', ${error}::text)),
                next_attempt_at = now() + make_interval(secs => ${retryBaseMillis / 1000}::float8 *
                  power(2, COALESCE((attempts -> ${subscriber} ->> 'count')::int, 0)))
            WHERE workspace_id = ${workspaceId} AND id = ${row.id}
            RETURNING (attempts -> ${subscriber} ->> 'count')::int AS count`.withoutTransform
        const count = updated[0]?.count ?? maxAttempts
        if (count >= maxAttempts) {
          yield* deadLetter(workspaceId, row, subscriber, "handler_failed", error)
        }
        return count
      })
    )

  /** Hand one outbox row to every subscriber that has not acknowledged it yet. */
  const deliver = (workspaceId: string, row: OutboxRow) =>
    Effect.gen(function*() {
      const decoded = decodeEvent(row.doc)
      if (Exit.isFailure(decoded) || decoded.value.type !== row.type || decoded.value.workspaceId !== workspaceId) {
        const known = (eventTypes as ReadonlyArray<string>).includes(row.type) && row.version === 1
        const error = Exit.isFailure(decoded)
          ? describeCause(decoded.cause)
          : `envelope (${decoded.value.type}, ${decoded.value.workspaceId}) disagrees with its outbox row`
        yield* tx.transactional(
          workspaceId,
          Effect.andThen(
            deadLetter(workspaceId, row, null, known ? "invalid_payload" : "unknown_type", error),
            markDelivered(workspaceId, row.id)
          )
        )
        return
      }
      const event = decoded.value
      const subscribers = yield* Ref.get(handlers)
      if (subscribers.length === 0) return
      let settled = true
      for (const [subscriber, handler] of subscribers) {
        if ((row.attempts[subscriber]?.count ?? 0) >= maxAttempts) continue
        const outcome = yield* Effect.exit(handleOnce(workspaceId, event, subscriber, handler))
        if (Exit.isSuccess(outcome)) continue
        // The database went away (not the handler's fault): stop here, count no attempt; the
        // event stays pending for the next drain or poll.
        if (outcome.cause.reasons.some((reason) => Cause.isFailReason(reason) && isUnavailable(reason.error))) {
          return yield* Effect.failCause(outcome.cause)
        }
        const error = describeCause(outcome.cause)
        yield* Ref.update(failures, (list) => [...list, { subscriber, eventId: event.id, error }])
        const count = yield* recordFailure(workspaceId, row, subscriber, error)
        if (count < maxAttempts) settled = false
      }
      if (settled) yield* tx.transactional(workspaceId, markDelivered(workspaceId, row.id))
    })

  /** Deliver the workspace's pending events in publication order, each at most once per call. */
  const dispatch = (workspaceId: string, dueOnly: boolean) =>
    Effect.gen(function*() {
      let cursor = "0"
      while (true) {
        const rows = yield* pending(workspaceId, cursor, dueOnly)
        if (rows.length === 0) return
        for (const row of rows) {
          yield* deliver(workspaceId, row)
          cursor = row.seq
        }
      }
    })

  const drain = (workspaceId: string) =>
    dispatching.withPermit(dispatch(workspaceId, false)).pipe(
      Effect.catchCause((cause) => Effect.logWarning("DurableEventBus.drain: events stay pending", cause)),
      Effect.withSpan("DurableEventBus.drain")
    )

  const pollOnce = Effect.gen(function*() {
    if ((yield* Ref.get(handlers)).length === 0) return
    const workspaces = yield* tx.unscoped(
      sql<{ readonly workspace: string }>`SELECT w AS workspace FROM spectral.workspaces_with_pending_events() AS w`
    )
    for (const { workspace } of workspaces) yield* dispatch(workspace, true)
  })

  if (options.poll ?? true) {
    // A failed poll (a failure or a defect) is retried after twice the interval, doubling up to
    // the cap; after a success the next poll is one interval later.
    const backOff = Schedule.min([Schedule.exponential(Duration.times(pollInterval, 2)), Schedule.spaced(maxPollInterval)])
    const poll = dispatching.withPermit(pollOnce).pipe(
      Effect.sandbox,
      Effect.tapError((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.void
          : Effect.logWarning("DurableEventBus: polling the outbox failed; backing off", cause)
      ),
      Effect.retry(backOff)
    )
    // The first look is one interval after start.
    yield* Effect.forkScoped(Effect.schedule(poll, Schedule.spaced(pollInterval)))
  }

  return EventBus.of({
    publish,
    subscribe: (name, handler) => Ref.update(handlers, (list) => [...list, [name, handler] as const]),
    drain,
    published: Ref.get(log),
    failures: Ref.get(failures)
  })
})

/** The durable bus on the PgClient in context (migration 3 applied); its poll loop lives in the layer's scope. */
export const layerNoDeps = (options: DurableEventBusOptions = {}): Layer.Layer<EventBus, never, PgClient.PgClient> =>
  Layer.effect(EventBus, make(options))
