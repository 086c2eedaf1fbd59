/**
 * The dashboard as router layers for `spectral serve`: the page at `/`, its assets under `/assets/`
 * and the sign-in check at `/dashboard/session` (needs `ApiKeyRepo`, like the API).
 */
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import * as DashboardAssets from "./DashboardAssets.ts"
import { dashboardPage } from "./DashboardPage.ts"
import * as DashboardSession from "./DashboardSession.ts"

export const dashboardPath = "/"

const page = HttpRouter.add(
  "GET",
  dashboardPath,
  Effect.sync(() => HttpServerResponse.text(dashboardPage, { contentType: "text/html; charset=utf-8", headers: { "cache-control": "no-cache" } }))
)

export const routes = Layer.mergeAll(page, DashboardAssets.routes, DashboardSession.route)
