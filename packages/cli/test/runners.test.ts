/**
 * Scans on runner processes (`spectral runner`), probed from outside on the throwaway PostgreSQL
 * server with two runners on loopback and separate `spectral scan --submit | --detach` processes:
 *
 * - a submitted scan completes on a runner (the engine's workflow suite checks it reaches the
 *   verdict and model calls of an in-process scan);
 * - submitting the same request id again joins that scan: one scan, one change set;
 * - the runner carrying a scan is killed with SIGKILL mid-scan: the other runner takes its shards
 *   over and the scan completes, with the same verdict, one change set and no duplicate traces;
 * - bad input: a runner with no PostgreSQL server configured, a runner on a database behind the
 *   engine's migrations, and `scans status` of an id no scan has, exit 2 naming what is wrong.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { type PgServerInfo, runSql } from "@spectral/adapters/testing"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import { usePgServer } from "./PgServer.ts"
import { scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

const pgServer = usePgServer()

const serverEnv = (info: PgServerInfo): Record<string, string | undefined> => ({
  SPECTRAL_LLM: "simulated",
  SPECTRAL_DATABASE_URL: info.appUrl,
  SPECTRAL_DATABASE_OWNER_URL: info.ownerUrl,
  SPECTRAL_PROGRESS: "lines"
})

/** Two free-looking loopback ports for this run's runners. */
const ports = (() => {
  const base = 36_000 + (process.pid % 2_000) * 2
  return [base, base + 1] as const
})()

const startRunner = (info: PgServerInfo, port: number) =>
  Effect.gen(function*() {
    const runner = yield* startNode(bin, ["runner", "--port", String(port)], serverEnv(info))
    yield* waitUntil(() => runner.output().includes(`"ready":true`), `runner ${port} to join`, 60_000)
    return runner
  })

const spectral = (args: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
  Effect.scoped(Effect.flatMap(startNode(bin, args, env), (process) => process.exit))

interface Status {
  readonly scanId: string
  readonly state: string
  readonly verdict: string | null
  readonly changeSetId: string | null
  readonly submission: { readonly requestId: string } | null
}

const parse = <A>(text: string): A => JSON.parse(text) as A

const storedIn = (info: PgServerInfo, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const scans = yield* (yield* ScanRepo).list(workspaceId)
    const changeSets = (yield* (yield* ChangeSetRepo).list(workspaceId)).filter((c) => c.scanId === scanId)
    const traces = yield* (yield* ScanTraceRepo).traces(workspaceId, scanId)
    const keys = traces.map((t) => `${t.arm}/${t.stimulusId}/${t.epoch}`)
    return { scans, changeSets, traces: traces.length, distinctTraces: new Set(keys).size }
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPg({ url: info.appUrl }))), Effect.scoped)

