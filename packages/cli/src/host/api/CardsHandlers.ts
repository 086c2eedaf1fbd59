/**
 * Handlers of the `cards` group: a completed scan's AgentPerformanceCard (read back through its
 * schema from the complete phase's stored output, with the change set's current status and
 * authority, as the scan returned it) as JSON, Markdown and HTML, rendered by the engine's cards
 * module with the scan's record (the "Reproduce" section), and as PDF: the HTML printed by headless
 * Chromium with the card's footer on every page (503 naming what to install without one).
 */
import { Effect, Option, Schema } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ChangeSetRepo, renderHtml, renderMarkdown, ScanRepo } from "@spectral/engine"
import { AgentPerformanceCard } from "@spectral/engine/contracts"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiNotFound, ApiUnavailable } from "./ApiErrors.ts"
import { renderCardPdf } from "../../cards/CardPdf.ts"

const CompletePhaseOutput = Schema.Struct({ card: AgentPerformanceCard })
const decodeCompleteOutput = Schema.decodeUnknownEffect(CompletePhaseOutput)

export const CardsHandlers = HttpApiBuilder.group(
  SpectralApi,
  "cards",
  Effect.fn(function*(handlers) {
    const scans = yield* ScanRepo
    const changeSets = yield* ChangeSetRepo

    const cardOf = (pathWorkspaceId: string, scanId: string) =>
      Effect.gen(function*() {
        const workspaceId = yield* callerWorkspace(pathWorkspaceId, "read")
        const scan = yield* stored(scans.get(workspaceId, scanId))
        const output = Option.getOrUndefined(yield* stored(scans.phaseOutput(workspaceId, scan.id, "complete")))
        if (output === undefined) {
          return yield* new ApiNotFound({ entity: "card", id: scan.id, message: `scan ${scan.id} has no card yet (state ${scan.state})` })
        }
        const { card } = yield* Effect.orDie(decodeCompleteOutput(output))
        const changeSet = scan.changeSetId === undefined ? undefined : yield* stored(changeSets.get(workspaceId, scan.changeSetId))
        const current: AgentPerformanceCard = changeSet === undefined
          ? card
          : { ...card, changeSetStatus: changeSet.status, authority: changeSet.authority ?? card.authority }
        return { card: current, extras: { record: scan.record } }
      })

    return handlers
      .handle("json", ({ params }) => Effect.map(cardOf(params.workspaceId, params.scanId), ({ card }) => card))
      .handle("markdown", ({ params }) => Effect.map(cardOf(params.workspaceId, params.scanId), ({ card, extras }) => renderMarkdown(card, extras)))
      .handle("html", ({ params }) => Effect.map(cardOf(params.workspaceId, params.scanId), ({ card, extras }) => renderHtml(card, extras)))
      .handle("pdf", ({ params }) =>
        Effect.flatMap(cardOf(params.workspaceId, params.scanId), ({ card, extras }) =>
          renderCardPdf(renderHtml(card, extras), card.footer).pipe(Effect.mapError((error) => new ApiUnavailable({ message: error.message })))))
  })
)
