/**
 * A runner that comes back after its shards moved does not double-apply (issue 15), probed from
 * outside on the throwaway PostgreSQL server with two `spectral runner` processes on loopback,
 * counting every model call of both runners in the simulated model's call log
 * (`SPECTRAL_SIMULATED_CALL_LOG`: one line per call, with the process that made it):
 *
 * - an uninterrupted scan of the example team first (its own workspace, the same declaration and
 *   seed): the reference;
 * - then the same scan again, and once the runner carrying it (A) is measuring, A is paused with
 *   SIGSTOP for 10 s at least (the shard-lock expiry is 6 s) and until the other runner (B) has
 *   taken the execution over and finished measuring; then A is let go on with SIGCONT.
 *
 * When A comes back, the cluster may hand the execution back to it (its shards are assigned to it
 * again): whichever runner carries it on finishes it. What a user would notice is checked: the scan
 * completes once, by one runner, with the reference's verdict, final state, decision and answers;
 * one change set, no duplicate traces or events; the calls made exceed the reference's only by the
 * phases in flight at a hand-over, and no call of another phase is made again; and A, back, does
 * not write its stale state over B's: each runner connects as its own database role and a trigger
 * the test installs logs every committed write to the scan's rows with the role that made it, so
 * the log shows the scan row never going back, no phase output rewritten with other content,
 * nothing written once the scan completed, the runners writing in turns (A, B, perhaps A again),
 * never both at once, and no lease written under again once another take held it.
 */
