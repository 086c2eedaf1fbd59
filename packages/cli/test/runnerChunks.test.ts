/**
 * A scan's measurements in chunks over runner processes (`spectral runner` with
 * `SPECTRAL_MEASURE_CHUNK`), probed from outside on the throwaway PostgreSQL server, counting every
 * model call of both runners in the simulated model's call log (`SPECTRAL_SIMULATED_CALL_LOG`):
 *
 * - an uninterrupted scan's model calls are made by both runners (its chunks spread), and its
 *   ledger counts exactly the calls made;
 * - the runner carrying a second scan of the same declaration is killed with SIGKILL in the middle
 *   of Observe: the other runner completes the scan with the same verdict, one change set and no
 *   duplicate traces, and the chunks whose results were recorded are not measured again — the
 *   calls made in all exceed the uninterrupted scan's by at most the chunks in flight on the
 *   killed runner, and the ledger never counts more than was made.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import type { PgServerInfo } from "@spectral/adapters/testing"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import { Effect, Layer, Schedule } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { usePgServer } from "./PgServer.ts"
import { scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

const pgServer = usePgServer()

/** Stimuli per chunk and chunks out at once: the most calls a killed runner's chunks had in flight. */
const CHUNK = 3
const IN_FLIGHT = 2
/** The example team's calls per stimulus while measuring: two agents and the judge. */
const CALLS_PER_STIMULUS = 3

const ports = (() => {
  const base = 40_000 + (process.pid % 2_000) * 3
  return [base, base + 1, base + 2] as const
})()

const env = (info: PgServerInfo, callLog: string): Record<string, string | undefined> => ({
  SPECTRAL_LLM: "simulated",
  SPECTRAL_DATABASE_URL: info.appUrl,
  SPECTRAL_DATABASE_OWNER_URL: info.ownerUrl,
  SPECTRAL_PROGRESS: "lines",
  SPECTRAL_MEASURE_CHUNK: String(CHUNK),
  SPECTRAL_MEASURE_CHUNKS_IN_FLIGHT: String(IN_FLIGHT),
  SPECTRAL_SIMULATED_LATENCY_MS: "60",
  SPECTRAL_SIMULATED_CALL_LOG: callLog
})

/** The call log's lines (`pid`, model, prompt digest), from line `from` on. */
const calls = (log: string, from = 0) =>
  (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line.length > 0) : []).slice(from).map((line) => {
    const [pid, model, digest] = line.split("\t")
    return { pid: Number(pid), model: model!, digest: digest! }
  })

const parse = <A>(text: string): A => JSON.parse(text) as A

interface Status {
  readonly scanId: string
  readonly state: string
  readonly verdict: string | null
}

/** The stored scan once it has ended (the runner prints `complete done` just before the row's last write). */
const endedIn = (info: PgServerInfo, workspaceId: string, scanId: string) =>
  storedIn(info, workspaceId, scanId).pipe(
    Effect.repeat({ schedule: Schedule.spaced("250 millis"), until: (stored) => stored.scan.state !== "running" && stored.scan.state !== "scheduled" }),
    Effect.timeout("60 seconds")
  )

const storedIn = (info: PgServerInfo, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const scan = yield* (yield* ScanRepo).get(workspaceId, scanId)
    const changeSets = (yield* (yield* ChangeSetRepo).list(workspaceId)).filter((c) => c.scanId === scanId)
    const traces = yield* (yield* ScanTraceRepo).traces(workspaceId, scanId)
    return { scan, changeSets: changeSets.length, traces: traces.length, distinctTraces: new Set(traces.map((t) => t.id)).size }
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPg({ url: info.appUrl }))), Effect.scoped)

