/**
 * `npm run bench -- host`: the host service (`spectral serve`) as its users meet it.
 *
 * - **API latency**: 1,000 completed scans (`--quick`: 200) seeded through the adapters'
 *   repositories (`hostSeed.ts`: one real scan copied, the world-model version stepping every
 *   quarter), then `spectral serve` as its own process on that store — embedded Postgres (PGlite)
 *   and a throwaway PostgreSQL server (when its binaries exist) — and sequential requests over
 *   loopback with a read key: `GET …/scans/:id` (scan detail, 100 requests on random scans) and
 *   `GET …/history` (every scan, 10 requests: its p95 is their slowest), after unmeasured warm-up requests (3 and 1: the
 *   first history request fills the service's per-scan summary cache). Reported:
 *   p50, p95 and max in ms. Also the history's first request twice: on the freshly seeded store
 *   (every scan summarized from its rows, the summaries kept in the store: once per store), and
 *   on a service started afterwards, its own cache empty (the summaries read back from the store).
 * - **Dashboard first render**: 500 scans (`--quick`: 100) on PGlite, headless Chromium
 *   (playwright-core, /usr/bin/chromium) with a fresh profile per load and the key already in the
 *   tab's session: ms from navigation start to the trend chart drawn (ECharts' `finished` event,
 *   stamped by the page as `data-drawn-at`). 5 loads: the first (the service's history cache
 *   cold, as after a restart), and the median and max of all five.
 * - **Retention sweep**: 100,000 ingested traces (`--quick`: 10,000) whose 90-day window has ended,
 *   1% under a legal hold, swept by one pass of the host's `Lifecycle` (the retention step alone:
 *   curation and template inference off, as their cost depends on traffic, not on the store size)
 *   on PGlite and on the server. Reported: pass ms, traces purged, traces per second.
 * `SPECTRAL_BENCH_HOST_PARTS=api,render,sweep` picks parts (default: all three).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Duration, Effect, Layer, Redacted, type Scope } from "effect"
import { Storage } from "@spectral/adapters"
import { findPostgresBinaries, type PgServerInfo, startThrowawayPostgres } from "@spectral/adapters/testing"
import { placeLegalHold, RetentionRepo, TraceRepo } from "@spectral/engine"
import type { Trace } from "@spectral/engine/contracts"
import { Lifecycle } from "../../../packages/cli/src/host/Lifecycle.ts"
import type { Suite } from "../Suite.ts"
import { HostWorkspace, scanTemplate, type ScanTemplate, seedScans } from "./hostSeed.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const bin = join(root, "packages", "cli", "src", "bin.ts")
const chromiumPath = process.env["SPECTRAL_CHROMIUM"] ?? "/usr/bin/chromium"
/** playwright-core as the cli package (which depends on it) resolves it. */
const playwright = async (): Promise<typeof import("playwright-core")> => {
  const loaded = await import(createRequire(join(root, "packages", "cli", "package.json")).resolve("playwright-core"))
  // A CommonJS module: its exports are the namespace's default.
  return (loaded.chromium === undefined ? loaded.default : loaded) as typeof import("playwright-core")
}
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

type Env = Record<string, string | undefined>

// ---- stores ------------------------------------------------------------------------------------

interface BenchStore {
  readonly name: string
  /** The repositories on this store, for seeding (closed before `serve` opens it). */
  readonly layer: () => Layer.Layer<any, unknown>
  /** The environment `spectral serve` finds this store in. */
  readonly env: Env
}

const pgliteStore = (dir: string): BenchStore => ({
  name: "PGlite",
  layer: () => Layer.fresh(Storage.layerPglite({ dataDir: dir })),
  env: { SPECTRAL_DATA_DIR: dir, SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined }
})

const serverStore = (info: PgServerInfo): BenchStore => ({
  name: "Postgres server",
  layer: () => Layer.fresh(Storage.layerPg({ url: Redacted.make(info.appUrl), ownerUrl: Redacted.make(info.ownerUrl) })),
  env: { SPECTRAL_DATABASE_URL: info.appUrl, SPECTRAL_DATABASE_OWNER_URL: info.ownerUrl, SPECTRAL_DATA_DIR: undefined }
})

const tempDir = (prefix: string) =>
  Effect.acquireRelease(Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))), (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))

/** A throwaway PostgreSQL server, migrated; undefined (with the reason printed) when there are no binaries. */
const throwawayServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const found = findPostgresBinaries()
    if (found === undefined) return undefined
    const started = await startThrowawayPostgres(found)
    await Effect.runPromise(Storage.migratePg(Redacted.make(started.info.ownerUrl)))
    return started
  }),
  (started) => Effect.sync(() => started?.stop())
)

