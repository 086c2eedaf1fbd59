/**
 * Severity-variant normalisation: the concrete quantities in an explanation ("30s", "5",
 * "$1,200.50", "3 retries") are replaced by `<num>` (units kept: "30s" → "<num>s"), and ids
 * (UUIDs, long hex) by `<id>`, giving the *template* that names the root cause; the replaced
 * values are kept, in order, to list the variants. "timeout after 30s calling tax_lookup" and
 * "timeout after 5s calling tax_lookup" share the template "timeout after <num>s calling tax_lookup".
 * HTTP status codes stay literal ("returned 429", "HTTP 503"): a 429 and a 503 are different
 * failures, not severities of one — unless a count noun follows ("429 tokens").
 * Owns only this text transform; clustering of templates is elsewhere.
 */

export interface SeverityTemplate {
  /** Explanation with quantities as `<num>` and ids as `<id>`, whitespace collapsed. */
  readonly template: string
  /** The replaced quantities and ids, in order of appearance, as written ("30s", "1,200.50"). */
  readonly values: ReadonlyArray<string>
}

/** Placeholder for a quantity in a template. */
export const NumberPlaceholder = "<num>"
/** Placeholder for an opaque id in a template. */
export const IdPlaceholder = "<id>"

// One pass, leftmost match first: an id (a UUID, or ≥ 8 hex characters with a digit and a letter),
// or a quantity — digits (with , or . groups) not glued to a preceding letter, digit or underscore
// ("v2", "tax_lookup2" stay), plus an attached unit of letters or % ("30s", "500ms", "12%").
const variablePattern =
  /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,})\b|(?<![\p{L}\p{N}_.,])(\d+(?:[.,]\d+)*)([\p{L}%]{0,8})/giu

const statusCodes = new Set([400, 401, 402, 403, 404, 405, 408, 409, 410, 413, 415, 422, 429, 500, 501, 502, 503, 504])
const countNoun =
  /^\s*(?:tokens?|seconds?|secs?|minutes?|mins?|hours?|days?|dollars?|usd|chars?|characters?|words?|lines?|items?|rows?|times?|calls?|requests?|retries|attempts?|users?|records?|bytes?|ms|kb|mb|pages?|steps?|turns?)\b/iu

/** Whether `digits` at `offset` is an HTTP status code rather than a quantity. */
const isStatusCode = (digits: string, unit: string, text: string, offset: number): boolean =>
  unit === "" && statusCodes.has(Number(digits)) && !/[$€£#]\s*$/u.test(text.slice(Math.max(0, offset - 2), offset)) &&
  !countNoun.test(text.slice(offset + digits.length, offset + digits.length + 16))

/** The template and values of one explanation. */
export const severityTemplateOf = (text: string): SeverityTemplate => {
  const values: Array<string> = []
  const template = text
    .replace(variablePattern, (match, id: string | undefined, digits: string | undefined, unit: string | undefined, offset: number) => {
      if (digits !== undefined && isStatusCode(digits, unit ?? "", text, offset)) return match
      values.push(match)
      return id !== undefined ? IdPlaceholder : NumberPlaceholder + (digits === undefined ? "" : unit ?? "")
    })
    .replace(/\s+/gu, " ")
    .trim()
  return { template, values }
}
