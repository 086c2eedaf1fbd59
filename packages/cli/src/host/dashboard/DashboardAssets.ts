/**
 * The dashboard's static assets, all served from the package (nothing from a CDN): Apache ECharts'
 * `dist/echarts.min.js` (resolved from the installed `echarts` package) at `/assets/echarts.min.js`,
 * the page's script and its style sheet. Each is read or built once and cached by the browser for
 * an hour; a missing ECharts build is a defect naming the file.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { dashboardScript } from "./DashboardScript.ts"
import { dashboardStyle } from "./DashboardStyle.ts"

export const echartsPath = "/assets/echarts.min.js" as const
export const scriptPath = "/assets/dashboard.js" as const
export const stylePath = "/assets/dashboard.css" as const

/** Where the installed ECharts build is (throws naming the package when it is not installed). */
export const echartsFile = (): string => createRequire(import.meta.url).resolve("echarts/dist/echarts.min.js")

const cached = { "cache-control": "public, max-age=3600" }

const asset = (path: `/${string}`, contentType: string, body: () => string) => {
  let text: string | undefined
  return HttpRouter.add(
    "GET",
    path,
    Effect.sync(() => HttpServerResponse.text((text ??= body()), { contentType, headers: cached }))
  )
}

/** The three asset routes as one router layer. */
export const routes = Layer.mergeAll(
  asset(echartsPath, "text/javascript; charset=utf-8", () => readFileSync(echartsFile(), "utf8")),
  asset(scriptPath, "text/javascript; charset=utf-8", () => dashboardScript),
  asset(stylePath, "text/css; charset=utf-8", () => dashboardStyle)
)
