/**
 * `spectral card pdf` and `renderCardPdf` through the machine's headless Chromium: the PDF, read
 * back as text with unpdf, carries the card's exact footer on every page and the card's facts (the
 * verdict, the authority ref). Without Chromium these skip — except under CI
 * (`SPECTRAL_REQUIRE_PG_SERVER=1`, set by `.ci/run`, which installs Debian's chromium), where they
 * fail. The missing-Chromium error is tested everywhere.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit, FileSystem } from "effect"
import { Command } from "effect/cli"
import { accessSync, constants, readFileSync } from "node:fs"
import { join } from "node:path"
import { extractText, getDocumentProxy } from "unpdf"
import { ALPHA_FOOTER } from "@spectral/engine/contracts"
import { CliFailed } from "../src/CliFailure.ts"
import { chromiumAt, DEFAULT_CHROMIUM, renderCardPdf } from "../src/cards/CardPdf.ts"
import { card } from "../src/commands/card.ts"
import { worldCommand } from "../src/commands/world.ts"

const scanCardFile = join(import.meta.dirname, "fixtures", "agent-performance-card.json")

const chromium = process.env.SPECTRAL_CHROMIUM ?? DEFAULT_CHROMIUM
const chromiumPresent = (() => {
  const found = Effect.runSyncExit(Effect.try(() => accessSync(chromium, constants.X_OK)))
  return Exit.isSuccess(found)
})()
const required = process.env.SPECTRAL_REQUIRE_PG_SERVER === "1"
/** Run where Chromium is; under CI run regardless, so a missing Chromium fails instead of skipping. */
const withChromium = chromiumPresent || required ? describe : describe.skip

/** Each page's text. */
const pagesOf = (pdf: Uint8Array) =>
  Effect.promise(() => getDocumentProxy(new Uint8Array(pdf))).pipe(
    Effect.flatMap((document) => Effect.promise(() => extractText(document, { mergePages: false }))),
    Effect.map((extracted) => extracted.text)
  )

const assertFooterOnEveryPage = (pages: ReadonlyArray<string>) => {
  for (const [index, text] of pages.entries()) {
    assert.include(text, ALPHA_FOOTER, `page ${index + 1}`)
    assert.include(text, `page ${index + 1} of ${pages.length}`, `page ${index + 1}`)
  }
}

const pdfCommand = (input: string, output: string) => Command.runWith(card, { version: "test" })(["pdf", "--input", input, "--out", output])

withChromium("cards as PDF", () => {
  it.effect("a scan's AgentPerformanceCard: the footer on every page, the verdict and the world model", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "spectral-card-pdf-" })
      const out = join(dir, "card.pdf")
      yield* pdfCommand(scanCardFile, out)
      const pdf = yield* fs.readFile(out)
      assert.strictEqual(new TextDecoder().decode(pdf.slice(0, 5)), "%PDF-")
      const pages = yield* pagesOf(pdf)
      assert.isAtLeast(pages.length, 2)
      assertFooterOnEveryPage(pages)
      const card = JSON.parse(readFileSync(scanCardFile, "utf8"))
      assert.include(pages[0], `Verdict: GO — ${card.verdict.checksPassed} of ${card.verdict.checksTotal} checks pass`)
      assert.include(pages[0], "World model: us-federal-individual-tax@0.1.0")
      assert.include(pages.join("\n"), "bootstrap_ci")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a WorldModelCard: the footer on every page, its version and rule-set hash", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "spectral-card-pdf-" })
      const json = join(dir, "world.json")
      yield* Command.runWith(worldCommand, { version: "test" })(["card", "--world", "us-federal-individual-tax@0.2.0", "--format", "json", "--output", json])
      const world = JSON.parse(yield* fs.readFileString(json))
      const out = join(dir, "world.pdf")
      yield* pdfCommand(json, out)
      const pages = yield* pagesOf(yield* fs.readFile(out))
      assert.isAtLeast(pages.length, 2)
      assertFooterOnEveryPage(pages)
      assert.include(pages[0], "Version: 0.2.0")
      assert.include(pages[0]!.replace(/\s+/g, ""), world.authority.ruleSetHash)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("renderCardPdf prints the footer it is given, as text, on every page of any HTML", () =>
    Effect.gen(function*() {
      const footer = "Footer <b>&</b> \"quoted\""
      const pdf = yield* renderCardPdf(`<!doctype html><body>${"<p>line</p>".repeat(150)}<img src="https://example.invalid/x.png"></body>`, footer)
      const pages = yield* pagesOf(pdf)
      assert.isAtLeast(pages.length, 3)
      for (const text of pages) assert.include(text, footer)
    }))
})

describe("without Chromium", () => {
  it.effect("SPECTRAL_CHROMIUM naming nothing: exit 2 saying what to set or install", () =>
    Effect.gen(function*() {
      const exit = yield* pdfCommand(scanCardFile, "/tmp/never-written.pdf").pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { SPECTRAL_CHROMIUM: "/nonexistent/chromium" } }))),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      assert.instanceOf(error, CliFailed)
      assert.strictEqual((error as CliFailed).code, 2)
      assert.include((error as CliFailed).message, "SPECTRAL_CHROMIUM is /nonexistent/chromium")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("no SPECTRAL_CHROMIUM and nothing at the default path: ChromiumNotFound naming the package to install", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(chromiumAt("/nonexistent/chromium").pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))))
      assert.strictEqual(error.reason, "ChromiumNotFound")
      assert.include(error.message, "no Chromium at /nonexistent/chromium")
      assert.include(error.message, "apt-get install chromium")
      assert.include(error.message, "SPECTRAL_CHROMIUM")
    }))
})
