/**
 * What of a failure explanation the offline embedding weighs: the text made well-formed (lone
 * surrogates become U+FFFD, terminal escape sequences dropped, control characters spaces, NFKC), the judge's bookkeeping taken out
 * (step / turn / run / trace / attempt references, latencies, scores, opaque ids, quantities),
 * identifiers (`tax_lookup`, `BracketService`) kept whole and marked, stop words dropped and the
 * rest Porter-stemmed. Owns this text transform only; the weighting is in
 * `HashedTfIdfEmbedding.ts`, the severity templates in `SeverityTemplate.ts`.
 */
import { porterStem } from "./PorterStemmer.ts"
import { IdPlaceholder, NumberPlaceholder } from "./SeverityTemplate.ts"

/** Characters of an explanation that are read; the rest of a longer one is ignored. */
export const MaxExplanationChars = 20_000

export const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu
/** ANSI / VT100 escape sequences (CSI "ESC [ … m" colours and cursor moves, OSC "ESC ] … BEL"): a log's styling, never words. */
export const terminalEscape = /\u001B(?:\[[0-?]*[ -\/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|[@-Z\\-_])/gu
// C0 and C1 controls, DEL, and the zero-width / bidi format characters.
export const controls = /[\u0000-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2060-\u2064\uFEFF]/gu

/**
 * The explanation as a well-formed, printable string: lone surrogates replaced by U+FFFD, terminal
 * escape sequences removed, control and format characters replaced by spaces, NFKC, whitespace collapsed, cut to `MaxExplanationChars`.
 */
export const cleanExplanation = (text: string): string => {
  const cut = text.length > MaxExplanationChars * 2 ? text.slice(0, MaxExplanationChars * 2) : text
  const clean = cut.replace(loneSurrogate, "\uFFFD").replace(terminalEscape, " ").replace(controls, " ").normalize("NFKC").replace(/\s+/gu, " ").trim()
  return clean.length > MaxExplanationChars ? clean.slice(0, MaxExplanationChars).replace(/[\uD800-\uDBFF]$/u, "") : clean
}

/** English function words: they carry no root cause and only make unrelated texts look alike. */
export const stopWords: ReadonlySet<string> = new Set(
  ("a an and are as at be been being but by for from had has have he her his i if in into is it its itself me my of on " +
    "or our she so such than that the their them then there these they this those to too us was we were what when " +
    "where which while who whom why will with would you your after before during via per also just only very can could " +
    "should may might must shall do does did doing am any some all each both").split(" ")
)

const placeholder = `(?:${NumberPlaceholder}|${IdPlaceholder})`
/**
 * A judge's bookkeeping, on the severity template (quantities and ids already placeholders):
 * positions ("step 5", "turn 3 of 8", "line 12"), run / trace / span ids, attempts, latencies and
 * durations ("latency 120ms", "took 12.4s", "30 seconds"), counts ("3 times"), scores ("Score: 2/5").
 */
const bookkeeping = new RegExp(
  [
    `\\b(?:step|turn|run|trace|span|attempt|iteration|message|line|row|trace[_ ]id|run[_ ]id|request[_ ]id)s?\\s*[#:=]?\\s*(?:no\\.?\\s*)?${placeholder}\\w*(?:\\s*(?:of|/)\\s*${placeholder}\\w*)?`,
    `\\b(?:latency|duration|elapsed|took)\\s*[:=]?\\s*${placeholder}\\w*`,
    `${placeholder}\\s*(?:ms|milliseconds?|secs?|seconds?|mins?|minutes?|hours?|hrs?|times)\\b`,
    `\\bscore\\s*[:=]?\\s*${placeholder}(?:\\s*/\\s*${placeholder})?`,
    `\\b(?:run|trace|span)\\s+[\\p{L}\\p{N}]+[_-][\\p{L}\\p{N}_-]*\\d[\\p{L}\\p{N}_-]*`
  ].join("|"),
  "giu"
)

/** A token that mixes letters and digits in a way no word does ("r_9b1xo5", "7hq2xl"): an id. */
const looksLikeId = (token: string): boolean => /\d/u.test(token) && /\p{L}/u.test(token) && (token.match(/\d+|\p{L}+/gu) ?? []).length >= 4

/**
 * An identifier — snake_case, camelCase, or letters glued to digits (`tax_lookup`, `BracketService`,
 * `pub501-search`) — names a tool, a field or a file: where something failed, not what failed.
 * Hyphenated lower-case words ("head-of-household", "re-enter") are English compounds, not identifiers.
 */
const isIdentifier = (token: string): boolean =>
  /\p{L}_|_\p{L}/u.test(token) || /\p{Ll}\p{Lu}/u.test(token) || (/\p{L}/u.test(token) && /\p{N}/u.test(token))

const tokenPattern = /[\p{L}\p{N}][\p{L}\p{N}_'’-]*/gu

export interface ExplanationWords {
  /** Content words as written (lower-cased, compounds split): what character n-grams are taken from. */
  readonly words: ReadonlyArray<string>
  /** Their Porter stems (identifiers whole and unstemmed), in order: what word n-grams are taken from. */
  readonly stems: ReadonlyArray<string>
  /** Whether each word is an identifier (a tool or field name), which the embedding weighs less. */
  readonly identifiers: ReadonlyArray<boolean>
}

/**
 * The content words of a severity template (see `SeverityTemplate.ts`): bookkeeping removed,
 * placeholders, ids and bare numbers (but not status codes) dropped, identifiers kept whole
 * (lower-cased, separators as `_`), hyphenated compounds split, stop words and one-letter words
 * dropped, possessives and "n't" folded.
 */
export const contentWords = (template: string): ExplanationWords => {
  const words: Array<string> = []
  const stems: Array<string> = []
  const identifiers: Array<boolean> = []
  const push = (word: string, stem: string, identifier: boolean) => {
    words.push(word)
    stems.push(stem)
    identifiers.push(identifier)
  }
  const text = template.replace(bookkeeping, " ").replace(/<num>|<id>/gu, " ")
  for (const raw of text.match(tokenPattern) ?? []) {
    const token = raw.replace(/[’]/gu, "'").replace(/'s$|'$/u, "").replace(/n't$/u, " not").replace(/[-_']+$/u, "")
    if (looksLikeId(token)) continue
    // Numbers left in a template are HTTP status codes (see `SeverityTemplate.ts`): a word here.
    if (/^[45]\d\d$/u.test(token)) {
      push(token, token, false)
      continue
    }
    if (isIdentifier(token)) {
      const name = token
        .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1_$2")
        .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1_$2")
        .replace(/[-_]+/gu, "_")
        .toLowerCase()
      push(name, name, true)
      continue
    }
    for (const piece of token.toLowerCase().split(/[-\s']+/u)) {
      if (piece.length < 2 || /^\p{N}+$/u.test(piece) || stopWords.has(piece)) continue
      push(piece, porterStem(piece), false)
    }
  }
  return { words, stems, identifiers }
}
