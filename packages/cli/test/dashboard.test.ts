/**
 * The dashboard as a person uses it: two `spectral scan`s on the simulated model into PGlite, then
 * `spectral serve --port 0 --issue-api-key WORKSPACE:write` as its own process, and headless
 * Chromium (playwright-core, /usr/bin/chromium, a fresh user-data dir) on `http://127.0.0.1:PORT/`:
 * a wrong key shows the API's 401 message; the right key shows
 * - the trend per authority (world model, rubric, blended) and per agent, one point per scan on each
 *   series and a marker where the world-model version changed (the second scan's attribution is
 *   moved to the next version in the store); clicking a marker on either chart shows both versions;
 * - the supervisor's class and reason per agent, as the API's `/supervisor` says;
 * - the latest verdict's forest plot with a row per agent and a row per dimension, beside the gate table;
 * - the cluster bars with their explanations;
 * - the latest change set's diff against its baseline (every changed field the API's `/diff`
 *   lists), and approving it from the page writes the audit row (read back through the API).
 * A second test declares a workspace through the API, starts a scan with the page's "Start a scan"
 * (the API's `POST …/scans`; skipped, saying why, on a host without it) and watches the page's live
 * progress: the phase list and the stimuli bar reach their total, and the page then says how the
 * scan ended.
 * A screenshot of each view goes to the test's output folder, and with SPECTRAL_UPDATE_SCREENSHOTS=1
 * also to `docs/screenshots/dashboard-*.png` (the README's; a plain run leaves the tree clean).
 * Skipped when there is no Chromium, unless SPECTRAL_REQUIRE_PG_SERVER=1 (CI), where that fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { ScanRepo } from "@spectral/engine"
import { WorldRegistry } from "@spectral/worlds"
import { Effect, Layer } from "effect"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Page } from "playwright-core"
import { ApiClient } from "../src/index.ts"
import { CHROMIUM_ARGS } from "../src/cards/CardPdf.ts"
import { runScan, scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"
import { initialisedDataDir } from "./PgliteTemplate.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const chromiumPath = process.env["SPECTRAL_CHROMIUM"] ?? "/usr/bin/chromium"
const screenshotsDir = join(import.meta.dirname, "..", "..", "..", "docs", "screenshots")

type StoreEnv = Record<string, string | undefined>

const scanInto = (file: string, env: StoreEnv, seed: number) =>
  Effect.gen(function*() {
    const run = yield* runScan(file, { ...env, SPECTRAL_LLM: "simulated" }, ["--seed", String(seed)])
    assert.strictEqual(run.code, 0, run.stdout + run.stderr)
    return JSON.parse(run.stdout) as { readonly scanId: string; readonly state: string }
  })

/**
 * Mark the newer of the two scans as measured on the world model's next published version (its
 * attribution and authority ref say so, as a scan after a world-model release would carry), so the
 * marker's metadata is that version's; the store is closed afterwards so `serve` can open it.
 * Returns the two versions.
 */
const bumpWorldModelVersion = (dataDir: string, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const scan = yield* scans.get(workspaceId, scanId)
    assert.isDefined(scan.attribution, "the scan is attributed to a world-model version")
    const attribution = scan.attribution!
    const from = attribution.worldModelVersion
    const worlds = yield* WorldRegistry
    const summary = (yield* worlds.list).find((w) => w.worldModelId === attribution.worldModelId)!
    const to = summary.versions.find((v) => v !== from)
    assert.isDefined(to, `${attribution.worldModelId} has a second published version`)
    const published = yield* worlds.version(attribution.worldModelId, to!)
    yield* scans.update({ ...scan, attribution: { ...attribution, worldModelVersion: to!, authority: published.authority } })
    return { worldModelId: attribution.worldModelId, from, to: to! }
  }).pipe(Effect.provide(Layer.mergeAll(Layer.fresh(Storage.layerPglite({ dataDir })), WorldRegistry.layer)), Effect.scoped)

const serve = (workspaceId: string, env: StoreEnv) =>
  Effect.gen(function*() {
    const child = yield* startNode(bin, ["serve", "--port", "0", "--issue-api-key", `${workspaceId}:write`], env)
    // A shared machine may be busy: up to 3 minutes, and a failure says what the process printed.
    yield* waitUntil(() => child.output().includes("\"listening\""), "spectral serve to listen", 180_000).pipe(
      Effect.catchDefect((defect) => Effect.die(new Error(`${String(defect)}; spectral serve printed: ${child.output().slice(0, 2000)}`)))
    )
    const lines = child.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, string>)
    const key = lines.find((line) => "key" in line)!["key"]!
    const dashboard = lines.find((line) => "listening" in line)!["dashboard"]!
    assert.match(dashboard, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    return { key, dashboard, base: dashboard.replace(/\/$/, "") }
  })