describe("spectral runner: a scan's measurements in chunks over runners (PostgreSQL server)", () => {
  it.live("spread over both runners; a runner killed mid-Observe or mid-tournament costs at most its chunks in flight", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceId = `runner-chunks-${process.pid}`
      const { dir, file } = yield* scratch(smallWorkspace(workspaceId))
      const log = join(dir, "calls.log")
      const startRunner = (port: number) =>
        Effect.gen(function*() {
          const runner = yield* startNode(bin, ["runner", "--port", String(port)], env(info, log))
          yield* waitUntil(() => runner.output().includes(`"ready":true`), `runner ${port} to join`, 90_000)
          return runner
        })
      const runners = yield* Effect.forEach(ports.slice(0, 2), startRunner)
      // Executions move when a runner joins late: let the shards settle first.
      yield* Effect.sleep("4 seconds")
      const spectral = (args: ReadonlyArray<string>) => Effect.scoped(Effect.flatMap(startNode(bin, args, env(info, log)), (p) => p.exit))

      const whole = yield* spectral(["scan", "--workspace", file, "--submit", "--request-id", "whole"])
      assert.strictEqual(whole.code, 0, whole.stdout + whole.stderr)
      const reference = parse<Status>(whole.stdout)
      assert.strictEqual(reference.state, "completed")
      const referenceCalls = calls(log)
      const byRunner = new Set(referenceCalls.map((c) => c.pid))
      assert.deepStrictEqual([...byRunner].sort(), runners.map((r) => r.pid).sort(), "both runners made model calls of the one scan")
      const stored = yield* storedIn(info, workspaceId, reference.scanId)
      assert.strictEqual(stored.scan.spend?.total.calls, referenceCalls.length, "the ledger counts every call the chunks made, once")
      assert.isAbove(stored.scan.spend?.settledBlocks?.length ?? 0, 5, "the baseline of 30 stimuli went out in chunks")

      // The same declaration again; its carrier is killed once half of Observe's calls are made (more
      // than the killed runner's chunks can have in flight: measuring Observe again would show).
      const before = referenceCalls.length
      const observeCalls = 30 * CALLS_PER_STIMULUS
      const submitted = yield* spectral(["scan", "--workspace", file, "--detach", "--request-id", "killed"])
      assert.strictEqual(submitted.code, 0, submitted.stdout + submitted.stderr)
      const second = parse<Status>(submitted.stdout)
      yield* waitUntil(() => calls(log, before).length >= observeCalls / 2, "half of Observe's calls", 120_000)
      const carrier = runners.find((r) => r.output().includes(`scan ${second.scanId}: observe started`))
      assert.isDefined(carrier, "a runner carries the second scan")
      const madeAtKill = calls(log, before).length
      yield* carrier!.kill("SIGKILL")
      assert.isBelow(madeAtKill, observeCalls, "killed in the middle of Observe")
      const survivor = runners.find((r) => r !== carrier)!
      yield* waitUntil(() => survivor.output().includes(`scan ${second.scanId}: complete done`), "the other runner to finish the scan", 180_000)

      const after = yield* endedIn(info, workspaceId, second.scanId)
      assert.strictEqual(after.scan.state, "completed")
      assert.strictEqual(after.scan.verdict, reference.verdict, "the verdict of the uninterrupted scan of the same declaration and seed")
      assert.strictEqual(after.changeSets, 1, "one change set")
      assert.strictEqual(after.traces, after.distinctTraces, "no duplicate traces")
      assert.strictEqual(after.traces, stored.traces, "the traces of the uninterrupted scan")
      const made = calls(log, before).length
      const inFlightOnKilled = IN_FLIGHT * CHUNK * CALLS_PER_STIMULUS
      assert.isAtMost(made, before + inFlightOnKilled, `recorded chunks are not measured again (${made} calls against ${before} uninterrupted)`)
      assert.isAtMost(after.scan.spend?.total.calls ?? Infinity, made, "the ledger never counts more calls than were made")
      assert.isAtLeast(after.scan.spend?.total.calls ?? 0, before, "and counts at least the calls of the scan's finished work")

      // A third runner joins; the carrier of a third scan is killed in the middle of the tournament.
      const third = yield* startRunner(ports[2])
      yield* Effect.sleep("4 seconds")
      const live = [survivor, third]
      const start3 = calls(log).length
      const submitted3 = yield* spectral(["scan", "--workspace", file, "--detach", "--request-id", "killed-in-optimize"])
      assert.strictEqual(submitted3.code, 0, submitted3.stdout + submitted3.stderr)
      const scan3 = parse<Status>(submitted3.stdout)
      const strategyCalls = Object.entries(stored.scan.spend?.byPurpose ?? {}).filter(([purpose]) => purpose.startsWith("strategy:")).reduce((n, [, spend]) => n + spend.calls, 0)
      const optimizeCalls = stored.scan.spend?.byPhase["optimize"]?.calls ?? 0
      // Repeated at most: each candidate's chunks in flight on the killed runner, and the proposals.
      const candidates = 3
      const repeatBound = candidates * IN_FLIGHT * CHUNK * CALLS_PER_STIMULUS + strategyCalls
      assert.isAbove(optimizeCalls, 2 * repeatBound, "the tournament makes more calls than a kill may repeat")
      const beforeOptimize = before - optimizeCalls
      yield* waitUntil(() => calls(log, start3).length >= beforeOptimize + optimizeCalls / 2, "half of the tournament's calls", 180_000)
      const carrier3 = live.find((r) => r.output().includes(`scan ${scan3.scanId}: optimize started`))
      assert.isDefined(carrier3, "a runner carries the third scan, in optimize")
      assert.notInclude(carrier3!.output(), `scan ${scan3.scanId}: optimize done`, "killed in the middle of the tournament")
      yield* carrier3!.kill("SIGKILL")
      const other = live.find((r) => r !== carrier3)!
      yield* waitUntil(() => other.output().includes(`scan ${scan3.scanId}: complete done`), "the last runner to finish the third scan", 180_000)
      const after3 = yield* endedIn(info, workspaceId, scan3.scanId)
      assert.strictEqual(after3.scan.state, "completed")
      assert.strictEqual(after3.scan.verdict, reference.verdict)
      assert.strictEqual(after3.changeSets, 1)
      assert.strictEqual(after3.traces, after3.distinctTraces, "no duplicate traces")
      assert.strictEqual(after3.traces, stored.traces)
      const made3 = calls(log, start3).length
      assert.isAtMost(made3, before + repeatBound, `recorded tournament chunks are not measured again (${made3} calls against ${before} uninterrupted)`)
      assert.isAtMost(after3.scan.spend?.total.calls ?? Infinity, made3)
    }).pipe(Effect.scoped), 900_000)
})
