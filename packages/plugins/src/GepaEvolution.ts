/**
 * A GEPA-style reflective evolution (`plugin/gepa`), written only against the engine's public
 * strategy API. A population of instructions for the blamed agent evolves: a parent is drawn from
 * the Pareto front *per stimulus segment* (configurations best on at least one segment of a fixed
 * working-set validation slice, drawn in proportion to how many segments they lead), the language
 * model reflects in natural language on the parent's failures on a minibatch (the judge's
 * explanations) and writes a mutated instruction, and the child joins the population when it beats
 * its parent on that minibatch. Front members that lead different segments are merged (their
 * instruction lines united). Everything is measured on the working set only.
 *
 * When it proposes nothing it fails with the engine's `NoCandidate`, naming the actual cause
 * (`gepaNoCandidate`): no failure blamed on an agent, no failures to reflect on in any minibatch,
 * the model failing every rewrite, every rewrite rejected (with how many for which reason), or
 * rewrites that beat their parent but not the current instruction. A budget that stopped the
 * search before any rewrite was judged is the `BudgetExhausted` that stopped it.
 */
import { Effect } from "effect"
import type { AgentVersion } from "@spectral/engine/contracts"
import { type BudgetExhausted, type Candidate, clustersByBlamedAgent, metaPrompt, NoCandidate, type Strategy, type WorkingSetEvaluation, withAgent } from "@spectral/engine"
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

/** What happened to the search, generation by generation: what `gepaNoCandidate` reads. */
export interface GepaSearchTally {
  readonly generations: number
  /** Minibatches on which the parent failed nothing: no feedback, no rewrite asked. */
  readonly minibatchesWithoutFailures: number
  readonly rewritesAsked: number
  readonly modelFailures: number
  readonly lastModelFailure?: string | undefined
  /** Rewrites that were empty or repeated an instruction already in the population. */
  readonly emptyOrRepeated: number
  /** Rewrites that did not beat their parent on the minibatch. */
  readonly notBetterThanParent: number
  /** Rewrites that beat their parent on the minibatch (they joined the population). */
  readonly joined: number
  /** The budget refusal that ended the search, if one did. */
  readonly refused?: BudgetExhausted | undefined
  /** The strategy's own model-call allowance ran out. */
  readonly allowanceSpent: boolean
  readonly modelCallAllowance: number
}

export type GepaNoCandidateReason =
  | "no_blamed_agent"
  | "agent_not_configured"
  | "no_failures_to_reflect_on"
  | "model_failed"
  | "rewrites_rejected"
  | "no_improvement_on_slice"
  | "no_generation"

/**
 * Why a search that produced no candidate produced none, as the engine's `NoCandidate`; or the
 * budget refusal, when it stopped the search before any rewrite was written or judged.
 */
export const gepaNoCandidate = (tally: GepaSearchTally, slice: { readonly stimuli: number; readonly seedScore: number }): NoCandidate | BudgetExhausted => {
  const none = (reason: GepaNoCandidateReason, detail: string) => new NoCandidate({ strategy: "plugin/gepa", reason, detail })
  const judged = tally.emptyOrRepeated + tally.notBetterThanParent + tally.joined
  const stopped = tally.refused !== undefined
    ? `; then the budget stopped the search (${tally.refused.message})`
    : tally.allowanceSpent
    ? `; then the strategy's ${tally.modelCallAllowance} model calls were used up`
    : ""
  if (tally.joined > 0) {
    return none("no_improvement_on_slice", `${tally.joined} rewrite(s) beat their parent on a minibatch but none beat the current instruction (${(slice.seedScore * 100).toFixed(1)}) on the ${slice.stimuli}-stimulus working slice${stopped}`)
  }
  if (judged === 0 && tally.modelFailures === 0) {
    if (tally.refused !== undefined) return tally.refused
    if (tally.minibatchesWithoutFailures > 0) {
      return none("no_failures_to_reflect_on", `no failures to reflect on: the current instruction failed no stimulus in ${tally.minibatchesWithoutFailures} minibatch(es) of the working set${stopped}`)
    }
    return none("no_generation", tally.modelCallAllowance === 0 ? "the strategy was allowed no model calls" : `no generation ran (${tally.generations} configured)`)
  }
  if (judged === 0) {
    return none("model_failed", `the model failed to write any of ${tally.rewritesAsked} rewrite(s) (last: ${tally.lastModelFailure ?? "unknown"})${stopped}`)
  }
  const parts = [
    tally.notBetterThanParent > 0 ? `${tally.notBetterThanParent} did not beat their parent on the minibatch` : "",
    tally.emptyOrRepeated > 0 ? `${tally.emptyOrRepeated} were empty or repeated an instruction already tried` : "",
    tally.modelFailures > 0 ? `${tally.modelFailures} could not be written (model failure)` : ""
  ].filter((p) => p !== "")
  return none("rewrites_rejected", `all ${tally.rewritesAsked} rewrite(s) were rejected: ${parts.join(", ")}${stopped}`)
}

