/**
 * The dashboard as a person uses it: two `spectral scan`s on the simulated model into PGlite, then
 * `spectral serve --port 0 --issue-api-key WORKSPACE:write` as its own process, and headless
 * Chromium (playwright-core, /usr/bin/chromium, a fresh user-data dir) on `http://127.0.0.1:PORT/`:
 * a wrong key shows the API's 401 message; the right key shows the trend with one point per scan
 * and a marker where the world-model version changed (the second scan's attribution is moved to the
 * next version in the store; clicking the marker shows both versions), the forest plot with a row per agent, the gate table, the cluster bars, and approving the latest
 * change set from the page writes the audit row (read back through the API). A screenshot of each
 * view goes to the test's output folder, and with SPECTRAL_UPDATE_SCREENSHOTS=1 also to
 * `docs/screenshots/dashboard-*.png` (the README's; a plain run leaves the tree clean). Skipped when
 * there is no Chromium, unless SPECTRAL_REQUIRE_PG_SERVER=1 (CI), where that fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Storage } from "@spectral/adapters"
import { ScanRepo } from "@spectral/engine"
import { Effect, Layer } from "effect"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Page } from "playwright-core"
import { ApiClient } from "../src/index.ts"
import { CHROMIUM_ARGS } from "../src/cards/CardPdf.ts"
import { runScan, scratch, smallWorkspace, startNode, waitUntil } from "./ScanProcesses.ts"

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
 * Mark the newer of the two scans as measured on the next world-model version (its attribution
 * says so), as a scan after a world-model release would be; the store is closed afterwards so
 * `serve` can open it. Returns the two versions.
 */
const bumpWorldModelVersion = (dataDir: string, workspaceId: string, scanId: string) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const scan = yield* scans.get(workspaceId, scanId)
    assert.isDefined(scan.attribution, "the scan is attributed to a world-model version")
    const from = scan.attribution!.worldModelVersion
    const to = `${from}-next`
    yield* scans.update({ ...scan, attribution: { ...scan.attribution!, worldModelVersion: to } })
    return { worldModelId: scan.attribution!.worldModelId, from, to }
  }).pipe(Effect.provide(Layer.fresh(Storage.layerPglite({ dataDir }))), Effect.scoped)

