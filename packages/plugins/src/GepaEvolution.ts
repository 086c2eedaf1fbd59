/**
 * A GEPA-style reflective evolution (`plugin/gepa`), written only against the engine's public
 * strategy API. A population of instructions for the blamed agent evolves: a parent is drawn from
 * the Pareto front *per stimulus segment* (configurations best on at least one segment of a fixed
 * working-set validation slice, drawn in proportion to how many segments they lead), the language
 * model reflects in natural language on the parent's failures on a minibatch (the judge's
 * explanations) and writes a mutated instruction, and the child joins the population when it beats
 * its parent on that minibatch. Front members that lead different segments are merged (their
 * instruction lines united). Everything is measured on the working set only.
 */
import { Effect } from "effect"
import type { AgentVersion } from "@spectral/engine/contracts"
import { type Candidate, clustersByBlamedAgent, metaPrompt, type Strategy, type WorkingSetEvaluation, withAgent } from "@spectral/engine"
import { seededOrder } from "./Seeded.ts"

export interface GepaSettings {
  readonly generations: number
  readonly minibatch: number
  /** Validation slice of the working set on which the per-segment front is kept. */
  readonly paretoSlice: number
  readonly keep: number
}

export const defaultGepaSettings: GepaSettings = { generations: 4, minibatch: 8, paretoSlice: 24, keep: 2 }

interface Member {
  readonly id: string
  readonly instruction: string
  readonly team: ReadonlyArray<AgentVersion>
  readonly bySegment: Readonly<Record<string, number>>
  readonly mean: number
  readonly origin: string
}

const bySegment = (evaluation: WorkingSetEvaluation): Record<string, number> => {
  const sums: Record<string, { s: number; n: number }> = {}
  for (const s of evaluation.stimuli) {
    const cell = sums[s.segment] ?? { s: 0, n: 0 }
    sums[s.segment] = { s: cell.s + s.score, n: cell.n + 1 }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v.s / v.n]))
}

/** Members that lead at least one segment (ties included), with how many segments each leads. */
export const segmentFront = (population: ReadonlyArray<Member>): ReadonlyArray<{ member: Member; leads: number }> => {
  const segments = [...new Set(population.flatMap((m) => Object.keys(m.bySegment)))]
  const leads = new Map<Member, number>()
  for (const segment of segments) {
    const best = Math.max(...population.map((m) => m.bySegment[segment] ?? 0))
    for (const m of population) if ((m.bySegment[segment] ?? 0) >= best - 1e-9) leads.set(m, (leads.get(m) ?? 0) + 1)
  }
  return [...leads.entries()].map(([member, n]) => ({ member, leads: n }))
}

