/**
 * How one logical request becomes HTTP attempts: each attempt admitted by `RateControl` and
 * aborted at its timeout; 429, 5xx, 408/409, connection failures and timeouts retried with
 * exponential back-off and jitter, never sooner than the server's `Retry-After` /
 * `retry-after-ms`; attempts bounded by a count and by a total deadline that starts with the first
 * attempt. Errors from the `openai` SDK are mapped to `effect/ai`'s `AiError` reasons here, their
 * texts (message, body, headers) passed through the caller's redaction first.
 *
 * Owns: error classification, Retry-After parsing, the retry schedule. Not here: what a request is.
 */
import { Cause, Clock, Duration, Effect, Exit, Option, Random, Schedule } from "effect"
import { AiError } from "effect/ai"
import OpenAI from "openai"
import type * as RateControl from "./RateControl.ts"

export interface RetrySettings {
  readonly timeoutMs: number
  readonly maxRetries: number
  readonly deadlineMs: number
  readonly retryBaseDelayMs: number
  readonly retryMaxDelayMs: number
}

const MODULE = "OpenAiCompatible"

export interface AttemptFailure {
  readonly error: AiError.AiError
  readonly retryable: boolean
  readonly rateLimited: boolean
  readonly retryAfterMs: number | undefined
}

/** What a provider's error text becomes before it is kept (by default: as it is). */
export type RedactText = (text: string) => string

const asIs: RedactText = (text) => text

const headerRecord = (headers: Headers | undefined, redact: RedactText): Record<string, string> => {
  const record: Record<string, string> = {}
  headers?.forEach((value, key) => {
    record[key] = key === "authorization" || key === "api-key" ? "<redacted>" : redact(value)
  })
  return record
}

/** `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date). */
export const retryAfterMillis = (headers: Headers | undefined, nowMs: number): number | undefined => {
  const millis = headers?.get("retry-after-ms")
  if (millis !== undefined && millis !== null && millis.trim() !== "") {
    const value = Number(millis)
    if (Number.isFinite(value) && value >= 0) return value
  }
  const after = headers?.get("retry-after")
  if (after === undefined || after === null || after.trim() === "") return undefined
  const seconds = Number(after)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(after)
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined
}

export const classifyFailure = (cause: unknown, method: string, url: string, nowMs: number, redact: RedactText = asIs): AttemptFailure => {
  const fail = (reason: AiError.AiErrorReason, retryable: boolean, retryAfterMs?: number): AttemptFailure => ({
    error: AiError.make({ module: MODULE, method, reason }),
    retryable,
    rateLimited: reason._tag === "RateLimitError",
    retryAfterMs
  })
  if (cause instanceof OpenAI.APIConnectionError) {
    return fail(new AiError.NetworkError({ reason: "TransportError", method: "POST", url, description: redact(cause.message), cause }), true)
  }
  if (cause instanceof OpenAI.APIError && typeof cause.status === "number") {
    const status = cause.status
    const body = cause.error === undefined ? undefined : redact(JSON.stringify(cause.error))
    const http = { response: { status, headers: headerRecord(cause.headers, redact) }, ...(body === undefined ? {} : { body }) }
    const description = redact(cause.message)
    if (status === 429) {
      if (cause.code === "insufficient_quota") {
        return fail(new AiError.QuotaExhaustedError({ http }), false)
      }
      const retryAfterMs = retryAfterMillis(cause.headers, nowMs)
      return fail(
        new AiError.RateLimitError({
          http,
          ...(retryAfterMs === undefined ? {} : { retryAfter: Duration.millis(retryAfterMs) })
        }),
        true,
        retryAfterMs
      )
    }
    const reason = AiError.reasonFromHttpStatus({ status, http, description })
    return fail(reason, status >= 500 || status === 408 || status === 409)
  }
  const description = redact(cause instanceof Error ? cause.message : String(cause))
  return fail(new AiError.UnknownError({ description }), false)
}