describe("spectral runner: scans on runner processes (PostgreSQL server)", () => {
  it.live("a submitted scan completes; the same request again is the same scan; a runner killed mid-scan hands it over", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceId = `runners-tax-prep-${process.pid}`
      const { file } = yield* scratch(smallWorkspace(workspaceId))

      const runners = [yield* startRunner(info, ports[0]), yield* startRunner(info, ports[1])]

      const submitted = yield* spectral(["scan", "--workspace", file, "--submit", "--request-id", "first"], serverEnv(info))
      assert.strictEqual(submitted.code, 0, submitted.stdout + submitted.stderr)
      const first = parse<Status>(submitted.stdout)
      assert.strictEqual(first.state, "completed")
      assert.include(["go", "caution", "no_go"], first.verdict)
      assert.strictEqual(first.submission?.requestId, "first")
      assert.include(submitted.stderr, `scan ${first.scanId}: verdict done`, "phases followed on stderr")

      const again = yield* spectral(["scan", "--workspace", file, "--detach", "--request-id", "first"], serverEnv(info))
      assert.strictEqual(again.code, 0, again.stdout + again.stderr)
      assert.strictEqual(parse<Status>(again.stdout).scanId, first.scanId, "the same request joins the same scan")
      const once = yield* storedIn(info, workspaceId, first.scanId)
      assert.lengthOf(once.scans, 1, "one scan")
      assert.lengthOf(once.changeSets, 1, "one change set")

      // A second scan; the runner carrying it is killed with SIGKILL once it is measuring.
      const detached = yield* spectral(["scan", "--workspace", file, "--detach", "--request-id", "second"], serverEnv(info))
      assert.strictEqual(detached.code, 0, detached.stdout + detached.stderr)
      const second = parse<Status>(detached.stdout)
      assert.notStrictEqual(second.scanId, first.scanId)
      yield* waitUntil(() => runners.some((r) => r.output().includes(`scan ${second.scanId}: observe started`)), "a runner to start measuring", 60_000)
      const carrier = runners.find((r) => r.output().includes(`scan ${second.scanId}: observe started`))!
      const survivor = runners.find((r) => r !== carrier)!
      yield* carrier.kill("SIGKILL")
      assert.strictEqual((yield* carrier.exit).signal, "SIGKILL")

      yield* waitUntil(() => survivor.output().includes(`scan ${second.scanId}: complete done`), "the other runner to finish the scan", 120_000)
      const status = yield* spectral(["scans", "status", second.scanId], serverEnv(info))
      assert.strictEqual(status.code, 0, status.stdout + status.stderr)
      const ended = parse<Status>(status.stdout)
      assert.strictEqual(ended.state, "completed")
      assert.strictEqual(ended.verdict, first.verdict, "the verdict of the uninterrupted scan of the same declaration and seed")
      const after = yield* storedIn(info, workspaceId, second.scanId)
      assert.lengthOf(after.changeSets, 1, "one change set for the handed-over scan")
      assert.strictEqual(after.traces, after.distinctTraces, "no duplicate traces")
      assert.isAbove(after.traces, 0)
    }).pipe(Effect.scoped), 400_000)

  it.live("bad input: a runner without a PostgreSQL server or on a database behind the migrations, and the status of a scan that does not exist, exit 2 naming it", () =>
    Effect.gen(function*() {
      const alone = yield* spectral(["runner", "--port", String(ports[0] + 2)], { SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined })
      assert.strictEqual(alone.code, 2, alone.stdout + alone.stderr)
      assert.include(parse<{ readonly error: string }>(alone.stdout).error, "SPECTRAL_DATABASE_URL")

      const info = pgServer()
      if (info === undefined) return
      // A database the engine's migrations never ran on: the runner refuses to join, naming both numbers.
      const behind = `spectral_behind_${process.pid}`
      yield* Effect.promise(() => runSql(info.adminUrl, [`DROP DATABASE IF EXISTS ${behind}`, `CREATE DATABASE ${behind}`]))
      const urlOf = (url: string) => url.replace(/\/[^/?]+(\?|$)/, `/${behind}$1`)
      const refused = yield* spectral(["runner", "--port", String(ports[0] + 3)], {
        ...serverEnv(info),
        SPECTRAL_DATABASE_URL: urlOf(info.appUrl),
        SPECTRAL_DATABASE_OWNER_URL: undefined,
        SPECTRAL_CLUSTER_DATABASE_URL: urlOf(info.adminUrl)
      })
      assert.strictEqual(refused.code, 2, refused.stdout + refused.stderr)
      assert.match(parse<{ readonly error: string }>(refused.stdout).error, /the database is at migration 0, this (engine|build) needs \d+: run `spectral db migrate`/)

      const missing = yield* spectral(["scans", "status", "nowhere:scan:41"], serverEnv(info))
      assert.strictEqual(missing.code, 2, missing.stdout + missing.stderr)
      assert.include(parse<{ readonly error: string }>(missing.stdout).error, "no scan nowhere:scan:41 in workspace nowhere")
    }).pipe(Effect.scoped), 300_000)
})
