/**
 * A card file as the `spectral card` commands read it: an AgentPerformanceCard (what `spectral scan
 * --output` writes as `agent-performance-card.json`) or a WorldModelCard (`spectral world card
 * --format json`), told apart by their fields and decoded by their schemas, with their HTML
 * rendering and footer. Owns recognising a card; not rendering (engine, worlds) nor signing.
 */
import { Effect, Predicate, Result, Schema } from "effect"
import { renderHtml } from "@spectral/engine"
import { AgentPerformanceCard } from "@spectral/engine/contracts"
import { renderWorldModelCardHtml, WorldModelCard } from "@spectral/worlds"
import { CliInputError, issueLine } from "../CliIo.ts"

/** A decoded card and its kind (the kind a signature document records). */
export type CardDocument =
  | { readonly kind: "AgentPerformanceCard"; readonly card: AgentPerformanceCard }
  | { readonly kind: "WorldModelCard"; readonly card: WorldModelCard }

export type CardKind = CardDocument["kind"]

// A card to sign or print is exactly a card: a key the schema does not know is refused, not dropped.
const strict = { onExcessProperty: "error" } as const
const decodeAgentCard = Schema.decodeUnknownResult(AgentPerformanceCard, strict)
const decodeWorldCard = Schema.decodeUnknownResult(WorldModelCard, strict)

/** Which kind the raw JSON claims to be: a scan card names its scan, a world card its rules. */
const claimedKind = (raw: unknown): CardKind | undefined =>
  !Predicate.isObject(raw) ? undefined : "scanId" in raw ? "AgentPerformanceCard" : "rules" in raw && "ruleCount" in raw ? "WorldModelCard" : undefined

/**
 * Decode a parsed card file; anything else is a CliInputError naming `source` and the problem (the
 * schema issue of the kind it looks like, or that it looks like neither).
 */
export const decodeCardDocument = (raw: unknown, source: string): Effect.Effect<CardDocument, CliInputError> => {
  const kind = claimedKind(raw)
  if (kind === undefined) {
    return Effect.fail(new CliInputError({ file: source, message: "is not a card: expected an AgentPerformanceCard (agent-performance-card.json from spectral scan --output) or a WorldModelCard (spectral world card --format json)" }))
  }
  const invalid = (issue: Parameters<typeof issueLine>[0]) => new CliInputError({ file: source, message: `invalid ${kind}: ${issueLine(issue)}` })
  if (kind === "AgentPerformanceCard") {
    const decoded = decodeAgentCard(raw)
    return Result.isSuccess(decoded) ? Effect.succeed({ kind, card: decoded.success }) : Effect.fail(invalid(decoded.failure.issue))
  }
  const decoded = decodeWorldCard(raw)
  return Result.isSuccess(decoded) ? Effect.succeed({ kind, card: decoded.success }) : Effect.fail(invalid(decoded.failure.issue))
}

/** The card's HTML rendering (the page the PDF is printed from). */
export const cardHtml = (document: CardDocument): string =>
  document.kind === "AgentPerformanceCard" ? renderHtml(document.card) : renderWorldModelCardHtml(document.card)

/** The exact footer the card carries (every page of its PDF repeats it). */
export const cardFooter = (document: CardDocument): string => document.card.footer
