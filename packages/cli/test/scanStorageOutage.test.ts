/**
 * The database drops every connection of the engine's role for a few seconds in the middle of a
 * scan (`spectral scan` as a separate process on the throwaway PostgreSQL server): the role may not
 * open a connection (its connection limit is 0: "too many connections for role", as on a server out
 * of connections) and its backends are terminated, then it may again. The scan waits the outage out — the
 * phase that failed on it runs again — and completes, with one change set and no duplicate traces.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { type PgServerInfo, runSql } from "@spectral/adapters/testing"
import { ChangeSetRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { usePgServer } from "./PgServer.ts"
import { scratch, smallWorkspace, startScan, waitUntil } from "./ScanProcesses.ts"

const pgServer = usePgServer()

const env = (info: PgServerInfo): Record<string, string | undefined> => ({
  SPECTRAL_LLM: "simulated",
  SPECTRAL_DATABASE_URL: info.appUrl,
  SPECTRAL_DATABASE_OWNER_URL: undefined,
  SPECTRAL_PROGRESS: "lines"
})

const OUTAGE_MS = 4_000

describe("spectral scan through a database outage (PostgreSQL server)", () => {
  it.live("every connection dropped for a few seconds mid-scan: the scan waits, goes on and completes", () =>
    Effect.gen(function*() {
      const info = pgServer()
      if (info === undefined) return
      const workspaceId = `outage-tax-prep-${process.pid}`
      const { file } = yield* scratch({ ...smallWorkspace(workspaceId), framework: { ...smallWorkspace(workspaceId).framework, evalSetSize: 80 } })
      const scan = yield* startScan(file, env(info))
      yield* waitUntil(() => scan.output().includes(": observe started"), "the scan to start measuring", 120_000)

      const started = Date.now()
      yield* Effect.promise(() =>
        runSql(info.adminUrl, [
          "ALTER ROLE spectral_app CONNECTION LIMIT 0",
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'spectral_app'"
        ]))
      yield* Effect.sleep(OUTAGE_MS)
      yield* Effect.promise(() => runSql(info.adminUrl, ["ALTER ROLE spectral_app CONNECTION LIMIT -1"]))

      const exited = yield* scan.exit
      assert.strictEqual(exited.code, 0, exited.stdout + exited.stderr)
      assert.isAbove(Date.now() - started, OUTAGE_MS - 100)
      const summary = JSON.parse(exited.stdout) as { readonly scanId: string; readonly state: string }
      assert.strictEqual(summary.state, "completed")
      const restarts = exited.stderr.split("\n").filter((line) => line.endsWith(" started")).length
      assert.isAbove(restarts, 9, `a phase that failed on the outage ran again:\n${exited.stderr}`)

      const stored = yield* Effect.gen(function*() {
        const changeSets = (yield* (yield* ChangeSetRepo).list(workspaceId)).filter((c) => c.scanId === summary.scanId)
        const traces = yield* (yield* ScanTraceRepo).traces(workspaceId, summary.scanId)
        const scans = yield* (yield* ScanRepo).list(workspaceId)
        return { changeSets, scans, traces: traces.length, distinct: new Set(traces.map((t) => `${t.arm}/${t.stimulusId}/${t.epoch}`)).size }
      }).pipe(Effect.provide(Layer.fresh(Storage.layerPg({ url: info.appUrl }))), Effect.scoped)
      assert.lengthOf(stored.scans, 1)
      assert.lengthOf(stored.changeSets, 1)
      assert.strictEqual(stored.traces, stored.distinct, "no duplicate traces")
    }).pipe(
      Effect.ensuring(Effect.promise(() => {
        const info = pgServer()
        return info === undefined ? Promise.resolve() : runSql(info.adminUrl, ["ALTER ROLE spectral_app CONNECTION LIMIT -1"])
      })),
      Effect.scoped
    ), 300_000)
})
