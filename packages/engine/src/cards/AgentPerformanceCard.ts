/**
 * The AgentPerformanceCard: per-agent scores with intervals, gates, clusters and the world-model
 * attribution, rendered to Markdown, HTML and JSON. Every rendering ends with the exact footer
 * `Alpha preview — not for regulated use`. Consistency (pass^k, the share of stimuli passing in
 * every one of k runs) is shown only when the scan ran each stimulus more than once.
 */
import { ALPHA_FOOTER, type AgentPerformanceCard, type Measure } from "../contracts/index.ts"

const fmt = (m: Measure): string => (m._tag === "Present" ? (m.value * 100).toFixed(1) : `— (${m.reason})`)
const pts = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`
const interval = (i: { readonly estimate: number; readonly low: number; readonly high: number } | null) =>
  i === null ? "—" : `${pts(i.estimate)} [${pts(i.low)}, ${pts(i.high)}]`

/** Consistency (pass^k) is shown only when some agent ran each stimulus more than once. */
const hasRepeats = (card: AgentPerformanceCard) => card.agents.some((a) => a.consistency._tag === "Present")

const agentCells = (a: AgentPerformanceCard["agents"][number], repeats: boolean): ReadonlyArray<string> => [
  a.name,
  `v${a.version}`,
  a.changed ? "yes" : "no",
  fmt(a.baselineScore),
  fmt(a.candidateScore),
  interval(a.change),
  fmt(a.passRate),
  ...(repeats ? [fmt(a.consistency)] : [])
]

const clusterLine = (c: AgentPerformanceCard["clusters"][number]) =>
  `${c.members} failures, ${c.frequencyPct.toFixed(1)}% of traces${
    c.failureRateAfter === undefined ? "" : `; failure rate ${(100 * (c.failureRateBefore ?? 1)).toFixed(0)}% → ${(100 * c.failureRateAfter).toFixed(0)}%`
  }`

export const renderMarkdown = (card: AgentPerformanceCard): string => {
  const lines: Array<string> = []
  lines.push(`# Agent performance card — ${card.workspaceName}`)
  lines.push("")
  lines.push(`Scan \`${card.scanId}\` · change set v${card.changeSetVersion} (${card.changeSetStatus}) · generated ${card.generatedAt}`)
  lines.push("")
  lines.push(
    card.authority === null
      ? "World model: not attributed"
      : `World model: **${card.authority.worldModelId}@${card.authority.worldModelVersion}** (rule set ${card.authority.ruleSetHash.slice(0, 16)})`
  )
  lines.push("")
  lines.push(`## Verdict: ${card.verdict.outcome.toUpperCase()} — ${card.verdict.checksPassed} of ${card.verdict.checksTotal} checks pass`)
  if (card.verdict.delta !== null) {
    lines.push("")
    lines.push(`Blended delta ${interval(card.verdict.delta)} pts`)
  }
  lines.push("")
  lines.push(card.summary)
  lines.push("")
  lines.push("## Scores (0–100)")
  lines.push("")
  lines.push("| authority | score |")
  lines.push("| --- | --- |")
  lines.push(`| world model | ${fmt(card.scores.worldModel)} |`)
  lines.push(`| rubric | ${fmt(card.scores.rubric)} |`)
  lines.push(`| blended | ${fmt(card.scores.blended)} |`)
  lines.push(`| convergence delta | ${fmt(card.scores.convergenceDelta)} |`)
  lines.push("")
  lines.push("## Agents")
  lines.push("")
  const repeats = hasRepeats(card)
  lines.push(`| agent | version | changed | baseline | candidate | change [interval] | pass rate |${repeats ? " consistency (pass^k) |" : ""}`)
  lines.push(`| --- | --- | --- | --- | --- | --- | --- |${repeats ? " --- |" : ""}`)
  for (const a of card.agents) {
    lines.push(`| ${agentCells(a, repeats).join(" | ")} |`)
  }
  if (!repeats) {
    lines.push("")
    lines.push("One run per stimulus: consistency (pass^k) needs epochs > 1.")
  }
  lines.push("")
  lines.push("## Failure clusters")
  lines.push("")
  if (card.clusters.length === 0) lines.push("No failure clusters.")
  for (const c of card.clusters) lines.push(`- **${c.label}** — ${clusterLine(c)}`)
  lines.push("")
  lines.push("## Gates")
  lines.push("")
  lines.push("| gate | check | status | reason |")
  lines.push("| --- | --- | --- | --- |")
  for (const g of card.gates) lines.push(`| ${g.gate} | ${g.check} | ${g.status} | ${g.reason.replace(/\|/g, "/")} |`)
  lines.push("")
  lines.push("---")
  lines.push("")
  lines.push(ALPHA_FOOTER)
  return lines.join("\n") + "\n"
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const renderHtml = (card: AgentPerformanceCard): string => {
  const row = (cells: ReadonlyArray<string>, tag = "td") => `<tr>${cells.map((c) => `<${tag}>${escape(c)}</${tag}>`).join("")}</tr>`
  const repeats = hasRepeats(card)
  const agents = card.agents.map((a) => row(agentCells(a, repeats))).join("\n")
  const gates = card.gates.map((g) => row([g.gate, g.check, g.status, g.reason])).join("\n")
  const clusters = card.clusters.map((c) => `<li><strong>${escape(c.label)}</strong> — ${escape(clusterLine(c))}</li>`).join("\n")
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Agent performance card — ${escape(card.workspaceName)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}footer{margin-top:2rem;border-top:1px solid #ccc;padding-top:.5rem;font-weight:bold}</style>
</head>
<body>
<h1>Agent performance card — ${escape(card.workspaceName)}</h1>
<p>Scan <code>${escape(card.scanId)}</code> · change set v${card.changeSetVersion} (${escape(card.changeSetStatus)}) · generated ${escape(card.generatedAt)}</p>
<p>${card.authority === null ? "World model: not attributed" : `World model: <strong>${escape(card.authority.worldModelId)}@${escape(card.authority.worldModelVersion)}</strong> (rule set ${escape(card.authority.ruleSetHash.slice(0, 16))})`}</p>
<h2>Verdict: ${card.verdict.outcome.toUpperCase()} — ${card.verdict.checksPassed} of ${card.verdict.checksTotal} checks pass</h2>
${card.verdict.delta === null ? "" : `<p>Blended delta ${escape(interval(card.verdict.delta))} pts</p>\n`}<p>${escape(card.summary)}</p>
<h2>Scores (0–100)</h2>
<table>${row(["world model", fmt(card.scores.worldModel)])}${row(["rubric", fmt(card.scores.rubric)])}${row(["blended", fmt(card.scores.blended)])}${row(["convergence delta", fmt(card.scores.convergenceDelta)])}</table>
<h2>Agents</h2>
<table>
${row(["agent", "version", "changed", "baseline", "candidate", "change [interval]", "pass rate", ...(repeats ? ["consistency (pass^k)"] : [])], "th")}
${agents}
</table>
<h2>Failure clusters</h2>
<ul>${clusters || "<li>No failure clusters.</li>"}</ul>
${repeats ? "" : "<p>One run per stimulus: consistency (pass^k) needs epochs &gt; 1.</p>"}
<h2>Gates</h2>
<table>
${row(["gate", "check", "status", "reason"], "th")}
${gates}
</table>
<footer>${escape(ALPHA_FOOTER)}</footer>
</body>
</html>
`
}

export const renderJson = (card: AgentPerformanceCard): string => JSON.stringify(card, null, 2) + "\n"