// ---- `spectral serve` as its own process -------------------------------------------------------

interface Served {
  readonly base: string
  readonly dashboard: string
  readonly key: string
}

const serve = (env: Env) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ child: ChildProcess; served: Served }>((resolve, reject) => {
        const merged: Record<string, string> = {}
        for (const [k, v] of Object.entries({ ...process.env, ...env, SPECTRAL_LIFECYCLE: "false" })) if (v !== undefined) merged[k] = v
        const child = spawn(process.execPath, ["--conditions=@spectral/source", bin, "serve", "--port", "0", "--issue-api-key", `${HostWorkspace}:read`], {
          env: merged,
          stdio: ["ignore", "pipe", "pipe"]
        })
        let out = ""
        let err = ""
        const timer = setTimeout(() => reject(new Error(`spectral serve did not listen in 60 s: ${out}${err}`)), 60_000)
        child.stderr!.on("data", (chunk: Buffer) => void (err += chunk.toString("utf8")))
        child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString("utf8")
          const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, string>)
          const keyLine = lines.find((l) => "key" in l)
          const listening = lines.find((l) => "listening" in l)
          if (keyLine !== undefined && listening !== undefined) {
            clearTimeout(timer)
            const dashboard = listening["dashboard"]!
            resolve({ child, served: { key: keyLine["key"]!, dashboard, base: dashboard.replace(/\/$/, "") } })
          }
        })
        child.on("exit", (code) => reject(new Error(`spectral serve exited (${code}) before listening: ${out}${err}`)))
      })
    ),
    ({ child }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve()
          child.once("exit", () => resolve())
          child.kill("SIGTERM")
          setTimeout(() => child.kill("SIGKILL"), 5_000).unref()
        })
      )
  ).pipe(Effect.map(({ served }) => served))

// ---- figures -----------------------------------------------------------------------------------

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!

interface Latency {
  readonly p50: number
  readonly p95: number
  readonly max: number
  readonly bytes: number
}

/** `n` sequential GETs of `path(i)` (after `warm` unmeasured ones); every answer must be 200. */
const latency = (served: Served, path: (i: number) => string, n: number, warm: number) =>
  Effect.promise(async (): Promise<Latency> => {
    const get = async (i: number) => {
      const started = performance.now()
      const response = await fetch(`${served.base}${path(i)}`, { headers: { authorization: `Bearer ${served.key}` } })
      const body = await response.arrayBuffer()
      const ms = performance.now() - started
      if (response.status !== 200) throw new Error(`GET ${path(i)}: ${response.status} ${new TextDecoder().decode(body).slice(0, 300)}`)
      return { ms, bytes: body.byteLength }
    }
    for (let i = 0; i < warm; i++) await get(i)
    const times: Array<number> = []
    let bytes = 0
    for (let i = 0; i < n; i++) {
      const r = await get(i + warm)
      times.push(r.ms)
      bytes = r.bytes
    }
    times.sort((a, b) => a - b)
    return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), max: times.at(-1)!, bytes }
  })

const apiLatency = (store: BenchStore, template: ScanTemplate, scans: number) =>
  Effect.gen(function*() {
    const seedStarted = performance.now()
    const ids = yield* seedScans(template, scans).pipe(Effect.provide(store.layer()))
    const seedMs = performance.now() - seedStarted
    const ws = `/api/workspaces/${HostWorkspace}`
    const historyFirst = yield* Effect.scoped(Effect.flatMap(serve(store.env), (first) => latency(first, () => `${ws}/history`, 1, 0)))
    const served = yield* serve(store.env)
    const pick = (i: number) => ids[(i * 7919) % ids.length]!
    const detail = yield* latency(served, (i) => `${ws}/scans/${pick(i)}`, 100, 3)
    const historyCold = yield* latency(served, () => `${ws}/history`, 1, 0)
    const history = yield* latency(served, () => `${ws}/history`, 10, 1)
    return { seedMs, detail, history, historyFirst: historyFirst.max, historyCold: historyCold.max }
  }).pipe(Effect.scoped)

