/**
 * Admission control for provider requests: a concurrency limit that adapts to rate limiting
 * (AIMD: halve on a 429, grow back by one after a full window of successes) and a
 * requests-per-minute limiter that spaces request starts evenly. Each HTTP attempt is admitted
 * separately, so a call waiting out a back-off holds no permit.
 *
 * Owns: the limiter state and `make`. Not here: retries and back-off (OpenAiCompatible).
 */
import { Clock, Effect, Semaphore } from "effect"

export interface RateControlOptions {
  /** Upper bound on in-flight requests; the adaptive limit never exceeds it. */
  readonly maxConcurrency: number
  /** Requests started per minute; `undefined` means unlimited. */
  readonly requestsPerMinute?: number | undefined
}

/** A token taken when an attempt starts; lets one burst of 429s lower the limit only once. */
export interface Admission {
  readonly generation: number
}

export interface RateControl {
  /** Runs one attempt under the concurrency limit, after its requests-per-minute slot. */
  readonly admit: <A, E, R>(attempt: (admission: Admission) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Multiplicative decrease, once per generation. */
  readonly onRateLimited: (admission: Admission) => Effect.Effect<void>
  /** Additive increase: one more permit after `limit` successes in a row. */
  readonly onSuccess: Effect.Effect<void>
  readonly effectiveConcurrency: Effect.Effect<number>
}

export const make = Effect.fnUntraced(function*(options: RateControlOptions) {
  const maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency))
  const semaphore = yield* Semaphore.make(maxConcurrency)
  const spacingMs = options.requestsPerMinute !== undefined && options.requestsPerMinute > 0
    ? 60_000 / options.requestsPerMinute
    : 0
  let limit = maxConcurrency
  let generation = 0
  let successesSinceChange = 0
  let nextSlotAt = 0

  const waitForSlot: Effect.Effect<void> = spacingMs === 0
    ? Effect.void
    : Effect.clockWith((clock: Clock.Clock) => {
      const now = clock.currentTimeMillisUnsafe()
      const startAt = Math.max(now, nextSlotAt)
      nextSlotAt = startAt + spacingMs
      return startAt > now ? Effect.sleep(startAt - now) : Effect.void
    })

  const setLimit = (next: number) => {
    limit = next
    generation += 1
    successesSinceChange = 0
    return semaphore.resize(next)
  }

  return {
    admit: (attempt) =>
      semaphore.withPermit(Effect.andThen(waitForSlot, Effect.suspend(() => attempt({ generation })))),
    onRateLimited: (admission) =>
      Effect.suspend(() =>
        admission.generation === generation && limit > 1 ? setLimit(Math.max(1, Math.floor(limit / 2))) : Effect.void
      ),
    onSuccess: Effect.suspend(() => {
      if (limit >= maxConcurrency) return Effect.void
      successesSinceChange += 1
      return successesSinceChange >= limit ? setLimit(limit + 1) : Effect.void
    }),
    effectiveConcurrency: Effect.sync(() => limit)
  } satisfies RateControl as RateControl
})
