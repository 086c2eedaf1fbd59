/**
 * Events a phase emits are held until its boundary, then published together with the phase's
 * saved output in one unit of work: a resumed scan never publishes a finished phase's events twice,
 * and an unfinished phase's events are never published. Outside a scan (no collector in context)
 * `emitEvent` publishes at once.
 */
import { Context, Effect, Ref } from "effect"
import type { SpectralEvent } from "../contracts/index.ts"
import { nowIso } from "../clock/Time.ts"
import { EventBus, type EventRejected } from "./EventBus.ts"

export const PhaseEventCollector = Context.Reference<Ref.Ref<ReadonlyArray<SpectralEvent>> | undefined>(
  "@spectral/engine/ports/PhaseEventCollector",
  { defaultValue: () => undefined }
)

export const emitEvent = (event: SpectralEvent): Effect.Effect<void, EventRejected, EventBus> =>
  Effect.gen(function*() {
    const collector = yield* PhaseEventCollector
    if (collector === undefined) return yield* (yield* EventBus).publish(event)
    yield* Ref.update(collector, (events) => [...events, event])
  })

/** `emitEvent` against a bus the caller already holds (no EventBus requirement at call time). */
export const emitEventWith = (bus: EventBus["Service"]) => (event: SpectralEvent): Effect.Effect<void, EventRejected> =>
  Effect.gen(function*() {
    const collector = yield* PhaseEventCollector
    if (collector === undefined) return yield* bus.publish(event)
    yield* Ref.update(collector, (events) => [...events, event])
  })

/** The event of one type in the SpectralEvent union. */
export type EventOf<T extends SpectralEvent["type"]> = Extract<SpectralEvent, { readonly type: T }>

/**
 * The one way the engine builds an event: the envelope (version 1, the payload's workspace,
 * `occurredAt` from the Clock) around a payload of that type.
 */
export const makeEvent = <T extends SpectralEvent["type"]>(type: T, id: string, payload: EventOf<T>["payload"]): Effect.Effect<EventOf<T>> =>
  Effect.map(nowIso, (occurredAt) => ({ id, type, version: 1, workspaceId: payload.workspaceId, occurredAt, payload }) as unknown as EventOf<T>)

