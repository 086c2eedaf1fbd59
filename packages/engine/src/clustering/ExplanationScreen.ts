/**
 * Which failure explanations can be clustered, and what had to be done to them first. Every
 * explanation gets a typed outcome, so bad input never reaches the embedding as a zero vector
 * (which would join an arbitrary cluster) or a label as an empty string:
 *
 * - skipped, with its reason: `empty` (""), `whitespace_only`, or `no_content` — nothing the
 *   embedding weighs is left once it is cleaned (only control characters, U+FFFD, punctuation,
 *   numbers, ids, stop words or one-letter words). Such a member says nothing about a root cause.
 * - kept, with the adjustments made, when any: `truncated` (longer than `MaxExplanationChars`
 *   after cleaning: the head is clustered and the cut recorded, rather than the failure dropped —
 *   a judge's long explanation still names its cause near the start, and dropping it would hide a
 *   failure from the report), `lone_surrogates_replaced` (ill-formed UTF-16, i.e. text that was not
 *   valid UTF-8 upstream, with U+FFFD in place), `control_characters_removed` (C0/C1 controls other
 *   than tab and line breaks, terminal escape sequences, zero-width and bidi format characters) and
 *   `undecodable_characters` (U+FFFD already present: a decoder upstream lost characters).
 *
 * A kept explanation that was adjusted is replaced by its cleaned text (`cleanExplanation`) for
 * everything downstream — features, labels, representative explanations and what is stored —
 * so no lone surrogate or NUL reaches a JSON column. One token ("timeout") is kept: it is a
 * root cause, if a terse one. Pure; owns this screen only.
 */
import { cleanExplanation, contentWords, controls, loneSurrogate, MaxExplanationChars, terminalEscape } from "./ExplanationText.ts"
import { conceptsOf } from "./FailureVocabulary.ts"
import { severityTemplateOf } from "./SeverityTemplate.ts"

export type SkipReason = "empty" | "whitespace_only" | "no_content"

export type ExplanationAdjustment = "truncated" | "lone_surrogates_replaced" | "control_characters_removed" | "undecodable_characters"

export type ScreenedExplanation =
  | {
    readonly _tag: "Kept"
    /** The text to cluster: the explanation itself, or its cleaned form when it was adjusted. */
    readonly text: string
    readonly adjustments: ReadonlyArray<ExplanationAdjustment>
    /** UTF-16 code units of the explanation as given, and of `text`. */
    readonly originalChars: number
    readonly keptChars: number
  }
  | { readonly _tag: "Skipped"; readonly reason: SkipReason; readonly detail: string }

/** Whether `pattern` occurs in `text` (the shared global patterns are never used statefully). */
const occurs = (pattern: RegExp, text: string): boolean => text.search(pattern) >= 0

/** Control and format characters other than tab, line feed and carriage return (ordinary layout). */
const hasControls = (text: string): boolean => occurs(terminalEscape, text) || occurs(controls, text.replace(/[\t\n\r]/gu, ""))

/** The outcome for one explanation (see the module docblock). */
export const screenExplanation = (explanation: string): ScreenedExplanation => {
  if (explanation.length === 0) return { _tag: "Skipped", reason: "empty", detail: "the explanation is empty" }
  if (explanation.trim().length === 0) {
    return { _tag: "Skipped", reason: "whitespace_only", detail: `the explanation is ${explanation.length} whitespace character(s)` }
  }
  const clean = cleanExplanation(explanation)
  const { template } = severityTemplateOf(clean)
  if (contentWords(template).stems.length === 0 && conceptsOf(clean).length === 0) {
    const shown = clean.length > 40 ? `${clean.slice(0, 40)}…` : clean
    return {
      _tag: "Skipped",
      reason: "no_content",
      detail: clean.length === 0
        ? `nothing printable in ${explanation.length} character(s)`
        : `no word that names a cause in "${shown}" (only numbers, ids, symbols, stop words or single letters)`
    }
  }
  const adjustments: Array<ExplanationAdjustment> = []
  // The cleaned text is cut at MaxExplanationChars; a raw text over twice that is cut before cleaning.
  if (explanation.length > MaxExplanationChars * 2 || clean.length >= MaxExplanationChars) {
    const whole = explanation.replace(/\s+/gu, " ").trim()
    if (whole.length > clean.length) adjustments.push("truncated")
  }
  if (occurs(loneSurrogate, explanation)) adjustments.push("lone_surrogates_replaced")
  if (hasControls(explanation)) adjustments.push("control_characters_removed")
  if (explanation.includes("\uFFFD")) adjustments.push("undecodable_characters")
  const text = adjustments.length === 0 ? explanation : clean
  return { _tag: "Kept", text, adjustments, originalChars: explanation.length, keptChars: text.length }
}

export interface SkippedExplanation {
  /** Position of the failure in the input. */
  readonly index: number
  readonly traceId: string
  readonly reason: SkipReason
  readonly detail: string
}

export interface AdjustedExplanation {
  readonly index: number
  readonly traceId: string
  readonly adjustments: ReadonlyArray<ExplanationAdjustment>
  readonly originalChars: number
  readonly keptChars: number
}

export interface ScreenedFailures<F> {
  /** The failures to cluster, in input order, explanations replaced by their cleaned text where adjusted. */
  readonly kept: ReadonlyArray<F>
  readonly skipped: ReadonlyArray<SkippedExplanation>
  readonly adjusted: ReadonlyArray<AdjustedExplanation>
}

/** Screen every failure's explanation (see `screenExplanation`). */
export const screenFailures = <F extends { readonly traceId: string; readonly explanation: string }>(
  failures: ReadonlyArray<F>
): ScreenedFailures<F> => {
  const kept: Array<F> = []
  const skipped: Array<SkippedExplanation> = []
  const adjusted: Array<AdjustedExplanation> = []
  failures.forEach((failure, index) => {
    const screened = screenExplanation(failure.explanation)
    if (screened._tag === "Skipped") {
      skipped.push({ index, traceId: failure.traceId, reason: screened.reason, detail: screened.detail })
      return
    }
    if (screened.adjustments.length === 0) {
      kept.push(failure)
      return
    }
    kept.push({ ...failure, explanation: screened.text })
    adjusted.push({ index, traceId: failure.traceId, adjustments: screened.adjustments, originalChars: screened.originalChars, keptChars: screened.keptChars })
  })
  return { kept, skipped, adjusted }
}
