/**
 * Handler of the `progress` group: a scan's progress as Server-Sent Events. For a scan this service
 * runs, the stream follows the engine's `ScanProgress` events (`ApiScanRunner`'s snapshot); for a
 * scan run elsewhere it polls the stored scan every second. Either way the first events say where
 * every phase stands, later ones only what changed (`phase` {phase,status}, `stimuli`
 * {phase,arm,done,total}), and `end` {status} closes it — at once for a scan that already ended.
 */
import { Duration, Effect, Option, Schedule, Stream, SubscriptionRef } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ScanRepo } from "@spectral/engine"
import type { Scan } from "@spectral/engine/contracts"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import type { ProgressEvent, StimuliEventData } from "./ApiModels.ts"
import { ApiScanRunner, type ProgressSnapshot, snapshotOf } from "./ApiScanRunner.ts"

/** How often a scan run elsewhere is read back. */
export const progressPollInterval = Duration.seconds(1)

/**
 * What the store tells of a scan run elsewhere (or one that ended before the stream opened): once
 * Observe finished, its baseline measured every stimulus of the eval set the scan's record names.
 */
export const storedStimuli = (scan: Scan): StimuliEventData | undefined => {
  const size = scan.record?.evalSet.size
  return size !== undefined && scan.completedPhases.includes("observe") ? { phase: "observe", arm: "baseline", done: size, total: size } : undefined
}

/** The events that take a client from `previous` (nothing yet: undefined) to `next`. */
export const eventsBetween = (previous: ProgressSnapshot | undefined, next: ProgressSnapshot): ReadonlyArray<ProgressEvent> => {
  const events: Array<ProgressEvent> = []
  for (const phase of next.phases) {
    const before = previous?.phases.find((p) => p.phase === phase.phase)
    if (before === undefined || before.status !== phase.status) events.push({ event: "phase", data: phase })
  }
  const stimuli = next.stimuli
  const seen = previous?.stimuli
  if (
    stimuli !== undefined &&
    (seen === undefined || seen.phase !== stimuli.phase || seen.arm !== stimuli.arm || seen.done !== stimuli.done || seen.total !== stimuli.total)
  ) {
    events.push({ event: "stimuli", data: stimuli })
  }
  if (next.end !== undefined) events.push({ event: "end", data: { status: next.end } })
  return events
}

/** Snapshots as events, up to and including `end`. */
export const progressEvents = <E, R>(snapshots: Stream.Stream<ProgressSnapshot, E, R>): Stream.Stream<ProgressEvent, E, R> =>
  snapshots.pipe(
    Stream.mapAccum(() => undefined as ProgressSnapshot | undefined, (previous, next) => [next, eventsBetween(previous, next)] as const),
    Stream.takeUntil((event) => event.event === "end")
  )

export const ProgressHandlers = HttpApiBuilder.group(
  SpectralApi,
  "progress",
  Effect.fn(function*(handlers) {
    const scans = yield* ScanRepo
    const runner = yield* ApiScanRunner
    return handlers.handle("stream", ({ params }) =>
      Effect.gen(function*() {
        const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
        const scan = yield* stored(scans.get(workspaceId, params.scanId))
        const live = yield* runner.live(workspaceId, scan.id)
        if (live !== undefined) return progressEvents(SubscriptionRef.changes(live.progress))
        // A read that fails (storage away for a moment) is skipped; the next poll tries again.
        const polled = Stream.fromEffectSchedule(
          Effect.option(Effect.map(scans.get(workspaceId, scan.id), (s) => snapshotOf(s, storedStimuli(s)))),
          Schedule.spaced(progressPollInterval)
        ).pipe(Stream.flatMap((read) => Option.isSome(read) ? Stream.succeed(read.value) : Stream.empty))
        return progressEvents(polled)
      }))
  })
)