const dashboardRender = (store: BenchStore, template: ScanTemplate, scans: number, loads: number) =>
  Effect.gen(function*() {
    yield* seedScans(template, scans).pipe(Effect.provide(store.layer()))
    const served = yield* serve(store.env)
    const { chromium } = yield* Effect.promise(playwright)
    const times: Array<number> = []
    for (let i = 0; i < loads; i++) {
      const ms = yield* Effect.acquireUseRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "spectral-bench-profile-"))),
        (profile) =>
          Effect.promise(async () => {
            const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1200, height: 900 } })
            try {
              await context.addInitScript((key: string) => {
                ;(globalThis as unknown as { sessionStorage: { setItem: (k: string, v: string) => void } }).sessionStorage.setItem("spectral.apiKey", key)
              }, served.key)
              const page = await context.newPage()
              await page.goto(served.dashboard)
              await page.waitForSelector("#trend-chart[data-drawn-at]", { timeout: 120_000 })
              const points = JSON.parse((await page.getAttribute("#trend-chart", "data-points")) ?? "[]") as Array<number>
              if (points.at(-1) !== scans) throw new Error(`the trend drew ${points.at(-1)} blended points of ${scans} scans`)
              return Number(await page.getAttribute("#trend-chart", "data-drawn-at"))
            } finally {
              await context.close()
            }
          }),
        (profile) => Effect.sync(() => rmSync(profile, { recursive: true, force: true }))
      )
      times.push(ms)
    }
    const sorted = [...times].sort((a, b) => a - b)
    return { median: quantile(sorted, 0.5), max: sorted.at(-1)!, first: times[0]! }
  }).pipe(Effect.scoped)

// ---- retention sweep through the host's Lifecycle ----------------------------------------------

const DayMs = 86_400_000
const Batch = 5_000
const traceId = (i: number) => i.toString(16).padStart(32, "0")
const span = (i: number): Trace => ({
  id: `${traceId(i)}/0000000000000001`,
  workspaceId: HostWorkspace,
  traceId: traceId(i),
  spanId: "0000000000000001",
  name: "chat gpt-4o-mini",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:00:00.350Z",
  agentName: `agent-${i % 5}`,
  attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini" },
  input: `Client ${i}: single, wages ${40_000 + i} dollars.`,
  output: "{\"filingStatus\":\"single\"}"
})

const retentionSweep = (store: BenchStore, traces: number) =>
  Effect.gen(function*() {
    const repo = yield* TraceRepo
    const retention = yield* RetentionRepo
    const ingestedAt = new Date(Date.now() - 91 * DayMs).toISOString()
    for (let start = 0; start < traces; start += Batch) {
      const ids = Array.from({ length: Math.min(Batch, traces - start) }, (_, k) => start + k)
      yield* repo.append(HostWorkspace, ids.map(span))
      yield* retention.track(HostWorkspace, ids.map((i) => ({ workspaceId: HostWorkspace, traceId: traceId(i), state: "ACTIVE" as const, ingestedAt })))
    }
    const held = Array.from({ length: Math.floor(traces / 100) }, (_, k) => traceId(k * 100))
    yield* placeLegalHold({ id: "bench-hold", workspaceId: HostWorkspace, traceIds: held, reason: "bench" }, "bench")
    const lifecycle = yield* Lifecycle.make({
      enabled: false,
      interval: Duration.hours(1),
      curation: false,
      curationPolicy: { minActivePerSegment: 5, targetPerSegment: 50, holdoutFraction: 0.2 },
      templates: false,
      templateMinPrompts: 5,
      workspaces: [HostWorkspace]
    })
    const started = performance.now()
    const pass = yield* lifecycle.runNow
    const ms = performance.now() - started
    const sweep = pass.workspaces.find((w) => w.workspaceId === HostWorkspace)?.sweep
    if (sweep === undefined || sweep.purgedTraces !== traces - held.length) {
      return yield* Effect.die(new Error(`the lifecycle pass purged ${sweep?.purgedTraces} of ${traces} (held ${held.length}): ${JSON.stringify(pass)}`))
    }
    return { ms, purged: sweep.purgedTraces, held: held.length, transitions: sweep.transitions }
  }).pipe(Effect.provide(store.layer()), Effect.scoped)

// ---- the suite ---------------------------------------------------------------------------------

const fmt = (x: number) => x.toFixed(1)

interface StoreChoice {
  readonly key: "pglite" | "server"
  readonly make: (label: string) => Effect.Effect<BenchStore, never, Scope.Scope>
}