import { assert, describe, it } from "@effect/vitest"
import { ClusterStorage, ClusterTiming, Storage } from "@spectral/adapters"
import { type PgServerInfo, runSql } from "@spectral/adapters/testing"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import type { VerdictResult } from "@spectral/engine/contracts"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { usePgServer } from "./PgServer.ts"
import { deadPort, type ScanProcess, scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

const pgServer = usePgServer()

/** Each runner's database role (a member of the app role): its writes are its own. */
const RUNNERS = [
  { role: "spectral_runner_one", password: "runner-one-password" },
  { role: "spectral_runner_two", password: "runner-two-password" }
] as const
type RunnerId = (typeof RUNNERS)[number]

/**
 * How long A stays paused at least: well past its shard locks' expiry (`ClusterTiming`), and until
 * B has taken the scan over and measured again.
 */
const PAUSE_MS = Duration.toMillis(Duration.fromInputUnsafe(ClusterTiming.sharding.shardLockExpiration)) + 4_000

const asRole = (url: string, runner: RunnerId) => {
  const parsed = new URL(url)
  parsed.username = runner.role
  parsed.password = runner.password
  return parsed.toString()
}

const envOf = (info: PgServerInfo, appUrl: string, callLog: string): Record<string, string | undefined> => ({
  SPECTRAL_LLM: "simulated",
  // Calls take a little while, so the pause lands in the middle of measuring.
  SPECTRAL_SIMULATED_LATENCY_MS: "120",
  SPECTRAL_SIMULATED_CALL_LOG: callLog,
  SPECTRAL_DATABASE_URL: appUrl,
  SPECTRAL_DATABASE_OWNER_URL: info.ownerUrl,
  SPECTRAL_PROGRESS: "lines"
})

/**
 * The runners' roles, and a log of every committed write to the rows of a scan (scan row, phase
 * outputs, events, traces, change sets) with the role that made it: rolled-back writes leave none.
 */
const installWriteLog = (info: PgServerInfo) =>
  Effect.promise(() =>
    runSql(info.adminUrl, [
      ...RUNNERS.map((r) =>
        `DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${r.role}') THEN
             CREATE ROLE ${r.role} LOGIN PASSWORD '${r.password}' NOSUPERUSER NOBYPASSRLS IN ROLE spectral_app;
           END IF;
         END $$`
      ),
      `CREATE SCHEMA IF NOT EXISTS spectral_test`,
      `CREATE TABLE IF NOT EXISTS spectral_test.writes (
         seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         at timestamptz NOT NULL DEFAULT clock_timestamp(),
         writer text NOT NULL,
         tbl text NOT NULL,
         workspace_id text NOT NULL,
         item text,
         doc jsonb,
         digest text
       )`,
      `CREATE OR REPLACE FUNCTION spectral_test.log_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
         SET search_path = pg_catalog AS $$
       BEGIN
         IF TG_TABLE_NAME = 'scans' THEN
           INSERT INTO spectral_test.writes (writer, tbl, workspace_id, item, doc) VALUES (session_user, TG_TABLE_NAME, NEW.workspace_id, NEW.id, NEW.doc - 'record');
         ELSIF TG_TABLE_NAME = 'scan_phase_outputs' THEN
           INSERT INTO spectral_test.writes (writer, tbl, workspace_id, item, digest) VALUES (session_user, TG_TABLE_NAME, NEW.workspace_id, NEW.phase, md5(NEW.output::text));
         ELSE
           INSERT INTO spectral_test.writes (writer, tbl, workspace_id, item) VALUES (session_user, TG_TABLE_NAME, NEW.workspace_id, NEW.id);
         END IF;
         RETURN NULL;
       END $$`,
      ...[["scans", "INSERT OR UPDATE"], ["scan_phase_outputs", "INSERT OR UPDATE"], ["event_outbox", "INSERT"], ["scan_traces", "INSERT"], ["change_sets", "INSERT OR UPDATE"]].flatMap((
        [table, events]
      ) => [
        `DROP TRIGGER IF EXISTS spectral_test_log ON spectral.${table}`,
        `CREATE TRIGGER spectral_test_log AFTER ${events} ON spectral.${table} FOR EACH ROW EXECUTE FUNCTION spectral_test.log_write()`
      ])
    ])
  )

const removeWriteLog = (info: PgServerInfo) =>
  Effect.promise(() =>
    runSql(info.adminUrl, [
      ...["scans", "scan_phase_outputs", "event_outbox", "scan_traces", "change_sets"].map((table) => `DROP TRIGGER IF EXISTS spectral_test_log ON spectral.${table}`),
      `DROP SCHEMA IF EXISTS spectral_test CASCADE`
    ])
  ).pipe(Effect.ignore)

interface Write {
  readonly seq: number
  readonly writer: string
  readonly tbl: string
  readonly item: string | null
  readonly doc: { readonly state?: string; readonly completedPhases?: ReadonlyArray<string>; readonly lease?: { readonly owner: string; readonly take?: string } } | null
  readonly digest: string | null
}

interface ScanEvent {
  readonly id: string
  readonly type: string
}

/** What the administrator sees of a workspace: the write log and the outbox (row-level security does not apply). */
const fromAdmin = (info: PgServerInfo, workspaceId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const writes = yield* sql<Write>`SELECT seq::int AS seq, writer, tbl, item, doc, digest FROM spectral_test.writes
      WHERE workspace_id = ${workspaceId} ORDER BY seq`.withoutTransform
    const events = yield* sql<ScanEvent>`SELECT id, type FROM spectral.event_outbox WHERE workspace_id = ${workspaceId} ORDER BY seq`.withoutTransform
    return { writes, events }
  }).pipe(Effect.provide(Layer.fresh(ClusterStorage.layerUrl(Redacted.make(info.adminUrl)))), Effect.scoped)

/** The workspace's scans, change sets (with their `created` audit rows), one scan's traces and phase outputs. */
const storedIn = (info: PgServerInfo, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const scanRepo = yield* ScanRepo
    const scans = yield* scanRepo.list(workspaceId)
    const changeSetRepo = yield* ChangeSetRepo
    const changeSets = yield* Effect.forEach(
      (yield* changeSetRepo.list(workspaceId)).filter((c) => c.scanId === scanId),
      (c) => Effect.map(changeSetRepo.audit(workspaceId, c.id), (entries) => ({ id: c.id, created: entries.filter((e) => e.action === "created").length }))
    )
    const traces = (yield* (yield* ScanTraceRepo).traces(workspaceId, scanId)).map((t): TraceAnswer => ({
      key: `${t.arm}/${t.stimulusId}/${t.epoch}`,
      answer: JSON.stringify([t.status, t.finalOutput ?? null]).split(workspaceId).join("<workspace>")
    }))
    const outputs = yield* scanRepo.phaseOutputs(workspaceId, scanId)
    return { scans, changeSets, traces, outputs }
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPg({ url: info.appUrl }))), Effect.scoped)

