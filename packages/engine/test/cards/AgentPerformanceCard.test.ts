import { Schema } from "effect"
import { assert, describe, it } from "vitest"
import { ALPHA_FOOTER, type AgentPerformanceCard as Card, AgentPerformanceCard, absent, present } from "../../src/contracts/index.ts"
import { renderHtml, renderJson, renderMarkdown } from "../../src/cards/AgentPerformanceCard.ts"

const card = (patch: Partial<Card> = {}): Card => ({
  workspaceId: "ws",
  workspaceName: "Ledger <tax> prep",
  scanId: "ws:scan:2",
  changeSetId: "ws:cs:2",
  changeSetVersion: 2,
  changeSetStatus: "proposed",
  generatedAt: "2026-03-01T00:00:00.000Z",
  authority: { worldModelId: "us-federal-individual-tax", worldModelVersion: "0.1.0", ruleSetHash: "abcdef0123456789abcdef" },
  verdict: { outcome: "caution", checksPassed: 9, checksTotal: 10, delta: { estimate: 0.042, low: -0.003, high: 0.087 } },
  scores: { worldModel: present(0.71), rubric: present(0.76), blended: present(0.73), convergenceDelta: absent("no conformance samples") },
  agents: [
    { agentId: "intake", name: "Intake", version: 1, changed: false, baselineScore: present(0.9), candidateScore: present(0.905), change: { estimate: 0.005, low: -0.01, high: 0.02 }, passRate: present(0.88), consistency: present(0.8) },
    { agentId: "advisor", name: "Filing-status advisor", version: 3, changed: true, baselineScore: present(0.6), candidateScore: present(0.68), change: { estimate: 0.08, low: 0.03, high: 0.13 }, passRate: present(0.7), consistency: present(0.55) }
  ],
  clusters: [{ label: "head of household | home costs", members: 12, frequencyPct: 30, failureRateBefore: 1, failureRateAfter: 0.4 }],
  gates: [
    { gate: "bootstrap_ci", check: "paired_interval", status: "caution", reason: "interval includes zero: 95% interval [-0.3 pts, 8.7 pts] on 40 stimuli" },
    { gate: "agent_regression", check: "agent:intake", status: "pass", reason: "intake changes by 0.5 pts" }
  ],
  summary: "Verdict: 9 / 10 checks passing (caution).",
  footer: ALPHA_FOOTER,
  ...patch
})

describe("AgentPerformanceCard", () => {
  it("Markdown: verdict with the count, delta interval, attribution, per-agent scores with intervals, clusters, gates, consistency, the exact footer last", () => {
    const md = renderMarkdown(card())
    assert.include(md, "## Verdict: CAUTION — 9 of 10 checks pass")
    assert.include(md, "Blended delta +4.2 [-0.3, +8.7] pts")
    assert.include(md, "World model: **us-federal-individual-tax@0.1.0** (rule set abcdef0123456789)")
    assert.include(md, "| Filing-status advisor | v3 | yes | 60.0 | 68.0 | +8.0 [+3.0, +13.0] | 70.0 | 55.0 |")
    assert.include(md, "| Intake | v1 | no | 90.0 | 90.5 | +0.5 [-1.0, +2.0] | 88.0 | 80.0 |")
    assert.include(md, "consistency (pass^k)")
    assert.include(md, "- **head of household | home costs** — 12 failures, 30.0% of traces; failure rate 100% → 40%")
    assert.include(md, "| bootstrap_ci | paired_interval | caution |")
    assert.include(md, "| convergence delta | — (no conformance samples) |")
    assert.strictEqual(md.trimEnd().split("\n").at(-1), "Alpha preview — not for regulated use")
  })

  it("one run per stimulus: no consistency column, and the card says why", () => {
    const single = card({ agents: card().agents.map((a) => ({ ...a, consistency: absent("one run per stimulus") })) })
    const md = renderMarkdown(single)
    assert.notInclude(md, "consistency (pass^k) |")
    assert.include(md, "One run per stimulus: consistency (pass^k) needs epochs > 1.")
    assert.include(md, "| Filing-status advisor | v3 | yes | 60.0 | 68.0 | +8.0 [+3.0, +13.0] | 70.0 |\n")
    assert.notInclude(renderHtml(single), "<th>consistency (pass^k)</th>")
  })

  it("HTML: escaped, the same facts, the exact footer", () => {
    const html = renderHtml(card())
    assert.include(html, "<h1>Agent performance card — Ledger &lt;tax&gt; prep</h1>")
    assert.include(html, "<h2>Verdict: CAUTION — 9 of 10 checks pass</h2>")
    assert.include(html, "<p>Blended delta +4.2 [-0.3, +8.7] pts</p>")
    assert.include(html, "<td>Filing-status advisor</td><td>v3</td><td>yes</td><td>60.0</td><td>68.0</td><td>+8.0 [+3.0, +13.0]</td><td>70.0</td><td>55.0</td>")
    assert.include(html, "failure rate 100% → 40%")
    assert.include(html, "<footer>Alpha preview — not for regulated use</footer>")
    assert.notInclude(html, "<tax>")
  })

  it("JSON: decodes as the card schema, with the exact footer; a card without attribution says so", () => {
    const decoded = Schema.decodeUnknownSync(AgentPerformanceCard)(JSON.parse(renderJson(card())))
    assert.strictEqual(decoded.footer, "Alpha preview — not for regulated use")
    assert.strictEqual(decoded.agents[1]!.change!.low, 0.03)
    assert.include(renderMarkdown(card({ authority: null, verdict: { ...card().verdict, delta: null } })), "World model: not attributed")
    assert.notInclude(renderMarkdown(card({ verdict: { ...card().verdict, delta: null } })), "Blended delta")
  })
})
