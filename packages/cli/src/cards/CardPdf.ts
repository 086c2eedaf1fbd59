/**
 * Cards as PDF: a card's HTML printed by headless Chromium (driven through `playwright-core`, never
 * a downloaded browser) with the card's exact footer on every page (Chromium's footer template),
 * page numbers beside it. The Chromium is `SPECTRAL_CHROMIUM` when set, else `/usr/bin/chromium`
 * (Debian's `chromium` package); none there is a `CardPdfError` naming what to install. Each
 * rendering launches its own browser with a fresh temporary profile (Playwright's, removed on
 * close), JavaScript off and every network request refused: the card is self-contained HTML.
 * Owns printing; not the HTML (the cards' renderers) nor where the PDF goes.
 */
import { Config, Effect, Option, Schema } from "effect"
import { accessSync, constants } from "node:fs"
import type { Browser } from "playwright-core"

/** Why a PDF could not be made. */
export class CardPdfError extends Schema.TaggedError<CardPdfError>()("CardPdfError", {
  reason: Schema.Literals(["ChromiumNotFound", "LaunchFailed", "RenderFailed"]),
  message: Schema.String
}) {}

/** Where Debian's `chromium` package installs the browser; used when `SPECTRAL_CHROMIUM` is not set. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium"

/** The command-line switches Chromium is launched with (besides Playwright's own). */
export const CHROMIUM_ARGS: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

const LAUNCH_TIMEOUT_MS = 30_000
const RENDER_TIMEOUT_MS = 60_000

const describe = (error: unknown) => (error instanceof Error ? error.message.split("\n")[0]! : String(error))

const isExecutable = (path: string) =>
  Effect.try({ try: () => accessSync(path, constants.X_OK), catch: () => false }).pipe(Effect.as(true), Effect.catch(Effect.succeed))

/**
 * The Chromium executable to print with: `SPECTRAL_CHROMIUM`, or `fallback`. Neither executable:
 * `ChromiumNotFound`, saying what to install or set.
 */
export const chromiumAt = (fallback: string): Effect.Effect<string, CardPdfError> =>
  Effect.gen(function*() {
    const configured = yield* Config.option(Config.String("SPECTRAL_CHROMIUM")).pipe(
      Effect.mapError((error) => new CardPdfError({ reason: "ChromiumNotFound", message: `SPECTRAL_CHROMIUM: ${error.message}` }))
    )
    const path = Option.getOrElse(configured, () => fallback)
    if (yield* isExecutable(path)) return path
    return yield* new CardPdfError({
      reason: "ChromiumNotFound",
      message: Option.isSome(configured)
        ? `SPECTRAL_CHROMIUM is ${path}, which is not an executable: point it at a Chromium or Chrome binary, or unset it to use ${fallback}`
        : `no Chromium at ${path}: install Debian's chromium package (apt-get install chromium), or set SPECTRAL_CHROMIUM to a Chromium or Chrome executable`
    })
  })

/** The Chromium executable: `SPECTRAL_CHROMIUM`, or Debian's `/usr/bin/chromium`. */
export const findChromium: Effect.Effect<string, CardPdfError> = chromiumAt(DEFAULT_CHROMIUM)

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** Chromium's footer template: the footer text, then the page number (`pageNumber`/`totalPages` are filled in by Chromium). */
const footerTemplate = (footer: string) =>
  `<div style="font-family:system-ui,sans-serif;font-size:9px;width:100%;margin:0 12mm;display:flex;justify-content:space-between">` +
  `<span style="font-weight:bold">${escapeHtml(footer)}</span>` +
  `<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`

// playwright-core is loaded on first use: every other `spectral` command starts without it.
const launch = (executablePath: string) =>
  Effect.tryPromise({
    try: () => import("playwright-core").then(({ chromium }) => chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], timeout: LAUNCH_TIMEOUT_MS })),
    catch: (error) => new CardPdfError({ reason: "LaunchFailed", message: `Chromium at ${executablePath} did not start: ${describe(error)}` })
  })

const rendering = <A>(step: () => Promise<A>) =>
  Effect.tryPromise({
    try: step,
    catch: (error) => new CardPdfError({ reason: "RenderFailed", message: `Chromium could not print the card: ${describe(error)}` })
  })

const print = Effect.fnUntraced(function*(browser: Browser, html: string, footer: string) {
  const context = yield* rendering(() => browser.newContext({ javaScriptEnabled: false, offline: true }))
  const page = yield* rendering(() => context.newPage())
  // The card is self-contained: anything it would fetch is refused rather than reached for.
  yield* rendering(() => page.route("**/*", (route) => route.abort()))
  yield* rendering(() => page.setContent(html, { waitUntil: "load", timeout: RENDER_TIMEOUT_MS }))
  const pdf = yield* rendering(() =>
    page.pdf({
      format: "A4",
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate: footerTemplate(footer),
      margin: { top: "14mm", bottom: "18mm", left: "12mm", right: "12mm" }
    })
  )
  return new Uint8Array(pdf)
}, Effect.timeoutOrElse({
  duration: RENDER_TIMEOUT_MS,
  orElse: () => Effect.fail(new CardPdfError({ reason: "RenderFailed", message: `Chromium did not print the card within ${RENDER_TIMEOUT_MS / 1000} s` }))
}))

const close = (browser: Browser) => Effect.tryPromise(() => browser.close()).pipe(Effect.ignore)

/**
 * Print a card's HTML to PDF (A4) with `footer` — the card's exact footer — on every page. The host
 * service reuses this for its card downloads: `renderCardPdf(renderHtml(card), card.footer)`.
 */
export const renderCardPdf = (html: string, footer: string): Effect.Effect<Uint8Array, CardPdfError> =>
  Effect.gen(function*() {
    const executablePath = yield* findChromium
    return yield* Effect.acquireUseRelease(launch(executablePath), (browser) => print(browser, html, footer), close)
  }).pipe(Effect.withSpan("CardPdf.renderCardPdf"))