interface TraceAnswer {
  readonly key: string
  readonly answer: string
}

interface Submitted {
  readonly scanId: string
  readonly state: string
  readonly verdict: string | null
}

const spectral = (args: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
  Effect.scoped(Effect.flatMap(startNode(bin, args, env), (process) => process.exit))

/** The call log's lines (the process that made the call, and the digest of its prompt), from line `from` on. */
const callsIn = (log: string, from = 0) =>
  (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line.length > 0) : []).slice(from).map((line) => {
    const [pid, model, digest] = line.split("\t")
    return { pid: Number(pid), call: `${model}/${digest}` }
  })

const tally = (values: ReadonlyArray<string>) => {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

/** Model calls in flight at once in a scan (`spectral scan --concurrency`, passed explicitly below). */
const CONCURRENCY = 4

const PHASES = ["preflight", "observe", "calibrate", "diagnose", "evaluate", "optimize", "safety", "verdict", "complete"] as const

const progressed = (runner: ScanProcess, scanId: string, line: string) => runner.output().includes(`scan ${scanId}: ${line}`)

describe("spectral runner: a runner paused past its shard locks comes back (PostgreSQL server)", () => {
  it.live("the scan completes once, as uninterrupted; the runner that comes back writes nothing over the other's and repeats no recorded model call", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      yield* Effect.acquireRelease(installWriteLog(info), () => removeWriteLog(info))

      const referenceId = `comes-back-reference-${process.pid}`
      const workspaceId = `comes-back-${process.pid}`
      const reference = yield* scratch(smallWorkspace(referenceId))
      const interrupted = yield* scratch(smallWorkspace(workspaceId))
      const callLog = join(interrupted.dir, "calls.log")
      const submitterEnv = envOf(info, info.appUrl, callLog)
      const made = () => callsIn(callLog).length

      const ports = [yield* deadPort, yield* deadPort]
      if (ports[0] === ports[1]) ports[1] = ports[0]! + 1
      const runners = yield* Effect.forEach(RUNNERS, (runner, i) =>
        Effect.gen(function*() {
          const process = yield* startNode(bin, ["runner", "--port", String(ports[i])], envOf(info, asRole(info.appUrl, runner), callLog))
          return { ...runner, process }
        }))
      // Both join before any scan is submitted (an execution would move when the second arrives).
      yield* Effect.forEach(runners, (r) => waitUntil(() => r.process.output().includes(`"ready":true`), `runner ${r.role} to join`, 120_000), { discard: true })

      // Should anything below fail, what each runner printed.
      yield* Effect.addFinalizer((exit) =>
        exit._tag === "Success" ? Effect.void : Effect.sync(() => {
          for (const r of runners) console.error(`--- ${r.role}\n${r.process.output().slice(-12_000)}`)
        }))

      // The reference: the same declaration and seed, uninterrupted.
      const referenceFrom = made()
      const referenceRun = yield* spectral(["scan", "--workspace", reference.file, "--detach", "--request-id", "reference", "--concurrency", String(CONCURRENCY)], submitterEnv)
      assert.strictEqual(referenceRun.code, 0, referenceRun.stdout + referenceRun.stderr)
      const referenceScan = JSON.parse(referenceRun.stdout) as Submitted
      // Which phase made each call: the calls made by the time each phase was seen done (the line is
      // read a little late, so the first calls of the next phase may count to it: both are kept).
      const doneAt = new Map<string, number>()
      yield* waitUntil(() => {
        for (const phase of PHASES) {
          if (!doneAt.has(phase) && runners.some((r) => progressed(r.process, referenceScan.scanId, `${phase} done`))) doneAt.set(phase, made())
        }
        return doneAt.has("complete")
      }, "the reference scan to complete", 300_000)
      const referenceCalls = callsIn(callLog, referenceFrom).map((c) => c.call)
      // The phases each call was made in (one prompt can be sent in several: preflight samples what Observe measures).
      const phasesAt = (i: number): ReadonlyArray<string> => {
        const found = PHASES.findIndex((p) => (doneAt.get(p) ?? Infinity) > referenceFrom + i)
        const phase = found === -1 ? PHASES.length - 1 : found
        return PHASES.slice(phase, phase + 2)
      }
      const phasesOfCall = new Map<string, Set<string>>()
      referenceCalls.forEach((call, i) => phasesOfCall.set(call, new Set([...(phasesOfCall.get(call) ?? []), ...phasesAt(i)])))
      const referenceStored = yield* storedIn(info, referenceId, referenceScan.scanId)
      const referenceLog = yield* fromAdmin(info, referenceId)
      assert.strictEqual(referenceStored.scans[0]?.state, "completed", "the reference completed")

      // The scan whose runner is paused.
      const from = made()
      const detached = yield* spectral(["scan", "--workspace", interrupted.file, "--detach", "--request-id", "paused", "--concurrency", String(CONCURRENCY)], submitterEnv)
      assert.strictEqual(detached.code, 0, detached.stdout + detached.stderr)
      const scanId = (JSON.parse(detached.stdout) as Submitted).scanId
      const callsSince = (index: number, runner?: ScanProcess) => callsIn(callLog, index).filter((c) => runner === undefined || c.pid === runner.pid)
      yield* waitUntil(() => runners.some((r) => progressed(r.process, scanId, "observe started")), "a runner to start measuring", 180_000)
      const a = runners.find((r) => progressed(r.process, scanId, "observe started"))!
      const b = runners.find((r) => r !== a)!
      const measuring = made()
      // A few calls in: measuring takes about 90 calls × 120 ms / 4 at once, seconds to spare on a loaded machine.
      yield* waitUntil(() => callsSince(measuring).length >= 8, "the scan to make model calls", 120_000)
      yield* a.process.kill("SIGSTOP")
      const pausedAt = Date.now()
      const outputOfA = a.process.output()
      assert.isFalse(progressed(a.process, scanId, "observe done"), "paused while measuring")

      // B takes the shards over once A's locks expire, measures again (A had recorded no phase of it) and goes on.
      yield* waitUntil(() => progressed(b.process, scanId, "observe done"), "the other runner to take the scan over and measure", 180_000)
      // Paused well past the shard-lock expiry, whatever it took B.
      const rest = PAUSE_MS - (Date.now() - pausedAt)
      if (rest > 0) yield* Effect.sleep(rest)
      const pausedMs = Date.now() - pausedAt
      assert.strictEqual(a.process.output(), outputOfA, "A stayed paused")
      const resumedAt = made()
      yield* a.process.kill("SIGCONT")

      // Whichever runner carries the execution once A is back (it may move back to A) finishes it.
      const finished = () => runners.filter((r) => progressed(r.process, scanId, "complete done"))
      yield* waitUntil(() => finished().length > 0, "the scan to complete", 300_000)
      // Long enough for A's heartbeat, its shard-lock refresh and its calls in flight (all due at once) to come back.
      yield* Effect.sleep("8 seconds")
      const status = yield* spectral(["scans", "status", scanId], submitterEnv)
      assert.strictEqual(status.code, 0, status.stdout + status.stderr)
      const ended = JSON.parse(status.stdout) as Submitted
      assert.strictEqual(ended.state, "completed")
      assert.strictEqual(ended.verdict, referenceStored.scans[0]?.verdict, "the verdict of the uninterrupted scan")
      assert.deepStrictEqual(finished().map((r) => r.process.output().split(`scan ${scanId}: complete done`).length - 1), [1], "completed by one runner, once")
      assert.isTrue(Option.isNone(yield* Effect.timeoutOption(a.process.exit, "10 millis")), "A is still running")

      const stored = yield* storedIn(info, workspaceId, scanId)
      const log = yield* fromAdmin(info, workspaceId)
      const report = () =>
        JSON.stringify({
          a: a.role,
          writes: log.writes.filter((w) => w.tbl === "scans" || w.tbl === "scan_phase_outputs").map((w) =>
            [w.seq, w.writer, w.tbl, w.item, w.doc?.state, w.doc?.completedPhases?.join(","), w.doc?.lease?.take, w.digest?.slice(0, 8)])
        })

      // One scan, completed, like the reference.
      assert.lengthOf(stored.scans, 1, "one scan")
      const scan = stored.scans[0]!
      const expected = referenceStored.scans[0]!
      assert.deepStrictEqual(
        [scan.state, scan.verdict, scan.completedPhases, scan.blendedScore, scan.changeSetId === undefined, scan.lease],
        [expected.state, expected.verdict, expected.completedPhases, expected.blendedScore, expected.changeSetId === undefined, undefined],
        `the final state of the uninterrupted scan: ${report()}`
      )
      // The same answers and decision (latencies, times and what the response cache saved differ between any two runs, and the checks on them).
      assert.deepStrictEqual([...stored.outputs.keys()].sort(), [...referenceStored.outputs.keys()].sort(), "the phases of the uninterrupted scan saved their outputs")
      const decision = (outputs: ReadonlyMap<string, unknown>) => {
        const verdict = (outputs.get("verdict") as { readonly verdict: VerdictResult }).verdict
        return { outcome: verdict.outcome, delta: verdict.delta }
      }
      assert.deepStrictEqual(decision(stored.outputs), decision(referenceStored.outputs), "the decision of the uninterrupted scan")
      const answers = (traces: ReadonlyArray<TraceAnswer>) => Object.fromEntries(traces.map((t) => [t.key, t.answer]))
      const mine = answers(stored.traces)
      const theirs = answers(referenceStored.traces)
      const differing = Object.keys(theirs).filter((key) => mine[key] !== theirs[key])
      assert.deepStrictEqual(differing, [], "every trace answered as in the uninterrupted scan")

      // Once each: the change set, the traces, the events.
      assert.deepStrictEqual(stored.changeSets.map((c) => c.created), referenceStored.changeSets.map((c) => c.created), "one change set, one created row")
      const traceKeys = (traces: ReadonlyArray<TraceAnswer>) => traces.map((t) => t.key).sort()
      assert.strictEqual(new Set(traceKeys(stored.traces)).size, stored.traces.length, "no duplicate traces")
      assert.deepStrictEqual(traceKeys(stored.traces), traceKeys(referenceStored.traces), "the traces of the uninterrupted scan")
      const eventIds = (events: ReadonlyArray<ScanEvent>, from: string) => events.map((e) => e.id.split(from).join(referenceId)).sort()
      assert.deepStrictEqual(eventIds(log.events, workspaceId), eventIds(referenceLog.events, referenceId), "the events of the uninterrupted scan, once each")
      assert.strictEqual(log.events.filter((e) => e.type === "scan.completed").length, 1, "one scan.completed")

      // The scan row only went forward, and nothing was written to the scan once it completed.
      const rowWrites = log.writes.filter((w) => w.tbl === "scans" && w.item === scanId)
      const regressed = rowWrites.filter((w, i) => i > 0 && !(rowWrites[i - 1]!.doc?.completedPhases ?? []).every((p) => w.doc?.completedPhases?.includes(p)))
      assert.deepStrictEqual(regressed.map((w) => [w.seq, w.writer]), [], `the scan's finished phases never went back: ${report()}`)
      const completedAt = rowWrites.find((w) => w.doc?.state === "completed")?.seq ?? Infinity
      assert.deepStrictEqual(log.writes.filter((w) => w.seq > completedAt && ["scans", "scan_phase_outputs", "scan_traces"].includes(w.tbl)).map((w) => [w.seq, w.writer, w.tbl, w.item]), [], "no write to the scan after it completed (its change set's handlers may go on)")
      assert.strictEqual(rowWrites.filter((w) => w.doc?.state === "completed").length, 1, "completed once")
      // No phase output written twice with different content.
      const versions = [...tally(log.writes.filter((w) => w.tbl === "scan_phase_outputs").map((w) => `${w.item}:${w.digest}`)).keys()].map((k) => k.split(":")[0]!)
      assert.deepStrictEqual(versions.filter((p, i) => versions.indexOf(p) !== i), [], `no phase output rewritten with other content: ${report()}`)

      // One runner writes at a time: B, once it took over, then perhaps A again once the execution
      // moved back to it; never both in turns. Each take writes under a lease of its own, and a lease
      // taken over is never written under again.
      const writers = log.writes.filter((w) => w.writer !== "spectral_app" && w.seq <= completedAt && ["scans", "scan_phase_outputs", "scan_traces"].includes(w.tbl)).map((w) => w.writer)
      const turns = writers.filter((w, i) => i === 0 || writers[i - 1] !== w)
      assert.isAtMost(turns.length, 3, `the runners took turns writing the scan: ${report()}`)
      assert.strictEqual(turns[0], a.role, "A wrote first")
      assert.include(turns, b.role, "B carried the scan on")
      const owners = rowWrites.flatMap((w) => w.doc?.lease === undefined ? [] : [`${w.doc.lease.owner}#${w.doc.lease.take ?? ""}`])
      const leases = owners.filter((o, i) => i === 0 || owners[i - 1] !== o)
      assert.strictEqual(new Set(leases).size, leases.length, `no lease written under again once taken over: ${report()}`)

      // Model calls, against the uninterrupted scan's: more only by the phases in flight at a hand-over
      // (the phases a runner started and did not finish: measuring, for A), and no call of another
      // phase made again. (Optimize's proposals follow measured latencies: a loaded machine may change some.)
      const calls = callsSince(from).map((c) => c.call)
      const count = (text: string, line: string) => text.split(`scan ${scanId}: ${line}`).length - 1
      const inFlight = new Set<string>(runners.flatMap((r) => PHASES.filter((phase) => count(r.process.output(), `${phase} started`) > count(r.process.output(), `${phase} done`))))
      assert.isTrue(inFlight.has("observe"), "A never finished measuring")
      const inFlightCalls = referenceCalls.filter((_, i) => phasesAt(i).some((phase) => inFlight.has(phase))).length
      // (A, back, may have started a round of calls, at most the scan's concurrency, before it learns it lost the scan.)
      assert.isAtMost(
        calls.length,
        referenceCalls.length + inFlightCalls + CONCURRENCY,
        `calls beyond the uninterrupted scan's are the phases in flight (${[...inFlight].join(", ")}: ${inFlightCalls} calls)`
      )
      const inReference = tally(referenceCalls)
      const repeated = [...tally(calls)].flatMap(([call, n]) => Array.from({ length: Math.max(0, n - Math.max(1, inReference.get(call) ?? 0)) }, () => [...(phasesOfCall.get(call) ?? [])]))
      assert.deepStrictEqual(
        repeated.filter((phases) => phases.length > 0 && !phases.some((phase) => inFlight.has(phase))).map((phases) => phases.join("|")),
        [],
        `no call repeated outside the phases in flight at a hand-over (${[...inFlight].join(", ")})`
      )
      console.log(JSON.stringify({
        pausedMs,
        referenceCalls: referenceCalls.length,
        calls: calls.length,
        repeated: repeated.length,
        inFlightCalls,
        inFlight: [...inFlight],
        callsOfAAfterResume: callsSince(resumedAt, a.process).length,
        turns,
        leases: leases.length
      }))
    }).pipe(Effect.scoped), 900_000)
})