/** A fresh browser profile, closed and removed with the scope. */
const browser = Effect.acquireRelease(
  Effect.promise(async () => {
    const profile = mkdtempSync(join(tmpdir(), "spectral-dashboard-profile-"))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: [...CHROMIUM_ARGS],
      headless: true,
      viewport: { width: 1200, height: 900 }
    })
    return { context, profile }
  }),
  ({ context, profile }) => Effect.promise(() => context.close().finally(() => rmSync(profile, { recursive: true, force: true })))
)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Screenshot one view into the output folder (and docs/screenshots with SPECTRAL_UPDATE_SCREENSHOTS=1). */
const shoot = (page: Page, selector: string, name: string, out: string) =>
  promise(async () => {
    const file = join(out, `dashboard-${name}.png`)
    await page.locator(selector).screenshot({ path: file })
    if (process.env.SPECTRAL_UPDATE_SCREENSHOTS === "1") {
      mkdirSync(screenshotsDir, { recursive: true })
      copyFileSync(file, join(screenshotsDir, `dashboard-${name}.png`))
    }
    return file
  })

/** What ECharts holds for a chart: per series its type, name, points (non-null values) and markers; the category axes. */
const chartOf = (page: Page, id: string) =>
  promise(() =>
    page.evaluate((elementId) => {
      // Runs in the page: the DOM and the ECharts global are there.
      const page = globalThis as unknown as {
        document: { getElementById: (id: string) => unknown }
        echarts: { getInstanceByDom: (element: unknown) => { getOption: () => any } }
      }
      const option = page.echarts.getInstanceByDom(page.document.getElementById(elementId)).getOption()
      const isPoint = (v: unknown) => v !== null && v !== undefined && v !== "-" && !(Array.isArray(v) && v.some((x) => x === null || Number.isNaN(x)))
      return {
        series: (option.series as Array<{ type: string; name?: string; data: Array<unknown>; markLine?: { data: Array<unknown> } }>).map((s) => ({
          type: s.type,
          name: s.name ?? "",
          points: s.data.filter(isPoint).length,
          length: s.data.length,
          markers: s.markLine?.data?.length ?? 0
        })),
        yAxes: ((option.yAxis ?? []) as Array<{ data?: Array<string> }>).map((axis) => axis.data ?? []),
        xCategories: (option.xAxis?.[0]?.data ?? []) as Array<string>
      }
    }, id)
  )

/** Click a chart at the x of a category (where a version marker stands), half-way down. */
const clickCategory = (page: Page, id: string, label: string) =>
  Effect.gen(function*() {
    const at = yield* promise(() =>
      page.evaluate(({ elementId, label }) => {
        const page = globalThis as unknown as {
          document: { getElementById: (id: string) => unknown }
          echarts: { getInstanceByDom: (element: unknown) => { convertToPixel: (finder: unknown, value: unknown) => number; getHeight: () => number } }
        }
        const chart = page.echarts.getInstanceByDom(page.document.getElementById(elementId))
        return { x: chart.convertToPixel({ xAxisIndex: 0 }, label), y: chart.getHeight() / 2 }
      }, { elementId: id, label })
    )
    yield* promise(() => page.locator(`#${id}`).click({ position: { x: Math.round(at.x), y: Math.round(at.y) } }))
  })

/** A GET on the API with the key, as JSON (the status too, for endpoints a host may not have). */
const getJson = (url: string, key: string) =>
  promise(() => fetch(url, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => ({ status: r.status, body: r.status === 200 ? await r.json() as unknown : null })))

/** The host's OpenAPI paths (which endpoints it has). */
const openApiPaths = (base: string) =>
  promise(() => fetch(`${base}/openapi.json`).then(async (r) => Object.keys(((await r.json()) as { paths: Record<string, unknown> }).paths)))

/** The page's uncaught errors and console errors, kept for the failure message. */
const pageErrors = (page: Page): Array<string> => {
  const errors: Array<string> = []
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`))
  page.on("console", (message) => void (message.type() === "error" ? errors.push(`console: ${message.text()}`) : undefined))
  return errors
}

/** Wait until the page says every view loaded; a timeout names the page's own errors. */
const loaded = (page: Page, errors: ReadonlyArray<string>) =>
  promise(() =>
    page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\npage errors: ${errors.join("\n") || "none"}`)
    })
  )

