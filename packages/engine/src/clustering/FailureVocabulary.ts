/**
 * The failure vocabulary of LLM judges: the few dozen ways a judge says the same kind of failure
 * ("timed out", "no response within 15s", "hit the deadline", "hung until the client gave up" are
 * all a timeout). Each concept is a pattern over the lower-cased explanation; an explanation that
 * matches gets the concept as an extra feature (`concept:timeout`), so paraphrases of one root
 * cause share features their words do not. Concepts name the *kind* of failure only — never a
 * domain entity (a tool, a form, a field): those come from the explanation's own words.
 *
 * Owns this lexicon; how much a concept weighs is `HashedTfIdfEmbedding.ts`'s concern.
 */

export interface FailureConcept {
  readonly name: string
  readonly pattern: RegExp
}

const concept = (name: string, alternatives: ReadonlyArray<string>): FailureConcept => ({
  name,
  pattern: new RegExp(`(?:${alternatives.join("|")})`, "iu")
})

export const failureConcepts: ReadonlyArray<FailureConcept> = [
  concept("timeout", [
    "time[ds]?[ -]?out",
    "timeouts?",
    "deadline",
    "time limit",
    "no (?:response|reply|answer) (?:from|within|before)",
    "did(?: not|n't) (?:respond|reply|answer) (?:before|within|in time)",
    "never (?:came back|responded|returned|replied)",
    "\\bhung\\b",
    "\\bhangs?\\b",
    "stall(?:ed|s)?\\b",
    "took (?:too long|longer than)",
    "waited \\S+ (?:seconds?|s) (?:for|on)"
  ]),
  concept("rate_limit", [
    "rate[ -]?limit",
    "\\b429\\b",
    "throttl",
    "too many requests",
    "quota",
    "requests? per (?:minute|second|hour)",
    "calls? per (?:minute|second|hour)"
  ]),
  concept("server_error", ["\\b50[0234]\\b", "internal server error", "service unavailable", "bad gateway", "server error"]),
  concept("connection", ["connection (?:reset|refused|closed|dropped)", "econn\\w*", "socket hang up", "network (?:error|failure)", "\\bdns\\b"]),
  concept("truncated", [
    "truncat",
    "cut (?:off|short)",
    "ends? abruptly",
    "stops? mid",
    "mid-?sentence",
    "max_?tokens",
    "token limit",
    "ran out of (?:output )?tokens",
    "incomplete (?:response|answer|output)"
  ]),
  concept("malformed_output", [
    "malformed",
    "\\bjson\\b",
    "\\bschema\\b",
    "pars(?:e|ing) (?:error|failed)",
    "could not (?:be )?parse",
    "unparseable",
    "unterminated",
    "unexpected token",
    "trailing comma",
    "markdown fences?",
    "required (?:output )?(?:field|format)",
    "structured output"
  ]),
  concept("fabricated", [
    "fabricat",
    "hallucinat",
    "non-?existent",
    "does(?: not|n't) exist",
    "no such",
    "made up",
    "invent(?:ed|s)?\\b",
    "not (?:a )?real\\b",
    "fake\\b"
  ]),
  concept("asked_again", [
    "asked (?:\\S+ ){0,4}again",
    "asks? (?:\\S+ ){0,4}again",
    "asked twice",
    "second time",
    "once more",
    "re-?(?:ask|enter|request)",
    "already (?:gave|given|provided|supplied|answered|stated|in the)",
    "redundant (?:follow-?up )?question",
    "repeated (?:a |the )?question"
  ]),
  concept("omitted", [
    "\\bmissing\\b",
    "\\bomit",
    "forgot to",
    "skipped",
    "never applied",
    "not applied",
    "no \\S+ (?:was )?applied",
    "neither \\S+ nor"
  ]),
  concept("wrong_value", [
    "wrong (?:amount|value|figure|number)",
    "incorrect (?:amount|value|figure|number)",
    "\\bamount\\b[^.;]{0,80}?\\b(?:wrong|incorrect|instead of|should (?:have been|be)|too (?:small|large|high|low))",
    "does(?: not|n't) match the"
  ]),
  concept("outdated", [
    "outdated",
    "out of date",
    "prior[ -]year",
    "previous year",
    "last year'?s",
    "\\bstale\\b",
    "superseded",
    "inflation adjust",
    "have since been"
  ]),
  concept("arithmetic", [
    "arithmetic",
    "miscalculat",
    "calculation (?:error|slip|mistake)",
    "math(?:s|ematical)? (?:error|mistake)",
    "(?:addition|subtraction|multiplication|rounding) error",
    "(?:don't|do not|doesn't|does not) add up",
    "(?:summing|adding)\\b",
    "sum of",
    "running total"
  ]),
  concept("misclassified", [
    "classified (?:\\S+ ){0,3}as",
    "treated (?:\\S+ ){0,5}as",
    "put on the \\S+ path",
    "should (?:have )?be(?:en)? (?:classified|treated|filed)",
    "instead of (?:married|single|head)"
  ]),
  concept("ignored_rule", ["ignored", "misappl", "without checking", "rules? out", "not allowed", "fails? the \\S+ test", "is not eligible", "cannot be"])
]

/** The concepts an explanation expresses, in lexicon order. */
export const conceptsOf = (text: string): ReadonlyArray<string> =>
  failureConcepts.filter(({ pattern }) => pattern.test(text)).map(({ name }) => name)