export const gepaEvolution = (settings: GepaSettings = defaultGepaSettings): Strategy => ({
  name: "plugin/gepa",
  description: "GEPA-style: reflective prompt mutation from natural-language feedback on failures, Pareto front per stimulus segment, merge.",
  propose: (input) =>
    Effect.gen(function*() {
      const [target] = [...clustersByBlamedAgent(input).entries()].sort((a, b) => b[1].reduce((s, c) => s + c.memberTraceIds.length, 0) - a[1].reduce((s, c) => s + c.memberTraceIds.length, 0))
      if (target === undefined) return []
      const [agentId] = target
      const agent = input.current.find((a) => a.agentId === agentId)
      if (agent === undefined) return []
      const role = input.agents.find((a) => a.id === agentId)?.role ?? agentId
      const teamWith = (instruction: string) => withAgent(input.current, agentId, (a) => ({ ...a, template: { ...a.template, basePrompt: instruction, guidance: [] } }))
      const order = seededOrder(input.workingStimuli, `gepa:${input.seed}`).map((s) => s.id)
      const paretoIds = order.slice(0, Math.min(order.length, settings.paretoSlice))
      const rest = order.slice(paretoIds.length).length > 0 ? order.slice(paretoIds.length) : order
      const tryEvaluate = (team: ReadonlyArray<AgentVersion>, ids: ReadonlyArray<string>) =>
        input.evaluate(team, ids).pipe(Effect.map((e): WorkingSetEvaluation | undefined => e), Effect.catchTag("BudgetExhausted", () => Effect.succeed(undefined)))
      const seedEval = yield* tryEvaluate(input.current, paretoIds)
      if (seedEval === undefined) return []
      const currentInstruction = [agent.template.basePrompt, ...agent.template.guidance].join("\n")
      const population: Array<Member> = [{ id: "seed", instruction: currentInstruction, team: input.current, bySegment: bySegment(seedEval), mean: seedEval.score, origin: "current" }]
      let calls = 0
      let draw = 0
      for (let g = 0; g < settings.generations && calls < input.budget.maxModelCalls; g++) {
        // Parent from the per-segment front, in proportion to the segments it leads.
        const front = segmentFront(population)
        const total = front.reduce((s, f) => s + f.leads, 0)
        const pick = seededOrder(front.map((f, i) => ({ ...f, id: `${g}:${i}` })), `gepa-parent:${input.seed}:${g}`)
        let at = (draw++ * 7919) % Math.max(1, total)
        const parent = (pick.find((f) => (at -= f.leads) < 0) ?? pick[0]!).member
        // Reflection on the parent's failures on a minibatch.
        const start = (g * settings.minibatch) % rest.length
        const batch = [...rest.slice(start, start + settings.minibatch), ...rest.slice(0, Math.max(0, start + settings.minibatch - rest.length))]
        const parentEval = yield* tryEvaluate(parent.team, batch)
        if (parentEval === undefined) break
        const feedback = parentEval.stimuli.filter((s) => !s.passed && s.explanation !== undefined).map((s) => s.explanation!)
        if (feedback.length === 0) continue
        const prompt = metaPrompt(
          { role, instruction: parent.instruction, guidance: [] },
          feedback,
          "Reflect on why the agent failed in each case, in natural language, then write an improved instruction that keeps what works and states the general rule behind each failure."
        )
        calls++
        // A mutation the model fails to write is skipped; once the budget refuses one, evolution stops
        // and the population so far is what it proposes from.
        const answer = yield* input.complete(prompt.system, prompt.user, { temperature: 0.8, sample: g }).pipe(
          Effect.map((text): string | undefined | "refused" => text.trim()),
          Effect.catchTag("CompletionFailed", () => Effect.succeed(undefined)),
          Effect.catchTag("BudgetExhausted", () => Effect.succeed("refused" as const))
        )
        if (answer === "refused") break
        if (answer === undefined) continue
        const child = answer
        if (child === "" || population.some((m) => m.instruction === child)) continue
        const childTeam = teamWith(child)
        const childBatch = yield* tryEvaluate(childTeam, batch)
        if (childBatch === undefined) break
        if (childBatch.score <= parentEval.score) continue
        const childFront = yield* tryEvaluate(childTeam, paretoIds)
        if (childFront === undefined) break
        population.push({ id: `gepa-${agentId}-g${g + 1}`, instruction: child, team: childTeam, bySegment: bySegment(childFront), mean: childFront.score, origin: `reflective mutation of ${parent.id}` })
      }
      // Merge two front members that lead different segments.
      const front = segmentFront(population).map((f) => f.member).filter((m) => m.id !== "seed")
      if (front.length >= 2) {
        const [a, b] = [...front].sort((x, y) => y.mean - x.mean)
        const lines = [...new Set([...a!.instruction.split("\n"), ...b!.instruction.split("\n")])]
        const merged = lines.join("\n")
        const evaluation = yield* tryEvaluate(teamWith(merged), paretoIds)
        if (evaluation !== undefined) {
          population.push({ id: `gepa-${agentId}-merge`, instruction: merged, team: teamWith(merged), bySegment: bySegment(evaluation), mean: evaluation.score, origin: `merge of ${a!.id} and ${b!.id}` })
        }
      }
      const seedMean = population[0]!.mean
      return population
        .filter((m) => m.id !== "seed" && m.mean > seedMean)
        .sort((x, y) => y.mean - x.mean)
        .slice(0, settings.keep)
        .map((m): Candidate => ({
          id: m.id,
          strategy: "plugin/gepa",
          rationale: `${agentId}: ${m.origin}; ${(m.mean * 100).toFixed(1)} vs ${(seedMean * 100).toFixed(1)} on a ${paretoIds.length}-stimulus working slice, on the per-segment Pareto front of ${population.length} instruction(s)`,
          agents: m.team,
          changed: [agentId],
          evidence: Object.entries(m.bySegment).map(([s, v]) => `${s} ${(v * 100).toFixed(0)}`).join(", ")
        }))
    })
})
