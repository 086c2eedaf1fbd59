/**
 * Cluster labels a person would write: a clause taken from what the members say, not a bag of
 * top terms. Every member explanation is cleaned (`cleanExplanation`), stripped of the judge's
 * bookkeeping (step and turn prefixes, run and trace ids, latencies, scores, attempts) and cut
 * into candidate clauses — the spans between sentence and clause punctuation, and the parts of a
 * span before "but", "because", "so", "where", "which", "while" — with quantities and ids as
 * placeholders (`SeverityTemplate`).
 *
 * Each clause is scored by how well it names what sets its cluster apart: the class-based TF-IDF
 * weight (share of the cluster's members saying it × ln(1 + all members / members saying it)) of
 * its content stems and failure concepts (`ExplanationText`, `FailureVocabulary`), over the square
 * root of its length, times 1 + ln(members that say exactly this clause); ties go to the clause that
 * comes first in the cluster's most central explanation. So on a cluster whose members all write the
 * same sentence the label is that sentence, and on one of paraphrases it is the member's clause that
 * covers the most of what they share. Quantities the same in every holder are kept ("age 65"); ones
 * that vary become their range ("5–60s"), and the label's severity variants are listed
 * ("15s ×12, 30s ×4"). Labels longer than 90 characters are cut at a word, with "…". Pure.
 */
import { cleanExplanation, contentWords } from "./ExplanationText.ts"
import { conceptsOf } from "./FailureVocabulary.ts"
import { NumberPlaceholder, severityTemplateOf } from "./SeverityTemplate.ts"

const MAX_LABEL = 90

/** Sentence and clause punctuation: where a candidate label always ends. */
const strongBoundary = /\s*(?:[.;:!?](?:\s+|$)|,\s+)\s*/giu
/** Before a subordinate clause: where a candidate may end, or the whole span may stand ("answered single where MFJ applies"). */
const weakBoundary = /\s+(?=(?:but|because|so|where|which|while|whereas)\s)/giu
const leading = /^(?:and|but|because|so|where|which|while|whereas|then)\s+/iu

const id = "[0-9a-f]{6,}(?:-[0-9a-f]{3,})*|[a-z]_[a-z0-9]{4,}"
/**
 * A judge's bookkeeping around the sentence, as written: "step 5:", "Turn 3 -", "[run 1a2b3c4d]",
 * "(trace 9f…)", "run <uuid>:", "(run took 12.3s)", "[latency 120ms]", "- run r_x9y8z7",
 * "Score: 2/5", "(attempt 1 of 3)", "See trace 4e5f….". Not a root cause, so never a label.
 */
const bookkeeping = new RegExp(
  [
    `\\b(?:step|turn)\\s*#?\\d+\\s*(?:of\\s*\\d+\\s*)?[:\\-–]\\s*`,
    `[\\[(]\\s*(?:run|trace|span|attempt|latency)\\b[^\\])]*[\\])]`,
    `\\b(?:run|trace|span)\\s+(?:${id})\\s*:?`,
    `\\s-\\s*(?:run|trace)\\s+\\S+`,
    `\\bsee (?:run|trace) \\S+`,
    `\\bscore\\s*:?\\s*\\d+(?:\\.\\d+)?\\s*/\\s*\\d+\\.?`
  ].join("|"),
  "giu"
)

/** The explanation without the judge's bookkeeping (see `bookkeeping`), cleaned; U+FFFD (characters lost upstream) left out. */
export const withoutBookkeeping = (explanation: string): string =>
  cleanExplanation(explanation).replace(/\uFFFD+/gu, " ").replace(bookkeeping, " ").replace(/\s+/gu, " ").replace(/^[\s,.;:\-–]+|[\s,;:\-–]+$/gu, "").trim()

interface Clause {
  /** Lower-cased template: the key clauses are counted by. */
  readonly key: string
  /** As written in the template (placeholders in place). */
  readonly template: string
  /** The quantities of this clause, in order. */
  readonly values: ReadonlyArray<string>
  /** Its content stems and failure concepts: what it is scored by. */
  readonly terms: ReadonlyArray<string>
}

const wordsOf = (text: string) => text.split(/\s+/u).filter((w) => /\p{L}{2,}/u.test(w))

const placeholdersIn = (text: string) => text.split(NumberPlaceholder).length - 1 + (text.split("<id>").length - 1)

/**
 * The candidate labels of one explanation, in order, with their quantities: each span between
 * sentence or clause punctuation, and, when it has subordinate clauses, each of those too.
 */
export const clausesOf = (explanation: string): ReadonlyArray<Clause> => {
  const { template, values } = severityTemplateOf(withoutBookkeeping(explanation))
  const out: Array<Clause> = []
  const push = (raw: string, own: ReadonlyArray<string>) => {
    const text = raw.replace(leading, "").replace(/[\s,.;:!?]+$/u, "").trim()
    if (wordsOf(text).length < 2) return
    const terms = [...new Set([...contentWords(text).stems, ...conceptsOf(text).map((c) => `concept:${c}`)])]
    out.push({ key: text.toLowerCase(), template: text, values: own, terms })
  }
  let valueIndex = 0
  for (const span of template.split(strongBoundary)) {
    const spanValues = values.slice(valueIndex, valueIndex + placeholdersIn(span))
    valueIndex += spanValues.length
    const parts = span.split(weakBoundary)
    if (parts.length > 1) push(span, spanValues)
    let partIndex = 0
    for (const part of parts) {
      const own = spanValues.slice(partIndex, partIndex + placeholdersIn(part))
      partIndex += own.length
      push(part, own)
    }
  }
  return out
}

