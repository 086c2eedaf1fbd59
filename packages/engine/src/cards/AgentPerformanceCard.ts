/**
 * The AgentPerformanceCard: per-agent scores with intervals, gates, clusters and the world-model
 * attribution, rendered to Markdown, HTML and JSON. Every rendering ends with the exact footer
 * `Alpha preview — not for regulated use`. Consistency (pass^k, the share of stimuli passing in
 * every one of k runs) is shown only when the scan ran each stimulus more than once. Given the
 * scan's record (`Scan.record`), each rendering has a "Reproduce" section: the engine and package
 * versions, seed, eval set, budgets, judge and agent models, and the gate, strategy and scorer specs
 * (the JSON rendering carries the whole record as `reproduce`), and the command that replays it.
 */
import { ALPHA_FOOTER, type AgentPerformanceCard, type Measure, recordBudgets, ScanRecord } from "../contracts/index.ts"
import { Schema } from "effect"

/** What a rendering may add to the card: the scan's record, for the "Reproduce" section. */
export interface CardExtras {
  readonly record?: ScanRecord | undefined
}

type ModelParameters = { readonly provider: string; readonly model: string; readonly temperature: number; readonly maxTokens: number; readonly topP?: number; readonly seed?: number }

const modelLine = (m: ModelParameters) =>
  `${m.provider}/${m.model} (temperature ${m.temperature}, maxTokens ${m.maxTokens}${m.topP === undefined ? "" : `, topP ${m.topP}`}${m.seed === undefined ? "" : `, seed ${m.seed}`})`

/** The record as labelled lines, the same in Markdown and HTML. Gates with the same settings share one line. */
const reproduceItems = (record: ScanRecord): ReadonlyArray<readonly [string, string]> => {
  const e = record.evalSet
  const budgets = recordBudgets(record)
  const bySettings = new Map<string, Array<string>>()
  for (const gate of record.gates) {
    const key = JSON.stringify(gate.settings)
    bySettings.set(key, [...(bySettings.get(key) ?? []), gate.name])
  }
  return [
    ["engine", `${record.engine.name}@${record.engine.version}`],
    ["packages", record.packages.length === 0 ? "none declared" : record.packages.map((p) => `${p.name}@${p.version}`).join(", ")],
    ["plugins", record.plugins.length === 0 ? "none" : record.plugins.map((p) => p.name).join(", ")],
    ["seed", String(record.seed)],
    [
      "eval set",
      `${e.worldModelId}@${e.worldModelVersion ?? "(version not yet known)"}${e.ruleSetHash === undefined ? "" : ` rule set ${e.ruleSetHash.slice(0, 16)}`}, generator seed ${e.generatorSeed}, size ${e.size}${
        e.sampleSet === undefined ? "" : `; sample set ${e.sampleSet.id} v${e.sampleSet.version}`
      }`
    ],
    ["budgets", `${budgets.maxCalls} calls, ${budgets.maxTokens} tokens, $${budgets.maxUsd}; ${record.concurrency} calls in flight`],
    ["judge", modelLine(record.judge)],
    ...record.agents.map((a) => [`agent ${a.agentId} v${a.version}`, modelLine(a.hyperparameters)] as const),
    ...[...bySettings].map(([settings, gates]) => [`gates ${gates.join(", ")}`, settings] as const),
    ["strategies", record.strategies.map((s) => s.name).join(", ") || "none"],
    ["scorers", record.scorers.map((s) => s.name).join(", ")],
    ...(record.baselineChangeSetId === undefined ? [] : [["baseline change set", record.baselineChangeSetId] as const]),
    ...(record.replayOf === undefined ? [] : [["replay of", record.replayOf] as const])
  ]
}

const replayCommand = (scanId: string) => `spectral scan --replay ${scanId}`

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
  `${c.severitySummary === undefined ? "" : `${c.severitySummary}; `}${c.members} failures, ${c.frequencyPct.toFixed(1)}% of traces${
    c.failureRateAfter === undefined ? "" : `; failure rate ${(100 * (c.failureRateBefore ?? 1)).toFixed(0)}% → ${(100 * c.failureRateAfter).toFixed(0)}%`
  }`

export const renderMarkdown = (card: AgentPerformanceCard, extras: CardExtras = {}): string => {
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
  if (extras.record !== undefined) {
    lines.push("## Reproduce")
    lines.push("")
    lines.push(`Re-run this scan from its record: \`${replayCommand(card.scanId)}\``)
    lines.push("")
    for (const [label, value] of reproduceItems(extras.record)) lines.push(`- ${label}: \`${value.replace(/`/g, "'")}\``)
    lines.push("")
  }
  lines.push("---")
  lines.push("")
  lines.push(ALPHA_FOOTER)
  return lines.join("\n") + "\n"
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const renderHtml = (card: AgentPerformanceCard, extras: CardExtras = {}): string => {
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
${extras.record === undefined ? "" : `<h2>Reproduce</h2>
<p>Re-run this scan from its record: <code>${escape(replayCommand(card.scanId))}</code></p>
<table>
${reproduceItems(extras.record).map(([label, value]) => `<tr><th>${escape(label)}</th><td><code>${escape(value)}</code></td></tr>`).join("\n")}
</table>
`}<footer>${escape(ALPHA_FOOTER)}</footer>
</body>
</html>
`
}

const encodeRecord = Schema.encodeSync(ScanRecord)

/** The card as JSON; with the record, its encoded form under `reproduce` (the footer stays the last field). */
export const renderJson = (card: AgentPerformanceCard, extras: CardExtras = {}): string => {
  if (extras.record === undefined) return JSON.stringify(card, null, 2) + "\n"
  const { footer, ...rest } = card
  return JSON.stringify({ ...rest, reproduce: { command: replayCommand(card.scanId), record: encodeRecord(extras.record) }, footer }, null, 2) + "\n"
}
