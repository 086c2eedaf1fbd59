/**
 * What `spectral scan` shows on stderr while it runs: without a TTY, one line per phase start and
 * end, the baseline's stimuli every tenth and each candidate once; with a TTY, one redrawn bar line
 * per arm with done/total, cleared before the next plain line.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeReporter } from "../src/ScanProgressBar.ts"

const drive = (tty: boolean) =>
  Effect.gen(function*() {
    let out = ""
    const reporter = makeReporter(tty, (text) => void (out += text))
    yield* reporter.report({ _tag: "PhaseStarted", scanId: "s", phase: "observe" })
    for (let done = 1; done <= 40; done++) yield* reporter.report({ _tag: "StimuliMeasured", scanId: "s", phase: "observe", arm: "baseline", done, total: 40 })
    yield* reporter.report({ _tag: "PhaseFinished", scanId: "s", phase: "observe", resumed: false })
    yield* reporter.report({ _tag: "PhaseStarted", scanId: "s", phase: "optimize" })
    for (let done = 1; done <= 10; done++) yield* reporter.report({ _tag: "StimuliMeasured", scanId: "s", phase: "optimize", arm: "cand-1", done, total: 10 })
    yield* reporter.report({ _tag: "PhaseFinished", scanId: "s", phase: "optimize", resumed: false })
    yield* reporter.report({ _tag: "PhaseFinished", scanId: "s", phase: "verdict", resumed: true })
    return out
  })

describe("scan progress on stderr", () => {
  it.effect("without a TTY: plain lines, the baseline every tenth, a candidate once", () =>
    Effect.gen(function*() {
      const lines = (yield* drive(false)).trimEnd().split("\n")
      assert.strictEqual(lines[0], "scan s: observe started")
      const stimuli = lines.filter((l) => l.includes("/40 stimuli"))
      assert.deepStrictEqual(stimuli.map((l) => l.split(" ").at(-2)), ["4/40", "8/40", "12/40", "16/40", "20/40", "24/40", "28/40", "32/40", "36/40", "40/40"])
      assert.match(lines.find((l) => l.includes("observe done"))!, /^scan s: observe done in \d+\.\ds$/)
      assert.deepStrictEqual(lines.filter((l) => l.includes("cand-1")), ["scan s: optimize measured candidate cand-1 on 10 stimuli"])
      assert.strictEqual(lines.at(-1), "scan s: verdict already done (resumed)")
      assert.notInclude(lines.join("\n"), "\r")
    }))

  it.effect("with a TTY: a redrawn bar with done/total, cleared before the next line", () =>
    Effect.gen(function*() {
      const out = yield* drive(true)
      assert.include(out, "\r\u001b[2Kobserve ████████████████████████ 40/40 stimuli")
      assert.include(out, "\r\u001b[2Kobserve ████████████░░░░░░░░░░░░ 20/40 stimuli")
      assert.include(out, "\r\u001b[2Koptimize (cand-1) ")
      assert.include(out, "\r\u001b[2Kscan s: observe done in ")
      assert.notInclude(out, "observe started", "the bar replaces the start line")
    }))
})
