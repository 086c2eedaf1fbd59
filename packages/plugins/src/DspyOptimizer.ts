/**
 * A DSPy-style optimizer (`plugin/dspy`), written only against the engine's public strategy API.
 * Like DSPy's MIPRO: it bootstraps demonstration sets from working-set runs that pass (diverse by
 * segment), proposes instruction candidates with the language model (a meta-prompt holding the
 * judge's explanations of the blamed agent's failures), and searches the joint space
 * instruction × demo set with successive halving on minibatches of the working set — never the
 * holdout. The best configurations go to the engine's tournament, which measures them again.
 * Settings in the constructor, data in `propose`.
 */
import { Effect } from "effect"
import type { AgentVersion, FewShotExample } from "@spectral/engine/contracts"
import { type Candidate, clustersByBlamedAgent, explanationsFor, metaPrompt, type Strategy, type StrategyInput, withAgent } from "@spectral/engine"
import { seededOrder } from "./Seeded.ts"

export interface DspySettings {
  /** Instruction proposals sampled from the model (the current instruction is always a candidate). */
  readonly instructionCandidates: number
  /** Bootstrapped demo sets (an empty set is always a candidate). */
  readonly demoSets: number
  readonly demosPerSet: number
  /** Minibatch of the first rung; each later rung doubles it. */
  readonly minibatch: number
  readonly rungs: number
  /** Configurations handed to the tournament. */
  readonly keep: number
}

export const defaultDspySettings: DspySettings = { instructionCandidates: 3, demoSets: 2, demosPerSet: 3, minibatch: 8, rungs: 3, keep: 2 }

/** Demo sets bootstrapped from passing runs: each set spreads over segments. */
export const bootstrapDemoSets = (input: StrategyInput, agentId: string, settings: DspySettings): ReadonlyArray<ReadonlyArray<FewShotExample>> => {
  const pool = seededOrder(input.passingExamples.filter((e) => e.agentId === agentId), `dspy-demos:${input.seed}`)
  const sets: Array<Array<FewShotExample>> = []
  const used = new Set<string>()
  for (let k = 0; k < settings.demoSets; k++) {
    const set: Array<FewShotExample> = []
    const segments = new Set<string>()
    for (const e of pool) {
      if (set.length >= settings.demosPerSet) break
      if (used.has(e.stimulusId) || segments.has(e.segment)) continue
      used.add(e.stimulusId)
      segments.add(e.segment)
      set.push({ input: e.input, output: e.output, note: "bootstrapped demonstration (passing run)" })
    }
    if (set.length > 0) sets.push(set)
  }
  return sets
}

export const dspyOptimizer = (settings: DspySettings = defaultDspySettings): Strategy => ({
  name: "plugin/dspy",
  description: "DSPy-style: bootstrap demos from passing runs, propose instructions, search instruction × demo set by successive halving on the working set.",
  propose: (input) =>
    Effect.gen(function*() {
      const [target] = [...clustersByBlamedAgent(input).entries()].sort((a, b) => b[1].reduce((s, c) => s + c.memberTraceIds.length, 0) - a[1].reduce((s, c) => s + c.memberTraceIds.length, 0))
      if (target === undefined) return []
      const [agentId, clusters] = target
      const agent = input.current.find((a) => a.agentId === agentId)
      if (agent === undefined) return []
      const role = input.agents.find((a) => a.id === agentId)?.role ?? agentId
      // Instruction proposals.
      const explanations = explanationsFor(input, clusters, 8)
      const prompt = metaPrompt({ role, instruction: agent.template.basePrompt, guidance: agent.template.guidance }, explanations)
      const instructions = new Set<string>([agent.template.basePrompt])
      // A proposal the model fails to write is skipped; once the budget refuses one, the search goes
      // on with the instructions it has (the current one at least).
      for (let i = 0; i < Math.min(settings.instructionCandidates, input.budget.maxModelCalls); i++) {
        const text = yield* input.complete(prompt.system, prompt.user, { temperature: 0.4 + 0.3 * i, sample: i }).pipe(
          Effect.map((answer): string | undefined | "refused" => answer.trim()),
          Effect.catchTag("CompletionFailed", () => Effect.succeed(undefined)),
          Effect.catchTag("BudgetExhausted", () => Effect.succeed("refused" as const))
        )
        if (text === "refused") break
        if (text !== undefined && text !== "") instructions.add(text)
      }
      const demoSets: ReadonlyArray<ReadonlyArray<FewShotExample>> = [[], ...bootstrapDemoSets(input, agentId, settings)]
      // The joint space.
      let arms: Array<{ id: string; team: ReadonlyArray<AgentVersion>; label: string; score: number }> = []
      for (const [i, instruction] of [...instructions].entries()) {
        for (const [d, demos] of demoSets.entries()) {
          if (i === 0 && d === 0) continue
          arms.push({
            id: `dspy-${agentId}-i${i}-d${d}`,
            label: `instruction ${i === 0 ? "current" : `proposal ${i}`} × ${demos.length === 0 ? "no demos" : `demo set ${d} (${demos.length})`}`,
            team: withAgent(input.current, agentId, (a) => ({
              ...a,
              template: { ...a.template, basePrompt: instruction, guidance: i === 0 ? a.template.guidance : [], fewShotExamples: [...a.template.fewShotExamples, ...demos].slice(-6) }
            })),
            score: 0
          })
        }
      }
      // Successive halving on growing minibatches of the working set.
      const order = seededOrder(input.workingStimuli, `dspy-batches:${input.seed}`).map((s) => s.id)
      let evidence = ""
      for (let rung = 0; rung < settings.rungs && arms.length > 0; rung++) {
        const batch = order.slice(0, Math.min(order.length, settings.minibatch * 2 ** rung))
        const scored: typeof arms = []
        for (const arm of arms) {
          const result = yield* input.evaluate(arm.team, batch).pipe(
            Effect.map((e) => e.score),
            Effect.catchTag("BudgetExhausted", () => Effect.succeed(undefined))
          )
          if (result === undefined) break
          scored.push({ ...arm, score: result })
        }
        if (scored.length === 0) break
        scored.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
        const base = yield* input.evaluate(input.current, batch).pipe(Effect.map((e) => e.score), Effect.orElseSucceed(() => 0))
        evidence = `rung ${rung + 1}: ${scored.length} configuration(s) on ${batch.length} working stimuli, best ${(scored[0]!.score * 100).toFixed(1)} vs current ${(base * 100).toFixed(1)}`
        arms = rung === settings.rungs - 1 ? scored : scored.slice(0, Math.max(settings.keep, Math.ceil(scored.length / 3)))
        if (batch.length === order.length) break
      }
      return arms.slice(0, settings.keep).map((arm): Candidate => ({
        id: arm.id,
        strategy: "plugin/dspy",
        rationale: `${agentId}: ${arm.label}, chosen by successive halving over ${instructions.size} instruction(s) × ${demoSets.length} demo set(s) (${evidence})`,
        agents: arm.team,
        changed: [agentId],
        evidence
      }))
    })
})
