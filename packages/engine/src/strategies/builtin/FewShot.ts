/**
 * `builtin/few_shot`: for each agent blamed for failing clusters, adds examples from passing
 * working-set runs that resemble each cluster (same segment, most words in common with the cluster's
 * failing inputs), chosen for diversity (a segment not used yet first), seeded by the scan. Keeps at
 * most six examples per agent. Does not write examples of its own.
 */
import { Effect } from "effect"
import { hashString, seededGenerator } from "../../random/Deterministic.ts"
import { type Candidate, clustersByBlamedAgent, type Strategy, withAgent } from "../Strategy.ts"

const words = (text: string) => new Set(text.toLowerCase().split(/[^a-z0-9$]+/).filter((w) => w.length > 3))

const overlap = (a: ReadonlySet<string>, b: ReadonlySet<string>) => {
  let n = 0
  for (const w of a) if (b.has(w)) n++
  return n / Math.max(1, Math.min(a.size, b.size))
}

export const fewShotStrategy: Strategy = {
  name: "builtin/few_shot",
  description: "Add examples from passing runs that resemble each failing cluster, chosen for diversity.",
  propose: (input) =>
    Effect.sync(() => {
      const out: Array<Candidate> = []
      const rng = seededGenerator(hashString(`few-shot:${input.seed}`))
      // A passing example's words, read once however many clusters it is compared with.
      const exampleWords = new Map<string, ReadonlySet<string>>()
      const wordsOf = (text: string) => {
        let found = exampleWords.get(text)
        if (found === undefined) exampleWords.set(text, found = words(text))
        return found
      }
      for (const [agentId, clusters] of clustersByBlamedAgent(input)) {
        const examples: Array<{ input: string; output: string; note: string }> = []
        const usedStimuli = new Set<string>()
        for (const cluster of clusters) {
          const failing = input.failingExamples.filter((f) => f.clusterId === cluster.id)
          const failingWords = words(failing.map((f) => f.input).join(" "))
          const segments = Object.keys(cluster.segments)
          // Resemblance: same segment as the cluster's failures, most words in common with them.
          const pool = input.passingExamples
            .filter((e) => e.agentId === agentId && segments.includes(e.segment) && !usedStimuli.has(e.stimulusId))
            .map((e) => ({ e, sim: overlap(wordsOf(e.input), failingWords) + rng.next() * 0.01 }))
            .sort((a, b) => b.sim - a.sim)
          const usedSegments = new Set<string>()
          for (let k = 0; k < 2 && pool.length > 0; k++) {
            // Diversity: prefer a segment not used yet for this cluster.
            const fresh = pool.find((p) => !usedSegments.has(p.e.segment)) ?? pool[0]!
            pool.splice(pool.indexOf(fresh), 1)
            usedSegments.add(fresh.e.segment)
            usedStimuli.add(fresh.e.stimulusId)
            examples.push({ input: fresh.e.input, output: fresh.e.output, note: `addresses: ${cluster.label}` })
          }
        }
        if (examples.length === 0) continue
        out.push({
          id: `fewshot-${agentId}`,
          strategy: "builtin/few_shot",
          rationale: `${agentId}: ${examples.length} passing example(s) resembling ${clusters.map((c) => `"${c.label}"`).join(", ")}`,
          agents: withAgent(input.current, agentId, (agent) => ({
            ...agent,
            template: { ...agent.template, fewShotExamples: [...agent.template.fewShotExamples, ...examples].slice(-6) }
          })),
          changed: [agentId]
        })
      }
      return out
    })
}
