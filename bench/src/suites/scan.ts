/**
 * `npm run bench -- scan`: the cost of a whole scan per stimulus and per model call, and how it
 * grows with the eval set, with the SIMULATED model (these figures measure the engine's own
 * overhead, not model quality).
 *
 * - Sizes 1,000, 5,000 and 20,000 stimuli (`--quick`: 200; `SPECTRAL_BENCH_SCAN_SIZES=1000,5000`
 *   picks others) on the in-memory store, embedded Postgres (PGlite) and a throwaway PostgreSQL
 *   server (when its binaries exist; `SPECTRAL_BENCH_SCAN_STORES=memory,server` picks stores). Each
 *   run is its own process (`src/scanRun.ts`), so its peak RSS and retained heap are its own, on a
 *   store of its own (on the server, a new database), so every store runs the same first scan.
 *   Reported per stimulus and per model call: wall ms, CPU ms (all threads: GC included), retained KiB after GC (the store
 *   still open: on the memory store this includes every stored trace and result), peak RSS, calls
 *   per stimulus; and the ratio of per-stimulus wall time at the largest size to that at the
 *   smallest (linear = 1); and whether every store made the same calls and reached the same verdict
 *   at each size (`stores_agree_<size>`: 1 when they did).
 * - promptfoo side by side when it is installed (`PROMPTFOO_BIN`, or `promptfoo` on the PATH or in
 *   node_modules/.bin): its echo provider, one assertion per test, concurrency 32, at the same sizes,
 *   timed with /usr/bin/time; per test = the marginal cost between the smallest and largest size.
 *   Otherwise the brief's reference (≈ 4.1 ms and 85 KiB per test case) is printed, marked as such.
 * - 50 ms simulated latency at concurrency 32: wall time against the ideal bound
 *   calls × latency ÷ concurrency (target within 1.2×).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Effect } from "effect"
import { findPostgresBinaries, type PgServerInfo, runSql, startThrowawayPostgres } from "@spectral/adapters/testing"
import type { ScanRunFigures } from "../scanRun.ts"
import type { Suite } from "../Suite.ts"

const scanRun = fileURLToPath(new URL("../scanRun.ts", import.meta.url))

/**
 * A new, empty database on the throwaway server for one run, and the run's env naming it. Every
 * server run gets its own, as every memory and PGlite run gets a new store: on one shared database
 * each later run would be a re-scan of the same workspace (its baseline the change set an earlier
 * run recorded), a different scan with other calls and another verdict than the other stores'.
 */
const freshDatabase = (server: PgServerInfo, name: string): Effect.Effect<Record<string, string>> =>
  Effect.promise(async () => {
    await runSql(server.adminUrl, [`CREATE DATABASE ${name} OWNER spectral_owner`])
    const on = (url: string) => {
      const at = new URL(url)
      at.pathname = `/${name}`
      return at.toString()
    }
    return { SPECTRAL_BENCH_PG_URL: on(server.appUrl), SPECTRAL_BENCH_PG_OWNER_URL: on(server.ownerUrl) }
  })

const runInProcess = (store: string, size: number, env: Record<string, string>, latency = 0): ScanRunFigures => {
  const out = execFileSync(process.execPath, ["--expose-gc", "--conditions=@spectral/source", "--max-old-space-size=8192", scanRun, "--store", store, "--size", String(size), "--latency", String(latency)], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 1 << 24,
    stdio: ["ignore", "pipe", "inherit"]
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as ScanRunFigures
}

const promptfooBin = (): string | undefined => {
  const fromEnv = process.env["PROMPTFOO_BIN"]
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv
  const local = fileURLToPath(new URL("../../../node_modules/.bin/promptfoo", import.meta.url))
  if (existsSync(local)) return local
  const which = spawnSync("sh", ["-c", "command -v promptfoo"], { encoding: "utf8" })
  return which.status === 0 && which.stdout.trim() !== "" ? which.stdout.trim() : undefined
}

/** promptfoo eval of N tests (echo provider, one assertion, concurrency 32): wall ms and peak RSS. */
const runPromptfoo = (bin: string, size: number): { readonly wallMs: number; readonly peakRssMiB: number } => {
  const dir = mkdtempSync(join(tmpdir(), "spectral-promptfoo-"))
  const tests = Array.from({ length: size }, (_, i) => `  - vars: { q: "Order ${i}: ${2 + (i % 7)} units at ${3 + (i % 11)} dollars each" }\n    assert:\n      - type: contains\n        value: "Order ${i}"`).join("\n")
  writeFileSync(join(dir, "promptfooconfig.yaml"), `prompts:\n  - "{{q}}"\nproviders:\n  - echo\ntests:\n${tests}\n`)
  const started = performance.now()
  const timed = spawnSync("/usr/bin/time", ["-f", "%M", bin, "eval", "-c", join(dir, "promptfooconfig.yaml"), "-j", "32", "--no-cache", "--no-write", "--no-table", "--no-progress-bar"], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PROMPTFOO_DISABLE_TELEMETRY: "1", PROMPTFOO_DISABLE_UPDATE: "1", PROMPTFOO_CONFIG_DIR: join(dir, ".promptfoo") },
    maxBuffer: 1 << 26
  })
  const wallMs = performance.now() - started
  rmSync(dir, { recursive: true, force: true })
  const kib = Number(timed.stderr.trim().split("\n").at(-1))
  return { wallMs, peakRssMiB: Number.isFinite(kib) ? kib / 1024 : Number.NaN }
}

