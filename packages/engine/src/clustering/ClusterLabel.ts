/**
 * Cluster labels a person would write: a clause taken from what the members say, not a bag of
 * top terms. Every member explanation is cut into clauses (at sentence and clause punctuation, and
 * before "but", "because", "so", "where", "which", "while"), with quantities and ids as
 * placeholders (`SeverityTemplate`). The label is the clause that the most members of the cluster
 * say and the fewest members of other clusters say (share inside − share outside), ties going to
 * the clause that comes first in the cluster's most central explanation. Quantities that are the
 * same in every member are kept ("age 65"); ones that vary become their range ("5–60s"). Labels
 * longer than 90 characters are cut at a word, with "…". Pure.
 */
import { NumberPlaceholder, severityTemplateOf } from "./SeverityTemplate.ts"

const MAX_LABEL = 90

const boundary = /\s*(?:[.;:!?](?:\s+|$)|,\s+|\s+(?=(?:but|because|so|where|which|while|whereas)\s))\s*/giu
const leading = /^(?:and|but|because|so|where|which|while|whereas|then)\s+/iu

interface Clause {
  /** Lower-cased template: the key clauses are counted by. */
  readonly key: string
  /** As written in the template (placeholders in place). */
  readonly template: string
  /** The quantities of this clause, in order. */
  readonly values: ReadonlyArray<string>
}

const wordsOf = (text: string) => text.split(/\s+/u).filter((w) => /\p{L}{2,}/u.test(w))

/** The clauses of one explanation, in order, with their quantities. */
export const clausesOf = (explanation: string): ReadonlyArray<Clause> => {
  const { template, values } = severityTemplateOf(explanation)
  const out: Array<Clause> = []
  let valueIndex = 0
  for (const raw of template.split(boundary)) {
    const placeholders = raw.split(NumberPlaceholder).length - 1 + (raw.split("<id>").length - 1)
    const own = values.slice(valueIndex, valueIndex + placeholders)
    valueIndex += placeholders
    const text = raw.replace(leading, "").replace(/[\s,.;:!?]+$/u, "").trim()
    if (wordsOf(text).length < 2) continue
    out.push({ key: text.toLowerCase(), template: text, values: own })
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

/**
 * The label of each cluster. `members[c]` are the explanations of cluster c; `central[c]` the
 * index (into `members[c]`) of its most central explanation. Falls back to `fallback[c]` (the top
 * terms) when no clause has two words.
 */
export const clusterLabels = (
  members: ReadonlyArray<ReadonlyArray<string>>,
  central: ReadonlyArray<number>,
  fallback: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const clauses = members.map((texts) => texts.map(clausesOf))
  // In how many members of each cluster each clause key occurs (once per member).
  const counts = clauses.map((cluster) => {
    const count = new Map<string, number>()
    for (const member of cluster) for (const key of new Set(member.map((c) => c.key))) count.set(key, (count.get(key) ?? 0) + 1)
    return count
  })
  const total = members.reduce((n, texts) => n + texts.length, 0)
  return members.map((texts, c) => {
    if (texts.length === 0) return fallback[c] ?? ""
    const others = total - texts.length
    const centralClauses = clauses[c]![central[c] ?? 0] ?? []
    const position = new Map(centralClauses.map((clause, i) => [clause.key, i]))
    let best: { key: string; score: number; position: number; length: number } | undefined
    for (const [key, inside] of counts[c]!) {
      let outside = 0
      for (const [other, count] of counts.entries()) if (other !== c) outside += count.get(key) ?? 0
      const score = inside / texts.length - (others === 0 ? 0 : outside / others)
      const candidate = { key, score, position: position.get(key) ?? Number.MAX_SAFE_INTEGER, length: key.length }
      if (
        best === undefined || candidate.score > best.score + 1e-12 ||
        (Math.abs(candidate.score - best.score) <= 1e-12 && (candidate.position < best.position || (candidate.position === best.position && candidate.length > best.length)))
      ) best = candidate
    }
    if (best === undefined) return fallback[c] ?? ""
    // Its wording from the central explanation when it has it, else from the first member that does.
    const holders = clauses[c]!.flatMap((member) => member.filter((clause) => clause.key === best!.key))
    const shown = centralClauses.find((clause) => clause.key === best!.key) ?? holders[0]!
    const slots = shown.values.length
    let index = 0
    const label = shown.template.replace(/<num>|<id>/gu, (placeholder) => {
      const i = index++
      if (placeholder === "<id>" || i >= slots) return placeholder === "<id>" ? "…" : "N"
      return renderValues(holders.filter((h) => h.values.length === slots).map((h) => h.values[i]!))
    })
    return trim(label)
  })
}