export const timedOut = (method: string, url: string, timeoutMs: number): AttemptFailure => ({
  error: AiError.make({
    module: MODULE,
    method,
    reason: new AiError.NetworkError({
      reason: "TransportError",
      method: "POST",
      url,
      description: `No response within ${timeoutMs} ms; the request was aborted`
    })
  }),
  retryable: true,
  rateLimited: false,
  retryAfterMs: undefined
})

export const isAttemptFailure = (u: unknown): u is AttemptFailure =>
  typeof u === "object" && u !== null && "error" in u && "retryable" in u && AiError.isAiError(u.error)

/** A request that ended without an answer: the last attempt's error and how many attempts were made. */
export interface RetriesExhausted {
  readonly error: AiError.AiError
  readonly attempts: number
}

export interface Attempted<A> {
  readonly value: A
  readonly attempts: number
}

/**
 * When to try again after a failed attempt (the schedule's input): only a retryable failure, at
 * most `maxRetries` times; after the server's `Retry-After` plus up to 10% when it sent one, else
 * exponential back-off from `retryBaseDelayMs`, capped at `retryMaxDelayMs`, jittered to between
 * half and all of it; and never when the wait would end past `deadlineAt()` (the total deadline,
 * known once the first attempt has started).
 */
export const retrySchedule = (settings: RetrySettings, deadlineAt: () => number | undefined) =>
  Schedule.min([
    Schedule.exponential(Duration.millis(settings.retryBaseDelayMs)),
    Schedule.spaced(Duration.millis(settings.retryMaxDelayMs))
  ]).pipe(
    Schedule.setInputType<AttemptFailure>(),
    Schedule.while(({ attempt, input }) => input.retryable && attempt <= settings.maxRetries),
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.map(Random.next, (random) =>
        input.retryAfterMs !== undefined
          // Never sooner than asked; a little later so a crowd of callers does not return at once.
          ? Duration.millis(Math.ceil(input.retryAfterMs * (1 + 0.1 * random)) + 1)
          : Duration.times(duration, 0.5 + 0.5 * random))
    ),
    Schedule.while(({ duration, now }) => {
      const deadline = deadlineAt()
      return deadline === undefined || now + Duration.toMillis(duration) <= deadline
    })
  )

/** Runs `send` until it answers, fails for good, runs out of attempts or passes the deadline (`retrySchedule`). */
export const withRetries = <A>(
  rate: RateControl.RateControl,
  settings: RetrySettings,
  request: { readonly method: string; readonly url: string },
  send: (signal: AbortSignal) => PromiseLike<A>,
  redact: RedactText = asIs
): Effect.Effect<Attempted<A>, RetriesExhausted> =>
  Effect.suspend(() => {
    const { method, url } = request
    let attempts = 0
    let deadlineAt: number | undefined
    /** One HTTP attempt, admitted by the limiter, which learns of its outcome. */
    const attempt = Effect.suspend(() => {
      attempts += 1
      return rate.admit((admission) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          deadlineAt ??= now + settings.deadlineMs
          const timeoutMs = Math.max(1, Math.min(settings.timeoutMs, deadlineAt - now))
          const result = yield* Effect.tryPromise({ try: (signal) => send(signal), catch: (cause): unknown => cause }).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(timeoutMs),
              orElse: () => Effect.fail(timedOut(method, url, timeoutMs))
            }),
            Effect.catch((cause: unknown) =>
              isAttemptFailure(cause)
                ? Effect.fail(cause)
                : Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.fail(classifyFailure(cause, method, url, at, redact)))
            ),
            Effect.exit
          )
          if (Exit.isSuccess(result)) yield* rate.onSuccess
          else {
            const failure = Cause.findErrorOption(result.cause)
            if (Option.isSome(failure) && failure.value.rateLimited) yield* rate.onRateLimited(admission)
          }
          return yield* result
        })
      )
    })
    return attempt.pipe(
      Effect.retry(retrySchedule(settings, () => deadlineAt)),
      Effect.map((value): Attempted<A> => ({ value, attempts })),
      Effect.mapError((failure): RetriesExhausted => ({ error: failure.error, attempts }))
    )
  })
