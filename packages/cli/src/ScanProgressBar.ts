/**
 * How `spectral scan` shows a running scan on stderr (stdout keeps the JSON summary): on a TTY one
 * redrawn line — the phase, a bar and stimuli done/total — and elsewhere (a log, a CI job) plain
 * lines: a phase started, the baseline's stimuli at every tenth, each candidate once measured, a
 * phase done with its time.
 * `SPECTRAL_PROGRESS`: `auto` (the default), `bar`, `lines` or `off`.
 */
import { Clock, Config, Effect } from "effect"
import type { ScanProgressEvent, ScanProgressReporter } from "@spectral/engine"

export const ProgressMode = Config.Literals(["auto", "bar", "lines", "off"], "SPECTRAL_PROGRESS").pipe(Config.withDefault("auto" as const))

const BAR_WIDTH = 24

const bar = (done: number, total: number) => {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH)
  return `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`
}

/** A reporter writing to `write` (default: stderr), drawing a bar when `tty`. */
export const makeReporter = (tty: boolean, write: (text: string) => void = (text) => void process.stderr.write(text)): ScanProgressReporter => {
  const started = new Map<string, number>()
  let lastTenth = -1
  let drawn = false
  const line = (text: string) => {
    if (tty && drawn) write("\r\u001b[2K")
    drawn = false
    write(`${text}\n`)
  }
  const report = (event: ScanProgressEvent) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        switch (event._tag) {
          case "PhaseStarted":
            started.set(event.phase, now)
            lastTenth = -1
            if (!tty) line(`scan ${event.scanId}: ${event.phase} started`)
            return
          case "PhaseFinished": {
            const from = started.get(event.phase)
            line(
              event.resumed
                ? `scan ${event.scanId}: ${event.phase} already done (resumed)`
                : `scan ${event.scanId}: ${event.phase} done${from === undefined ? "" : ` in ${((now - from) / 1000).toFixed(1)}s`}`
            )
            return
          }
          case "StimuliMeasured": {
            const label = `${event.phase}${event.arm === "baseline" ? "" : ` (${event.arm})`}`
            if (tty) {
              write(`\r\u001b[2K${label} ${bar(event.done, event.total)} ${event.done}/${event.total} stimuli`)
              drawn = true
              return
            }
            // A candidate's arm (Optimize, many of them) is one line when measured; the baseline every tenth.
            if (event.arm !== "baseline") {
              if (event.done === event.total) line(`scan ${event.scanId}: ${event.phase} measured candidate ${event.arm} on ${event.total} stimuli`)
              return
            }
            const tenth = Math.floor((event.done / Math.max(1, event.total)) * 10)
            if (tenth !== lastTenth || event.done === event.total) {
              lastTenth = tenth
              if (event.done === event.total || tenth > 0) line(`scan ${event.scanId}: ${label} ${event.done}/${event.total} stimuli`)
            }
            if (event.done === event.total) lastTenth = -1
            return
          }
        }
      }))
  return { enabled: true, report }
}

/** The reporter `SPECTRAL_PROGRESS` asks for, or none. */
export const progressReporter = Effect.map(ProgressMode, (mode): ScanProgressReporter | undefined => {
  if (mode === "off") return undefined
  const tty = mode === "bar" || (mode === "auto" && process.stderr.isTTY === true)
  return makeReporter(tty)
})
