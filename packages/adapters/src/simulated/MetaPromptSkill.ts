/**
 * The simulated model as a prompt engineer: given a meta-prompt (the engine's
 * `META_PROMPT_MARKER`) with an agent's current instruction and the judge's explanations of its
 * failures, it answers a rewritten instruction — the current one plus a few lessons distilled
 * from the explanations (the generalizable clause, case-specific numbers in parentheses dropped),
 * the most frequent first. Like a real model it is imperfect: it keeps at most four lessons, and
 * drops some at random, more often when hotter; a different `sample` gives a different rewrite.
 */
import type { Random } from "./TaxSkills.ts"

const section = (text: string, header: string): string => {
  const at = text.indexOf(`${header}\n`)
  if (at < 0) return ""
  const rest = text.slice(at + header.length + 1)
  const end = rest.search(/\n\n[A-Z][^\n]*:\n/)
  return (end < 0 ? rest : rest.slice(0, end)).trim()
}

/** The generalizable lesson in one judge explanation, or undefined when there is none. */
export const lessonOf = (explanation: string): string | undefined => {
  let text = explanation.replace(/\s+/g, " ").trim()
  if (/fact not stated in the input|fabricated/.test(text)) return "Use only facts stated in the input; never invent people, documents or facts."
  if (/^Answered [^,]+ where .* applies from the stated facts\.?$/.test(text)) return undefined
  text = text
    .replace(/^Answered [^,]+, but /, "")
    .replace(/^(Standard deduction|Overtime pay) of \$[\d,.]+ (is wrong( for [^:;]+)?|ignores|leaves out)[:;]? ?/, "")
    .replace(/\s*\((here|expected) [^)]*\)/g, "")
  if (text.length < 12) return undefined
  return `Remember: ${text.charAt(0).toLowerCase()}${text.slice(1)}`
}

export const rewriteInstruction = (user: string, temperature: number, rng: Random): string => {
  const current = section(user, "Current instruction:") || "Answer the request."
  const explanations = section(user, "Observed failures (the judge's explanations):")
    .split("\n")
    .map((line) => line.replace(/^- /, "").trim())
    .filter((line) => line !== "")
  const counts = new Map<string, { lesson: string; n: number }>()
  for (const e of explanations) {
    const lesson = lessonOf(e)
    if (lesson === undefined) continue
    const key = lesson.slice(0, 48).toLowerCase()
    const prior = counts.get(key)
    counts.set(key, { lesson: prior?.lesson ?? lesson, n: (prior?.n ?? 0) + 1 })
  }
  const ranked = [...counts.values()].sort((a, b) => b.n - a.n).map((c) => c.lesson)
  const dropChance = 0.1 + 0.2 * Math.min(1.5, temperature)
  const kept = ranked.filter(() => rng.next() >= dropChance).slice(0, 4)
  const known = current.toLowerCase()
  const fresh = kept.filter((lesson) => !known.includes(lesson.slice(10, 60).toLowerCase()))
  return fresh.length === 0 ? current : `${current}\n${fresh.join("\n")}`
}