const signIn = (page: Page, dashboard: string, key: string, errors: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* promise(() => page.goto(dashboard))
    yield* promise(() => page.fill("#api-key", key))
    yield* promise(() => page.click("#sign-in-form button[type=submit]"))
    yield* loaded(page, errors)
  })

const noChromium = () => {
  if (existsSync(chromiumPath)) return false
  assert.notStrictEqual(process.env["SPECTRAL_REQUIRE_PG_SERVER"], "1", `no Chromium at ${chromiumPath}`)
  return true
}

interface SupervisorRow {
  readonly agentId: string
  readonly status: string
  readonly reason: string
}

interface DiffField {
  readonly path: string
  readonly baseline: unknown
  readonly proposed: unknown
}

describe("the dashboard in headless Chromium", () => {
  it.live("signs in with the key; draws the trends, supervisor, verdict, clusters and change set with its diff; approves from the page", () =>
    Effect.gen(function*() {
      if (noChromium()) return
      const workspaceId = "dashboard-tax-prep"
      const out = mkdtempSync(join(tmpdir(), "spectral-dashboard-shots-"))
      const { dir, file } = yield* scratch(smallWorkspace(workspaceId))
      const env: StoreEnv = { SPECTRAL_DATA_DIR: initialisedDataDir(join(dir, "db")), SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined }
      const first = yield* scanInto(file, env, 3)
      const second = yield* scanInto(file, env, 4)
      assert.deepStrictEqual([first.state, second.state], ["completed", "completed"])
      const bump = yield* bumpWorldModelVersion(join(dir, "db"), workspaceId, second.scanId)
      const { key, dashboard, base } = yield* serve(workspaceId, env)
      const client = yield* ApiClient.makeWithKey(base, key)
      const { context } = yield* browser
      const page = yield* promise(() => context.newPage())
      const errors = pageErrors(page)
      const offsite: Array<string> = []
      page.on("request", (request) => {
        if (!request.url().startsWith(base) && !request.url().startsWith("data:")) offsite.push(request.url())
      })
      const wsUrl = `${base}/api/workspaces/${workspaceId}`

      // A wrong key: the sign-in error is the API's own 401 message.
      yield* promise(() => page.goto(dashboard))
      yield* shoot(page, "#sign-in", "sign-in", out)
      yield* promise(() => page.fill("#api-key", "spa_never-issued"))
      yield* promise(() => page.click("#sign-in-form button[type=submit]"))
      const error = page.locator("#sign-in-error")
      yield* promise(() => error.waitFor({ state: "visible" }))
      const apiRefusal = yield* promise(() =>
        fetch(`${wsUrl}/scans`, { headers: { authorization: "Bearer spa_never-issued" } })
          .then(async (r) => ({ status: r.status, message: ((await r.json()) as { message: string }).message }))
      )
      assert.strictEqual(apiRefusal.status, 401)
      assert.strictEqual(yield* promise(() => error.textContent()), apiRefusal.message)
      assert.include(apiRefusal.message, "unknown API key")
      assert.isFalse(yield* promise(() => page.locator("#workspace").isVisible()))
      yield* shoot(page, "#sign-in", "sign-in-error", out)

      // The right key: the workspace loads, every view without an error.
      yield* promise(() => page.fill("#api-key", key))
      yield* promise(() => page.click("#sign-in-form button[type=submit]"))
      yield* loaded(page, errors)
      assert.strictEqual(yield* promise(() => page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem: (k: string) => string | null } }).sessionStorage.getItem("spectral.apiKey"))), key)
      assert.include(yield* promise(() => page.locator("#workspace-name").textContent()) ?? "", workspaceId)
      for (const id of ["load-error", "history-error", "supervisor-error", "verdict-error", "change-set-error", "diff-error"]) {
        assert.isFalse(yield* promise(() => page.locator(`#${id}`).isVisible()), `#${id}: ${(yield* promise(() => page.locator(`#${id}`).textContent())) ?? ""}`)
      }

      // (a) The trend per authority: world model, rubric and blended, one point per scan each where
      // the scan has that score, one marker where the version changed; clicking it shows the version.
      const scans = yield* client.scans.list({ params: { workspaceId } })
      assert.strictEqual(scans.length, 2)
      assert.isTrue(scans.every((s) => typeof s.blendedScore === "number"))
      const trend = yield* chartOf(page, "trend-chart")
      assert.deepStrictEqual(trend.series.map((s) => [s.type, s.name, s.length]), [["line", "world model", 2], ["line", "rubric", 2], ["line", "blended", 2]])
      assert.strictEqual(trend.series[2]!.points, 2, "a blended point per scan")
      assert.strictEqual(trend.series[0]!.points, 2, "a world-model point per scan")
      assert.strictEqual(trend.xCategories.length, 2)
      assert.strictEqual(trend.series[0]!.markers, 1)
      assert.isFalse(yield* promise(() => page.locator("#version-detail").isVisible()))
      yield* clickCategory(page, "trend-chart", trend.xCategories[1]!)
      const versionDetail = page.locator("#version-detail")
      yield* promise(() => versionDetail.waitFor({ state: "visible" }))
      const shown = (yield* promise(() => versionDetail.textContent())) ?? ""
      assert.include(shown, bump.worldModelId)
      assert.include(shown, `${bump.from} → ${bump.to}`)
      assert.include(shown, second.scanId)
      // …and what the host publishes about that version.
      const published = yield* getJson(`${wsUrl}/world-models/${encodeURIComponent(bump.worldModelId)}/versions/${encodeURIComponent(bump.to)}`, key)
      assert.strictEqual(published.status, 200)
      yield* promise(() => versionDetail.locator(".published", { hasText: (published.body as { title: string }).title }).waitFor())

      // The trend per agent: one series per agent of the card, one point per scan on each, the same marker.
      const latest = [...scans].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!
      const card = yield* client.cards.json({ params: { workspaceId, scanId: latest.id } })
      assert.isAbove(card.agents.length, 1)
      const agentTrend = yield* chartOf(page, "agent-trend-chart")
      assert.strictEqual(agentTrend.series.length, card.agents.length, `a series per agent: ${agentTrend.series.map((s) => s.name).join(", ")}`)
      for (const s of agentTrend.series) assert.strictEqual(s.points, 2, `agent ${s.name}: a point per scan`)
      assert.strictEqual(agentTrend.series[0]!.markers, 1)
      yield* promise(() => page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { getElementById: (id: string) => { hidden: boolean } } }).document
        doc.getElementById("version-detail").hidden = true
      }))
      yield* clickCategory(page, "agent-trend-chart", agentTrend.xCategories[1]!)
      yield* promise(() => versionDetail.waitFor({ state: "visible" }))
      assert.include((yield* promise(() => versionDetail.textContent())) ?? "", `${bump.from} → ${bump.to}`)
      yield* shoot(page, "#trend-view", "trend", out)

      // (b) The supervisor: the class and reason per agent, as the API says.
      const supervisor = yield* getJson(`${wsUrl}/supervisor`, key)
      assert.strictEqual(supervisor.status, 200, "the host serves the supervisor")
      const statuses = (supervisor.body as { agents: Array<SupervisorRow> }).agents
      assert.isAbove(statuses.length, 1)
      assert.strictEqual(yield* promise(() => page.locator("#supervisor-table tbody tr").count()), statuses.length)
      for (const status of statuses) {
        assert.include(["ACTIVE", "PLATEAU", "FRONTIER", "NO_DATA"], status.status)
        const tr = page.locator(`#supervisor-table tbody tr[data-agent="${status.agentId}"]`)
        assert.strictEqual(yield* promise(() => tr.getAttribute("data-status")), status.status)
        const cells = yield* promise(() => tr.locator("td").allTextContents())
        assert.strictEqual(cells[1], status.status)
        assert.strictEqual(cells[3], status.reason)
      }
      yield* shoot(page, "#supervisor-view", "supervisor", out)

      // (c) The latest verdict: the gate table, and the forest plot with a row per agent and per dimension.
      const result = yield* client.scans.result({ params: { workspaceId, scanId: latest.id } })
      assert.strictEqual(yield* promise(() => page.locator("#gate-table tbody tr").count()), result.verdict.checks.length)
      assert.include(yield* promise(() => page.locator("#verdict-outcome").textContent()) ?? "", result.verdict.outcome)
      const forest = yield* chartOf(page, "forest-chart")
      const [agentRows, dimensionRows] = [forest.yAxes[0] ?? [], forest.yAxes[1] ?? []]
      assert.includeMembers(agentRows, card.agents.map((a) => a.name))
      assert.strictEqual(agentRows.length, card.agents.length + (result.verdict.delta === null ? 0 : 1), "a row per agent (and the team's delta)")
      // A row per dimension the dimension-regression gate judged, each with its interval.
      const judged = result.verdict.checks.filter((c) => c.check.startsWith("dimension:"))
      assert.isAbove(judged.length, 0)
      for (const c of judged) assert.isDefined(c.interval, `${c.check} carries its interval`)
      assert.sameMembers(dimensionRows, judged.map((c) => c.check.slice("dimension:".length)), "a row per dimension")
      const gatesBox = yield* promise(() => page.locator("#gate-table").boundingBox())
      const forestBox = yield* promise(() => page.locator("#forest-chart").boundingBox())
      assert.isAbove(gatesBox!.x, forestBox!.x + forestBox!.width - 1, "the gate table is beside the forest plot")
      yield* shoot(page, "#verdict-view", "verdict", out)

      // (d) Failure clusters: a bar per cluster with its label and explanations.
      const clusters = yield* client.scans.clusters({ params: { workspaceId, scanId: latest.id } })
      const bars = yield* chartOf(page, "cluster-chart")
      assert.deepStrictEqual(bars.series.map((s) => [s.type, s.points]), [["bar", clusters.length]])
      assert.sameMembers(bars.yAxes[0] ?? [], clusters.map((c) => c.label))
      const listed = (yield* promise(() => page.locator("#cluster-list").textContent())) ?? ""
      for (const c of clusters) assert.include(listed, c.representativeExplanations[0]!)
      yield* shoot(page, "#clusters-view", "clusters", out)

      // (e) The latest change set: its diff against the baseline beside the buttons; Approve writes the audit row.
      const sets = yield* client.changeSets.list({ params: { workspaceId } })
      const newest = [...sets].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.version - b.version).at(-1)!
      const diff = yield* getJson(`${wsUrl}/change-sets/${newest.id}/diff`, key)
      assert.strictEqual(diff.status, 200, "the host serves the change set's diff")
      const fields = (diff.body as { changes: Array<DiffField> }).changes
      assert.isAbove(fields.length, 0, "the newest change set changes something")
      assert.strictEqual(yield* promise(() => page.locator("#diff-table tbody tr[data-path]").count()), fields.length)
      for (const field of fields) {
        const cells = yield* promise(() => page.locator(`#diff-table tbody tr[data-path="${field.path}"] td`).allTextContents())
        assert.strictEqual(cells[0], field.path)
        const expected = (value: unknown) => typeof value === "string" ? value : JSON.stringify(value, null, 1)
        assert.strictEqual(cells[1], expected(field.baseline), `${field.path}: baseline`)
        assert.strictEqual(cells[2], expected(field.proposed), `${field.path}: proposed`)
      }
      const diffBox = yield* promise(() => page.locator("#diff-table").boundingBox())
      const approveBox = yield* promise(() => page.locator("#approve").boundingBox())
      assert.isAbove(approveBox!.x, diffBox!.x + diffBox!.width - 1, "the decision buttons are beside the diff")
      const before = yield* client.changeSets.get({ params: { workspaceId, changeSetId: newest.id } })
      assert.isTrue(before.approval.awaitingDecision, `the newest change set awaits a decision (it is ${before.changeSet.status})`)
      assert.isTrue(yield* promise(() => page.locator("#approve").isEnabled()))
      yield* promise(() => page.fill("#actor", "reviewer@example.com"))
      yield* promise(() => page.click("#approve"))
      yield* promise(() => page.locator("#change-set-status", { hasText: "accepted" }).waitFor())
      const after = yield* client.changeSets.get({ params: { workspaceId, changeSetId: newest.id } })
      assert.strictEqual(after.changeSet.status, "accepted")
      assert.strictEqual(after.audit.length, before.audit.length + 1)
      assert.deepInclude(after.audit.at(-1)!, { action: "status:accepted", actor: "reviewer@example.com", from: before.changeSet.status, to: "accepted" })
      assert.strictEqual(yield* promise(() => page.locator("#audit-table tbody tr").count()), after.audit.length)
      assert.isTrue(yield* promise(() => page.locator("#approve").isDisabled()), "no second decision from the page")
      yield* shoot(page, "#change-set-view", "change-set", out)

      assert.deepStrictEqual(offsite, [], "nothing is loaded from outside the server")
      assert.deepStrictEqual(errors.filter((e) => !/status of (401|404)/.test(e)), [], "no script error on the page")
    }).pipe(Effect.scoped), 300_000)

  it.live("shows a started scan's live progress: the phases and the stimuli bar reach their total", () =>
    Effect.gen(function*() {
      if (noChromium()) return
      const workspaceId = "dashboard-progress"
      const out = mkdtempSync(join(tmpdir(), "spectral-dashboard-shots-"))
      const workspace = smallWorkspace(workspaceId)
      const { dir } = yield* scratch(workspace)
      const env: StoreEnv = { SPECTRAL_DATA_DIR: initialisedDataDir(join(dir, "db")), SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined, SPECTRAL_LLM: "simulated" }
      const { key, dashboard, base } = yield* serve(workspaceId, env)
      const paths = yield* openApiPaths(base)
      const startPath = paths.find((p) => /\/scans$/.test(p) && p.includes("workspaceId"))
      const spec = yield* promise(() => fetch(`${base}/openapi.json`).then(async (r) => (await r.json()) as { paths: Record<string, Record<string, unknown>> }))
      if (startPath === undefined || spec.paths[startPath]?.["post"] === undefined || !paths.some((p) => p.endsWith("/progress"))) {
        console.log(`skipped: the host has no scan start endpoint (POST /api/workspaces/:workspaceId/scans) or no progress stream; its paths: ${paths.join(" ")}`)
        return
      }
      const wsUrl = `${base}/api/workspaces/${workspaceId}`
      const send = (method: string, url: string, body: unknown) =>
        promise(() => fetch(url, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) })
          .then(async (r) => ({ status: r.status, body: await r.text() })))
      const declared = yield* send("PUT", wsUrl, workspace)
      assert.strictEqual(declared.status, 200, declared.body)
      const { context } = yield* browser
      const page = yield* promise(() => context.newPage())
      const errors = pageErrors(page)
      yield* signIn(page, dashboard, key, errors)
      assert.strictEqual(yield* promise(() => page.locator("#progress-status").textContent()), "No scan is running.")
      assert.isTrue(yield* promise(() => page.locator("#start-scan").isEnabled()), "a write key may start a scan")

      // "Start a scan" on the page: the API starts it, and the page follows it from its first event.
      yield* promise(() => page.click("#start-scan"))
      yield* promise(() =>
        page.locator("#progress-view[data-scan-id]").waitFor({ timeout: 60_000 }).catch(async (error: Error) => {
          const shown = await page.locator("#progress-view").innerText()
          throw new Error(`${error.message}\nthe page: ${shown}\npage errors: ${errors.join("\n") || "none"}`)
        })
      )
      const id = (yield* promise(() => page.locator("#progress-view").getAttribute("data-scan-id")))!
      const listed = yield* getJson(`${wsUrl}/scans/${encodeURIComponent(id)}`, key)
      assert.strictEqual(listed.status, 200, `the page started scan ${id} through the API`)
      // Until the stream's `end` (a busy machine makes a scan slow); a timeout says what the page and the scan show.
      yield* promise(() =>
        page.locator("#progress-view:not([data-status=running])").waitFor({ timeout: 300_000 }).catch(async (error: Error) => {
          const detail = await fetch(`${wsUrl}/scans/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.text())
          const shown = await page.locator("#progress-view").innerText()
          throw new Error(`${error.message}\nthe page: ${shown}\nthe scan: ${detail.slice(0, 600)}\npage errors: ${errors.join("\n") || "none"}`)
        })
      )
      assert.strictEqual(yield* promise(() => page.locator("#progress-view").getAttribute("data-status")), "completed", (yield* promise(() => page.locator("#progress-view").innerText())) + errors.join("\n"))
      const bar = yield* promise(() => page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { getElementById: (id: string) => { value: number; max: number; dataset: Record<string, string> } } }).document
        const el = doc.getElementById("stimuli-bar")
        return { value: el.value, max: el.max, done: Number(el.dataset["done"]), total: Number(el.dataset["total"]) }
      }))
      assert.isAbove(bar.total, 0)
      assert.strictEqual(bar.done, bar.total, "the stimuli bar reaches its total")
      assert.strictEqual(bar.value, bar.max)
      const phases = yield* promise(() => page.locator("#phase-list li").evaluateAll((items) => items.map((li) => (li as unknown as { dataset: Record<string, string> }).dataset["status"])))
      assert.isAbove(phases.length, 0)
      assert.isTrue(phases.every((s) => s === "done"), `every phase done: ${phases.join(", ")}`)
      assert.include((yield* promise(() => page.locator("#progress-status").textContent())) ?? "", "completed")
      yield* shoot(page, "#progress-view", "progress", out)
    }).pipe(Effect.scoped), 600_000)
})