const numberOf = (value: string): { readonly n: number; readonly unit: string } | undefined => {
  const m = /^(\d+(?:[.,]\d+)*)([\p{L}%]*)$/u.exec(value)
  if (m === null) return undefined
  const n = Number(m[1]!.replace(/,/gu, ""))
  return Number.isFinite(n) ? { n, unit: m[2]! } : undefined
}

/** As the members wrote it: thousands separators only where they used them. */
const format = (n: number, grouped: boolean) => (grouped ? n.toLocaleString("en-US", { maximumFractionDigits: 2 }) : String(n))

/**
 * One placeholder's values across the members, without their unit (the template keeps the unit
 * after the placeholder): the value when all agree, else the range, else "N".
 */
const renderValues = (values: ReadonlyArray<string>): string => {
  const numbers = [...new Set(values)].map(numberOf)
  if (numbers.length === 0 || numbers.some((x) => x === undefined)) return "N"
  const ns = numbers.map((x) => x!.n)
  const grouped = values.some((v) => v.includes(","))
  const low = Math.min(...ns)
  const high = Math.max(...ns)
  return low === high ? format(low, grouped) : `${format(low, grouped)}–${format(high, grouped)}`
}

const trim = (label: string) => {
  if (label.length <= MAX_LABEL) return label
  const cut = label.slice(0, MAX_LABEL - 1)
  const space = cut.lastIndexOf(" ")
  return `${(space > 40 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/u, "")}…`
}

/** A cluster's label and the severity variants of its quantity ("15s ×12, 30s ×4"). */
export interface ClusterLabel {
  readonly label: string
  /** Values of the label's varying quantity across the members that say it, most frequent first. */
  readonly severities: ReadonlyArray<{ readonly value: string; readonly count: number }>
}

/** "15s ×12, 30s ×4" (at most `limit`, then "…"); empty when there are none. */
export const severitySummary = (severities: ClusterLabel["severities"], limit = 4): string =>
  severities.slice(0, limit).map(({ count, value }) => `${value} ×${count}`).join(", ") + (severities.length > limit ? ", …" : "")

/**
 * The label of each cluster. `members[c]` are the explanations of cluster c; `central[c]` the
 * index (into `members[c]`) of its most central explanation. Falls back to `fallback[c]` (the top
 * terms) when no clause has two words.
 */
export const clusterLabels = (
  members: ReadonlyArray<ReadonlyArray<string>>,
  central: ReadonlyArray<number>,
  fallback: ReadonlyArray<string>
): ReadonlyArray<ClusterLabel> => {
  const clauses = members.map((texts) => texts.map(clausesOf))
  const total = members.reduce((n, texts) => n + texts.length, 0)
  // Members saying each term, per cluster and overall (once per member).
  const documentFrequency = new Map<string, number>()
  const termCounts = clauses.map((cluster) => {
    const count = new Map<string, number>()
    for (const member of cluster) {
      for (const term of new Set(member.flatMap((clause) => clause.terms))) {
        count.set(term, (count.get(term) ?? 0) + 1)
        documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1)
      }
    }
    return count
  })
  return members.map((texts, c): ClusterLabel => {
    const none = { label: fallback[c] ?? "", severities: [] }
    if (texts.length === 0) return none
    const weight = (term: string) => ((termCounts[c]!.get(term) ?? 0) / texts.length) * Math.log(1 + total / (documentFrequency.get(term) ?? 1))
    const keyCounts = new Map<string, number>()
    for (const member of clauses[c]!) for (const key of new Set(member.map((clause) => clause.key))) keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1)
    const centralClauses = clauses[c]![central[c] ?? 0] ?? []
    const position = new Map(centralClauses.map((clause, i) => [clause.key, i]))
    let best: { clause: Clause; score: number; position: number } | undefined
    for (const member of clauses[c]!) {
      for (const clause of member) {
        if (clause.terms.length === 0) continue
        const covered = clause.terms.reduce((sum, term) => sum + weight(term), 0)
        const score = (covered / Math.sqrt(clause.terms.length)) * (1 + Math.log(keyCounts.get(clause.key)!))
        const at = position.get(clause.key) ?? Number.MAX_SAFE_INTEGER
        if (best === undefined || score > best.score + 1e-12 || (Math.abs(score - best.score) <= 1e-12 && at < best.position)) {
          best = { clause, score, position: at }
        }
      }
    }
    if (best === undefined) return none
    // Its wording from the central explanation when it has it, else from the first member that does.
    const key = best.clause.key
    const holders = clauses[c]!.flatMap((member) => member.filter((clause) => clause.key === key))
    const shown = centralClauses.find((clause) => clause.key === key) ?? best.clause
    const slots = shown.values.length
    const sameShape = holders.filter((h) => h.values.length === slots)
    let index = 0
    const label = shown.template.replace(/<num>|<id>/gu, (placeholder) => {
      const i = index++
      if (placeholder === "<id>" || i >= slots) return placeholder === "<id>" ? "…" : "N"
      return renderValues(sameShape.map((h) => h.values[i]!))
    })
    // Severity variants: the holders' quantities that differ between them, with their units.
    const units = [...shown.template.matchAll(/<num>([\p{L}%]{0,8})/gu)].map((m) => m[1] ?? "")
    const varying = Array.from({ length: slots }, (_, i) => i).filter((i) => new Set(sameShape.map((h) => h.values[i])).size > 1)
    const counts = new Map<string, number>()
    if (varying.length > 0) {
      for (const holder of sameShape) {
        const value = varying.map((i) => `${holder.values[i]}${holder.values[i]!.endsWith(units[i] ?? "") ? "" : units[i] ?? ""}`).join("/")
        counts.set(value, (counts.get(value) ?? 0) + 1)
      }
    }
    const severities = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value, "en", { numeric: true }))
    return { label: trim(label), severities }
  })
}
