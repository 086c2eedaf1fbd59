/**
 * The EventBus port: publish a typed event; subscribers run under the event's workspace. The
 * in-memory bus here keeps every published event (for inspection) and delivers to subscribers in
 * order; a handler's failure is recorded and does not stop the others. Durable delivery (outbox in
 * Postgres) is a driver in `@spectral/adapters`.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { SpectralEvent } from "../contracts/index.ts"

export class EventRejected extends Schema.TaggedError<EventRejected>()("EventRejected", {
  type: Schema.String,
  message: Schema.String
}) {}

export type EventHandler = (event: SpectralEvent) => Effect.Effect<void, unknown>

export interface HandlerFailure {
  readonly subscriber: string
  readonly eventId: string
  readonly error: string
}

export class EventBus extends Context.Service<EventBus, {
  /** Validates the event (envelope and payload workspace must agree) and delivers it. */
  readonly publish: (event: SpectralEvent) => Effect.Effect<void, EventRejected>
  readonly subscribe: (name: string, handler: EventHandler) => Effect.Effect<void>
  /**
   * Deliver everything published so far for the workspace and wait for the handlers (a durable bus
   * dispatches its outbox; the memory bus delivers on publish, so this does nothing).
   */
  readonly drain: (workspaceId: string) => Effect.Effect<void>
  /** Every event published so far, oldest first. */
  readonly published: Effect.Effect<ReadonlyArray<SpectralEvent>>
  readonly failures: Effect.Effect<ReadonlyArray<HandlerFailure>>
}>()("@spectral/engine/ports/EventBus") {
  static readonly layerMemory = Layer.effect(
    EventBus,
    Effect.gen(function*() {
      const log = yield* Ref.make<ReadonlyArray<SpectralEvent>>([])
      const failures = yield* Ref.make<ReadonlyArray<HandlerFailure>>([])
      const handlers = yield* Ref.make<ReadonlyArray<readonly [string, EventHandler]>>([])
      const validate = Schema.decodeUnknownEffect(SpectralEvent)
      const publish = Effect.fn("EventBus.publish")(function*(event: SpectralEvent) {
        const valid = yield* validate(event).pipe(
          Effect.mapError((error) => new EventRejected({ type: event.type, message: error.message }))
        )
        yield* Ref.update(log, (events) => [...events, valid])
        for (const [name, handler] of yield* Ref.get(handlers)) {
          yield* handler(valid).pipe(
            Effect.catchCause((cause) =>
              Ref.update(failures, (list) => [...list, { subscriber: name, eventId: valid.id, error: String(cause) }])
            )
          )
        }
      })
      return EventBus.of({
        publish,
        subscribe: (name, handler) => Ref.update(handlers, (list) => [...list, [name, handler] as const]),
        drain: () => Effect.void,
        published: Ref.get(log),
        failures: Ref.get(failures)
      })
    })
  )
}