const pad = (s: string | number, n: number) => String(s).padEnd(n)
const fixed = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "–")

export const scanSuite: Suite = {
  name: "scan",
  description: "a whole scan per stimulus and per model call at 1k/5k/20k stimuli on memory, PGlite and a Postgres server (simulated model)",
  run: (options) =>
    Effect.gen(function*() {
      const sizes = (process.env["SPECTRAL_BENCH_SCAN_SIZES"]?.split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0)) ??
        (options.quick ? [200] : [1000, 5000, 20000])
      const wantedStores = process.env["SPECTRAL_BENCH_SCAN_STORES"]?.split(",") ?? ["memory", "pglite", "server"]
      const figures: Record<string, number> = {}
      const runs: Array<ScanRunFigures> = []
      let server: PgServerInfo | undefined
      let stopServer = () => {}
      if (wantedStores.includes("server")) {
        const bin = findPostgresBinaries()
        if (bin === undefined) yield* Console.log("(no PostgreSQL binaries under /usr/lib/postgresql: the server rows are skipped)")
        else {
          const started = yield* Effect.promise(() => startThrowawayPostgres(bin))
          server = started.info
          stopServer = started.stop
        }
      }
      yield* Effect.gen(function*() {
        for (const store of wantedStores) {
          if (store === "server" && server === undefined) continue
          for (const size of sizes) {
            const env = store === "server" && server !== undefined ? yield* freshDatabase(server, `spectral_bench_${runs.length}_${size}`) : {}
            const run = runInProcess(store, size, env)
            runs.push(run)
            yield* Console.log(`  ${store} ${size}: ${fixed(run.wallMs / size, 3)} ms/stimulus, ${fixed(run.peakRssMiB, 0)} MiB peak`)
          }
        }
      }).pipe(Effect.ensuring(Effect.sync(() => stopServer())))

      yield* Console.log("\nzero latency (simulated model), concurrency 32, one process per run:")
      yield* Console.log(`${pad("store", 7)} ${pad("stimuli", 8)} ${pad("calls/st", 9)} ${pad("wall ms/st", 11)} ${pad("cpu ms/st", 10)} ${pad("KiB/st", 8)} ${pad("µs/call", 8)} ${pad("cpu µs/call", 12)} ${pad("KiB/call", 9)} ${pad("peak MiB", 9)} verdict`)
      for (const r of runs) {
        const perCall = r.calls / r.stimuli
        yield* Console.log(`${pad(r.store, 7)} ${pad(r.stimuli, 8)} ${pad(fixed(perCall, 1), 9)} ${pad(fixed(r.wallMs / r.stimuli, 3), 11)} ${pad(fixed(r.cpuMs / r.stimuli, 3), 10)} ${pad(fixed(r.retainedKiB / r.stimuli, 1), 8)} ${pad(fixed((r.wallMs * 1000) / r.calls, 1), 8)} ${pad(fixed((r.cpuMs * 1000) / r.calls, 1), 12)} ${pad(fixed(r.retainedKiB / r.calls, 2), 9)} ${pad(fixed(r.peakRssMiB, 0), 9)} ${r.verdict}`)
        const key = `${r.store}_${r.stimuli}`
        figures[`${key}_wall_ms_per_stimulus`] = r.wallMs / r.stimuli
        figures[`${key}_cpu_ms_per_stimulus`] = r.cpuMs / r.stimuli
        figures[`${key}_retained_kib_per_stimulus`] = r.retainedKiB / r.stimuli
        figures[`${key}_wall_us_per_call`] = (r.wallMs * 1000) / r.calls
        figures[`${key}_cpu_us_per_call`] = (r.cpuMs * 1000) / r.calls
        figures[`${key}_retained_kib_per_call`] = r.retainedKiB / r.calls
        figures[`${key}_calls_per_stimulus`] = perCall
        figures[`${key}_peak_rss_mib`] = r.peakRssMiB
      }
      const smallest = Math.min(...sizes)
      const largest = Math.max(...sizes)
      if (largest > smallest) {
        yield* Console.log(`\nper-stimulus wall time at ${largest} ÷ at ${smallest} (linear = 1, target ≤ 1.2):`)
        for (const store of new Set(runs.map((r) => r.store))) {
          const a = runs.find((r) => r.store === store && r.stimuli === smallest)
          const b = runs.find((r) => r.store === store && r.stimuli === largest)
          if (a === undefined || b === undefined) continue
          const ratio = (b.wallMs / b.stimuli) / (a.wallMs / a.stimuli)
          figures[`${store}_growth_ratio`] = ratio
          yield* Console.log(`  ${pad(store, 7)} ${ratio.toFixed(2)}×`)
        }
      }

      // The same scan on every store: the same calls and verdict at each size (the store must not
      // change what a scan measures or decides).
      if (new Set(runs.map((r) => r.store)).size > 1) {
        yield* Console.log("\nthe same scan on every store (calls, verdict):")
        for (const size of new Set(sizes)) {
          const atSize = runs.filter((r) => r.stimuli === size)
          const agree = atSize.every((r) => r.calls === atSize[0]!.calls && r.verdict === atSize[0]!.verdict)
          figures[`stores_agree_${size}`] = agree ? 1 : 0
          yield* Console.log(`  ${pad(size, 8)} ${agree ? "agree" : "DIFFER"}: ${atSize.map((r) => `${r.store} ${r.calls} ${r.verdict}`).join(", ")}`)
        }
      }

      // promptfoo side by side, or the brief's reference.
      const bin = promptfooBin()
      const memoryRuns = runs.filter((r) => r.store === "memory")
      const ours = memoryRuns.length >= 2
        ? (() => {
          const a = memoryRuns.find((r) => r.stimuli === smallest)!
          const b = memoryRuns.find((r) => r.stimuli === largest)!
          return { msPerCall: b.wallMs / b.calls, kibPerCall: b.retainedKiB / b.calls, msPerStimulus: (b.wallMs - a.wallMs) / (b.stimuli - a.stimuli), kibPerStimulus: b.retainedKiB / b.stimuli }
        })()
        : memoryRuns[0] === undefined
        ? undefined
        : { msPerCall: memoryRuns[0].wallMs / memoryRuns[0].calls, kibPerCall: memoryRuns[0].retainedKiB / memoryRuns[0].calls, msPerStimulus: memoryRuns[0].wallMs / memoryRuns[0].stimuli, kibPerStimulus: memoryRuns[0].retainedKiB / memoryRuns[0].stimuli }
      let peer = { msPerTest: 4.1, kibPerTest: 85, measured: false }
      if (bin !== undefined && sizes.length >= 2) {
        const pfSizes = sizes.filter((n) => n <= 5000)
        const pf = (pfSizes.length >= 2 ? pfSizes : [smallest, largest]).map((n) => ({ n, ...runPromptfoo(bin, n) }))
        const a = pf[0]!
        const b = pf.at(-1)!
        peer = { msPerTest: (b.wallMs - a.wallMs) / (b.n - a.n), kibPerTest: ((b.peakRssMiB - a.peakRssMiB) * 1024) / (b.n - a.n), measured: true }
        yield* Console.log(`\npromptfoo (${bin}) at ${pf.map((p) => p.n).join(", ")} tests: ${pf.map((p) => `${p.wallMs.toFixed(0)} ms / ${p.peakRssMiB.toFixed(0)} MiB`).join("; ")}`)
      }
      if (ours !== undefined) {
        const label = peer.measured ? "promptfoo, measured side by side (marginal per test)" : "promptfoo reference from the brief (not measured here: it is not installed)"
        yield* Console.log(`\n${label}: ${peer.msPerTest.toFixed(2)} ms and ${peer.kibPerTest.toFixed(0)} KiB per test case`)
        yield* Console.log(`  per model call:  ${(peer.msPerTest / ours.msPerCall).toFixed(1)}× less time, ${(peer.kibPerTest / ours.kibPerCall).toFixed(1)}× less memory (target ≥ 20×)`)
        yield* Console.log(`  per stimulus:    ${(peer.msPerTest / ours.msPerStimulus).toFixed(1)}× less time (marginal), ${(peer.kibPerTest / ours.kibPerStimulus).toFixed(1)}× less memory`)
        figures["promptfoo_measured"] = peer.measured ? 1 : 0
        figures["promptfoo_ms_per_test"] = peer.msPerTest
        figures["promptfoo_kib_per_test"] = peer.kibPerTest
        figures["per_call_time_ratio_vs_promptfoo"] = peer.msPerTest / ours.msPerCall
        figures["per_call_memory_ratio_vs_promptfoo"] = peer.kibPerTest / ours.kibPerCall
        figures["memory_marginal_ms_per_stimulus"] = ours.msPerStimulus
      }

      const latency = 50
      const concurrency = 32
      const slow = runInProcess("memory", options.quick ? 48 : 96, {}, latency)
      // Calls happen in sequential waves per agent within a stimulus: the ideal bound is calls ×
      // latency ÷ concurrency.
      const ideal = (slow.calls * latency) / concurrency
      yield* Console.log(`\n50 ms latency, concurrency ${concurrency}: ${slow.calls} calls in ${slow.wallMs.toFixed(0)} ms; ideal bound ${ideal.toFixed(0)} ms; ratio ${(slow.wallMs / ideal).toFixed(2)}× (target ≤ 1.2×)`)
      figures["latency50_wall_ms"] = slow.wallMs
      figures["latency50_ideal_ms"] = ideal
      figures["latency50_ratio"] = slow.wallMs / ideal
      return figures
    })
}