const serve = (workspaceId: string, env: StoreEnv) =>
  Effect.gen(function*() {
    const child = yield* startNode(bin, ["serve", "--port", "0", "--issue-api-key", `${workspaceId}:write`], env)
    yield* waitUntil(() => child.output().includes("\"listening\""), "spectral serve to listen", 60_000)
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

/** What ECharts holds for a chart (the series data and the category axis). */
const chartOf = (page: Page, id: string) =>
  promise(() =>
    page.evaluate((elementId) => {
      // Runs in the page: the DOM and the ECharts global are there.
      const page = globalThis as unknown as {
        document: { getElementById: (id: string) => unknown }
        echarts: { getInstanceByDom: (element: unknown) => { getOption: () => any } }
      }
      const option = page.echarts.getInstanceByDom(page.document.getElementById(elementId)).getOption()
      return {
        series: (option.series as Array<{ type: string; data: Array<unknown>; markLine?: { data: Array<unknown> } }>).map((s) => ({ type: s.type, points: s.data.length, markers: s.markLine?.data?.length ?? 0 })),
        yCategories: (option.yAxis?.[0]?.data ?? []) as Array<string>,
        xCategories: (option.xAxis?.[0]?.data ?? []) as Array<string>
      }
    }, id)
  )

describe("the dashboard in headless Chromium", () => {
  it.live("signs in with the key, draws the trend, verdict, clusters and change set, and approves from the page", () =>
    Effect.gen(function*() {
      if (!existsSync(chromiumPath)) {
        assert.notStrictEqual(process.env["SPECTRAL_REQUIRE_PG_SERVER"], "1", `no Chromium at ${chromiumPath}`)
        return
      }
      const workspaceId = "dashboard-tax-prep"
      const out = mkdtempSync(join(tmpdir(), "spectral-dashboard-shots-"))
      const { dir, file } = yield* scratch(smallWorkspace(workspaceId))
      const env: StoreEnv = { SPECTRAL_DATA_DIR: join(dir, "db"), SPECTRAL_DATABASE_URL: undefined, SPECTRAL_DATABASE_OWNER_URL: undefined }
      const first = yield* scanInto(file, env, 3)
      const second = yield* scanInto(file, env, 4)
      assert.deepStrictEqual([first.state, second.state], ["completed", "completed"])
      const bump = yield* bumpWorldModelVersion(join(dir, "db"), workspaceId, second.scanId)
      const { key, dashboard, base } = yield* serve(workspaceId, env)
      const client = yield* ApiClient.makeWithKey(base, key)
      const { context } = yield* browser
      const page = yield* promise(() => context.newPage())
      const offsite: Array<string> = []
      page.on("request", (request) => {
        if (!request.url().startsWith(base) && !request.url().startsWith("data:")) offsite.push(request.url())
      })

      // A wrong key: the sign-in error is the API's own 401 message.
      yield* promise(() => page.goto(dashboard))
      yield* shoot(page, "#sign-in", "sign-in", out)
      yield* promise(() => page.fill("#api-key", "spa_never-issued"))
      yield* promise(() => page.click("#sign-in-form button[type=submit]"))
      const error = page.locator("#sign-in-error")
      yield* promise(() => error.waitFor({ state: "visible" }))
      const apiRefusal = yield* promise(() =>
        fetch(`${base}/api/workspaces/${workspaceId}/scans`, { headers: { authorization: "Bearer spa_never-issued" } })
          .then(async (r) => ({ status: r.status, message: ((await r.json()) as { message: string }).message }))
      )
      assert.strictEqual(apiRefusal.status, 401)
      assert.strictEqual(yield* promise(() => error.textContent()), apiRefusal.message)
      assert.include(apiRefusal.message, "unknown API key")
      assert.isFalse(yield* promise(() => page.locator("#workspace").isVisible()))
      yield* shoot(page, "#sign-in", "sign-in-error", out)

      // The right key: the workspace loads.
      yield* promise(() => page.fill("#api-key", key))
      yield* promise(() => page.click("#sign-in-form button[type=submit]"))
      yield* promise(() => page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 }))
      assert.strictEqual(yield* promise(() => page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem: (k: string) => string | null } }).sessionStorage.getItem("spectral.apiKey"))), key)
      assert.include(yield* promise(() => page.locator("#workspace-name").textContent()) ?? "", workspaceId)
      assert.isFalse(yield* promise(() => page.locator("#load-error").isVisible()), (yield* promise(() => page.locator("#load-error").textContent())) ?? "")

      // (a) The trend: one point per scan, one series.
      const scans = yield* client.scans.list({ params: { workspaceId } })
      assert.strictEqual(scans.length, 2)
      assert.isTrue(scans.every((s) => typeof s.blendedScore === "number"))
      const trend = yield* chartOf(page, "trend-chart")
      assert.deepStrictEqual(trend.series.map((s) => [s.type, s.points]), [["line", 2]])
      assert.strictEqual(trend.xCategories.length, 2)
      // The second scan is on the next world-model version: one marker there; clicking it shows the version.
      assert.strictEqual(trend.series[0]!.markers, 1)
      assert.isFalse(yield* promise(() => page.locator("#version-detail").isVisible()))
      const at = yield* promise(() =>
        page.evaluate((label) => {
          const page = globalThis as unknown as {
            document: { getElementById: (id: string) => unknown }
            echarts: { getInstanceByDom: (element: unknown) => { convertToPixel: (finder: unknown, value: unknown) => number; getHeight: () => number } }
          }
          const chart = page.echarts.getInstanceByDom(page.document.getElementById("trend-chart"))
          return { x: chart.convertToPixel({ xAxisIndex: 0 }, label), y: chart.getHeight() / 2 }
        }, trend.xCategories[1]!)
      )
      yield* promise(() => page.locator("#trend-chart").click({ position: { x: Math.round(at.x), y: Math.round(at.y) } }))
      const versionDetail = page.locator("#version-detail")
      yield* promise(() => versionDetail.waitFor({ state: "visible" }))
      const shown = (yield* promise(() => versionDetail.textContent())) ?? ""
      assert.include(shown, bump.worldModelId)
      assert.include(shown, `${bump.from} → ${bump.to}`)
      assert.include(shown, second.scanId)
      yield* shoot(page, "#trend-view", "trend", out)

      // (b) The latest verdict: the gate table and a forest-plot row per agent.
      const latest = [...scans].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)!
      const result = yield* client.scans.result({ params: { workspaceId, scanId: latest.id } })
      const card = yield* client.cards.json({ params: { workspaceId, scanId: latest.id } })
      assert.strictEqual(yield* promise(() => page.locator("#gate-table tbody tr").count()), result.verdict.checks.length)
      assert.include(yield* promise(() => page.locator("#verdict-outcome").textContent()) ?? "", result.verdict.outcome)
      const forest = yield* chartOf(page, "forest-chart")
      assert.isAbove(card.agents.length, 1)
      assert.includeMembers(forest.yCategories, card.agents.map((a) => a.name))
      assert.strictEqual(forest.yCategories.length, card.agents.length + (result.verdict.delta === null ? 0 : 1), "a row per agent (and the team's delta)")
      yield* shoot(page, "#verdict-view", "verdict", out)

      // (c) Failure clusters: a bar per cluster with its label and explanations.
      const clusters = yield* client.scans.clusters({ params: { workspaceId, scanId: latest.id } })
      const bars = yield* chartOf(page, "cluster-chart")
      assert.deepStrictEqual(bars.series.map((s) => [s.type, s.points]), [["bar", clusters.length]])
      assert.sameMembers(bars.yCategories, clusters.map((c) => c.label))
      const listed = (yield* promise(() => page.locator("#cluster-list").textContent())) ?? ""
      for (const c of clusters) assert.include(listed, c.representativeExplanations[0]!)
      yield* shoot(page, "#clusters-view", "clusters", out)

      // (d) The latest change set: Approve from the page writes the audit row.
      const sets = yield* client.changeSets.list({ params: { workspaceId } })
      const newest = [...sets].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.version - b.version).at(-1)!
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
    }).pipe(Effect.scoped), 300_000)
})
