/** The current time as an ISO-8601 string, read from `Clock` (so TestClock controls it). */
import { Clock, Effect } from "effect"

export const nowIso: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())