export const gepaEvolution = (settings: GepaSettings = defaultGepaSettings): Strategy => ({
  name: "plugin/gepa",
  description: "GEPA-style: reflective prompt mutation from natural-language feedback on failures, Pareto front per stimulus segment, merge.",
  propose: (input) =>
    Effect.gen(function*() {
      const [target] = [...clustersByBlamedAgent(input).entries()].sort((a, b) => b[1].reduce((s, c) => s + c.memberTraceIds.length, 0) - a[1].reduce((s, c) => s + c.memberTraceIds.length, 0))
      if (target === undefined) {
        return yield* new NoCandidate({ strategy: "plugin/gepa", reason: "no_blamed_agent", detail: "no failure cluster is blamed on an agent, so there is no instruction to evolve" })
      }
      const [agentId] = target
      const agent = input.current.find((a) => a.agentId === agentId)
      if (agent === undefined) {
        return yield* new NoCandidate({ strategy: "plugin/gepa", reason: "agent_not_configured", detail: `the failures are blamed on ${agentId}, which is not in the current configuration` })
      }
      const role = input.agents.find((a) => a.id === agentId)?.role ?? agentId
      const teamWith = (instruction: string) => withAgent(input.current, agentId, (a) => ({ ...a, template: { ...a.template, basePrompt: instruction, guidance: [] } }))
      const order = seededOrder(input.workingStimuli, `gepa:${input.seed}`).map((s) => s.id)
      const paretoIds = order.slice(0, Math.min(order.length, settings.paretoSlice))
      const rest = order.slice(paretoIds.length).length > 0 ? order.slice(paretoIds.length) : order
      const tally = {
        generations: settings.generations,
        minibatchesWithoutFailures: 0,
        rewritesAsked: 0,
        modelFailures: 0,
        lastModelFailure: undefined as string | undefined,
        emptyOrRepeated: 0,
        notBetterThanParent: 0,
        joined: 0,
        refused: undefined as BudgetExhausted | undefined,
        allowanceSpent: false,
        modelCallAllowance: input.budget.maxModelCalls
      }
      const tryEvaluate = (team: ReadonlyArray<AgentVersion>, ids: ReadonlyArray<string>) =>
        input.evaluate(team, ids).pipe(
          Effect.map((e): WorkingSetEvaluation | undefined => e),
          Effect.catchTag("BudgetExhausted", (e) => Effect.sync(() => void (tally.refused = e)))
        )
      const seedEval = yield* tryEvaluate(input.current, paretoIds)
      // Nothing measured yet: the refusal is why there is nothing.
      if (seedEval === undefined) return yield* tally.refused!
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
        if (feedback.length === 0) {
          tally.minibatchesWithoutFailures++
          continue
        }
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
          Effect.catchTag("CompletionFailed", (e) =>
            Effect.sync(() => {
              tally.modelFailures++
              tally.lastModelFailure = `${e.kind} failure: ${e.message}`
              return undefined
            })),
          Effect.catchTag("BudgetExhausted", (e) =>
            Effect.sync(() => {
              tally.refused = e
              return "refused" as const
            }))
        )
        if (answer === "refused") break
        tally.rewritesAsked++
        if (answer === undefined) continue
        const child = answer
        if (child === "" || population.some((m) => m.instruction === child)) {
          tally.emptyOrRepeated++
          continue
        }
        const childTeam = teamWith(child)
        const childBatch = yield* tryEvaluate(childTeam, batch)
        if (childBatch === undefined) break
        if (childBatch.score <= parentEval.score) {
          tally.notBetterThanParent++
          continue
        }
        const childFront = yield* tryEvaluate(childTeam, paretoIds)
        if (childFront === undefined) break
        tally.joined++
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
      tally.allowanceSpent = tally.refused === undefined && calls >= input.budget.maxModelCalls
      const better = population.filter((m) => m.id !== "seed" && m.mean > seedMean)
      if (better.length === 0) return yield* gepaNoCandidate(tally, { stimuli: paretoIds.length, seedScore: seedMean })
      return better
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