const apiPart = (stores: ReadonlyArray<StoreChoice>, template: ScanTemplate, scans: number, figures: Record<string, number>) =>
  Effect.gen(function*() {
    yield* Console.log(`| store | scans | seed s | scan detail p50 / p95 / max ms | history p50 / p95 / max ms | history first on the seeded store / on a restarted service ms | history KiB |`)
    yield* Console.log(`| --- | --- | --- | --- | --- | --- | --- |`)
    for (const s of stores) {
      const store = yield* s.make("api")
      const r = yield* apiLatency(store, template, scans)
      yield* Console.log(`| ${store.name} | ${scans} | ${(r.seedMs / 1000).toFixed(0)} | ${fmt(r.detail.p50)} / ${fmt(r.detail.p95)} / ${fmt(r.detail.max)} | ${fmt(r.history.p50)} / ${fmt(r.history.p95)} / ${fmt(r.history.max)} | ${fmt(r.historyFirst)} / ${fmt(r.historyCold)} | ${(r.history.bytes / 1024).toFixed(0)} |`)
      figures[`host_${s.key}_scan_detail_p50_ms`] = r.detail.p50
      figures[`host_${s.key}_scan_detail_p95_ms`] = r.detail.p95
      figures[`host_${s.key}_history_p50_ms`] = r.history.p50
      figures[`host_${s.key}_history_p95_ms`] = r.history.p95
      figures[`host_${s.key}_history_first_ms`] = r.historyFirst
      figures[`host_${s.key}_history_cold_ms`] = r.historyCold
    }
  })

const renderPart = (pglite: StoreChoice, template: ScanTemplate, scans: number, figures: Record<string, number>) =>
  Effect.gen(function*() {
    if (!existsSync(chromiumPath)) return yield* Console.log(`\nno Chromium at ${chromiumPath}: the dashboard render is skipped`)
    const store = yield* pglite.make("render")
    const r = yield* dashboardRender(store, template, scans, 5)
    yield* Console.log(`\ndashboard first render, ${scans} scans on PGlite, 5 loads with a fresh profile: first (service cache cold) ${r.first.toFixed(0)} ms, median ${r.median.toFixed(0)} ms, max ${r.max.toFixed(0)} ms (navigation start to the trend chart drawn)`)
    figures["host_dashboard_first_render_cold_ms"] = r.first
    figures["host_dashboard_first_render_median_ms"] = r.median
    figures["host_dashboard_first_render_max_ms"] = r.max
  })

const sweepPart = (stores: ReadonlyArray<StoreChoice>, traces: number, figures: Record<string, number>) =>
  Effect.gen(function*() {
    yield* Console.log(`\n| store | traces | purged | held | audited transitions | lifecycle pass ms | traces/s |`)
    yield* Console.log(`| --- | --- | --- | --- | --- | --- | --- |`)
    for (const s of stores) {
      const store = yield* s.make("sweep")
      const r = yield* retentionSweep(store, traces)
      yield* Console.log(`| ${store.name} | ${traces} | ${r.purged} | ${r.held} | ${r.transitions} | ${r.ms.toFixed(0)} | ${(traces / (r.ms / 1000)).toFixed(0)} |`)
      figures[`host_${s.key}_sweep_ms`] = r.ms
      figures[`host_${s.key}_sweep_traces_per_second`] = traces / (r.ms / 1000)
    }
  })

export const hostSuite: Suite = {
  name: "host",
  description: "spectral serve: API p95 (scan detail, history of 1,000 scans) on PGlite and a Postgres server, dashboard first render with 500 scans, retention sweep of 100,000 traces by the lifecycle",
  run: (options) =>
    Effect.gen(function*() {
      const apiScans = options.quick ? 200 : 1_000
      const renderScans = options.quick ? 100 : 500
      const traces = options.quick ? 10_000 : 100_000
      const parts = (process.env["SPECTRAL_BENCH_HOST_PARTS"] ?? "api,render,sweep").split(",").map((p) => p.trim())
      const figures: Record<string, number> = { host_api_scans: apiScans, host_render_scans: renderScans, host_sweep_traces: traces }
      const template = yield* scanTemplate(30)
      yield* Console.log(`template scan: ${template.traces.length} scan traces, ${template.results.length} evaluation results, ${template.phaseOutputs.length} phase outputs (copied per scan)\n`)

      const server = yield* throwawayServer
      if (server === undefined) yield* Console.log("no PostgreSQL binaries under /usr/lib/postgresql: the server rows are skipped\n")
      // PGlite: a fresh store per measurement; the server keeps the API's scans under the sweep's traces.
      const pglite: StoreChoice = { key: "pglite", make: (label) => Effect.map(tempDir(`spectral-bench-host-${label}-`), (dir) => pgliteStore(join(dir, "db"))) }
      const stores: Array<StoreChoice> = [pglite]
      if (server !== undefined) stores.push({ key: "server", make: () => Effect.succeed(serverStore(server.info)) })

      if (parts.includes("api")) yield* apiPart(stores, template, apiScans, figures)
      if (parts.includes("render")) yield* renderPart(pglite, template, renderScans, figures)
      if (parts.includes("sweep")) yield* sweepPart(stores, traces, figures)
      return figures
    }).pipe(Effect.scoped)
}
