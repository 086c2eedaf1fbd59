/**
 * The optimize phase's tournament on hand-built measurements: how two candidates merge, the
 * successive-halving schedule and who it eliminates (with the logged reason), strict Pareto
 * dominance, the framework's objective, and the `Tournament` service's result (decision log, seen
 * set) with its inputs left as they were. `measure` is a fake that scores each candidate by a
 * fixed profile and records what it was asked to measure.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { AgentVersion, EvalSetSample, EvaluationFramework } from "../../src/contracts/index.ts"
import type { ArmMeasurement, RunMeasurement } from "../../src/measurement/Measurement.ts"
import { dominates, mergeCandidates, minLatencyMs, objectiveOf, Tournament, type TournamentInput, type VectorValue } from "../../src/optimize/Tournament.ts"
import { hashHex } from "../../src/random/Deterministic.ts"
import { type Candidate, withAgent } from "../../src/strategies/Strategy.ts"
import { toyEvalSet, toyFramework, toyWorkspace } from "./ToyTeam.ts"

const toy = toyWorkspace({ broken: "none" })
/** The toy team plus an auditor no candidate changes. */
const baseline: ReadonlyArray<AgentVersion> = [
  ...toy.agents.map((a) => ({ agentId: a.id, version: 1, template: a.template, hyperparameters: a.hyperparameters })),
  {
    agentId: "auditor",
    version: 3,
    template: { ...toy.agents[0]!.template, basePrompt: "Check the total.", outputFields: ["ok"] },
    hyperparameters: { provider: "toy", model: "toy", temperature: 0, maxTokens: 100 }
  }
]
const base = (agentId: string) => baseline.find((a) => a.agentId === agentId)!

const candidate = (id: string, strategy: string, changes: Readonly<Record<string, (agent: AgentVersion) => AgentVersion>>): Candidate => ({
  id,
  strategy,
  rationale: `${id}'s reason`,
  agents: Object.entries(changes).reduce((team, [agentId, change]) => withAgent(team, agentId, change), baseline),
  changed: Object.keys(changes)
})

/** A candidate that changes the calculator's temperature (a distinct configuration per id). */
const tempered = (id: string, strategy: string, temperature: number) =>
  candidate(id, strategy, { calculator: (a) => ({ ...a, hyperparameters: { ...a.hyperparameters, temperature } }) })

const example = (input: string, output = "{}") => ({ input, output })

describe("mergeCandidates", () => {
  it("each agent takes the change of the candidate that changed it; an agent neither changed keeps its baseline", () => {
    const before = structuredClone(baseline)
    const rewrite = candidate("rewrite", "builtin/instruction_rewrite", { calculator: (a) => ({ ...a, template: { ...a.template, basePrompt: "Multiply quantity by price." } }) })
    // The reader's change in this candidate is not one it claims (not in `changed`): it does not count.
    const withStray: Candidate = { ...rewrite, agents: withAgent(rewrite.agents, "reader", (a) => ({ ...a, hyperparameters: { ...a.hyperparameters, maxTokens: 999 } })) }
    const cool = candidate("cool", "builtin/hyperparameter_shift", { reader: (a) => ({ ...a, hyperparameters: { ...a.hyperparameters, temperature: 0.3 } }) })
    const merged = mergeCandidates(withStray, cool, baseline)
    assert.strictEqual(merged.id, "merge(rewrite+cool)")
    assert.strictEqual(merged.strategy, "builtin/tournament_merge")
    assert.include(merged.rationale, "rewrite's reason")
    assert.include(merged.rationale, "cool's reason")
    assert.deepStrictEqual([...merged.changed].sort(), ["calculator", "reader"])
    assert.deepStrictEqual(merged.agents.map((a) => a.agentId), baseline.map((a) => a.agentId))
    assert.strictEqual(merged.agents.find((a) => a.agentId === "calculator")!.template.basePrompt, "Multiply quantity by price.")
    assert.deepStrictEqual(merged.agents.find((a) => a.agentId === "reader"), cool.agents.find((a) => a.agentId === "reader"))
    assert.strictEqual(merged.agents.find((a) => a.agentId === "auditor"), base("auditor"), "the auditor is the baseline's, untouched")
    assert.deepStrictEqual(baseline, before, "the baseline is not mutated")
  })

  it("an agent both changed combines the changes: the rewrite, more reasoning, all guidance and examples, the larger context, the cooler sampler", () => {
    const calculator = base("calculator")
    const a = candidate("a", "s1", {
      calculator: (x) => ({
        ...x,
        template: {
          ...x.template,
          basePrompt: "Rewritten by a.",
          chainOfThought: "brief",
          guidance: ["g1"],
          fewShotExamples: [example("e1", "a1"), example("e2", "a2")],
          upstreamInjection: { mode: "none", label: "" }
        },
        hyperparameters: { ...x.hyperparameters, temperature: 0.5, maxTokens: 300 }
      })
    })
    const b = candidate("b", "s2", {
      calculator: (x) => ({
        ...x,
        template: {
          ...x.template,
          chainOfThought: "full",
          guidance: ["g1", "g2"],
          fewShotExamples: [example("e2", "b2"), example("e3", "b3")],
          contextSelection: { ...x.template.contextSelection, maxChars: 4000 },
          upstreamInjection: { mode: "json", label: "B's facts" }
        },
        hyperparameters: { ...x.hyperparameters, temperature: 0.1, maxTokens: 250 }
      })
    })
    const merged = mergeCandidates(a, b, baseline).agents.find((x) => x.agentId === "calculator")!
    assert.strictEqual(calculator.template.basePrompt, "Compute the order total in dollars.")
    assert.strictEqual(merged.template.basePrompt, "Rewritten by a.", "a rewritten instruction wins over the original")
    assert.strictEqual(merged.template.chainOfThought, "full", "the more reasoning")
    assert.deepStrictEqual(merged.template.guidance, ["g1", "g2"], "every guidance line, once")
    assert.deepStrictEqual(merged.template.fewShotExamples, [example("e1", "a1"), example("e2", "a2"), example("e3", "b3")], "b's example of an input a already shows is dropped")
    assert.strictEqual(merged.template.contextSelection.maxChars, 4000, "the larger context")
    assert.deepStrictEqual(merged.template.upstreamInjection, { mode: "json", label: "B's facts" }, "upstream outputs as JSON when either shows them")
    assert.strictEqual(merged.hyperparameters.temperature, 0.1, "the cooler sampler")
    assert.strictEqual(merged.hyperparameters.maxTokens, 300, "the larger token limit")
    assert.deepStrictEqual(mergeCandidates(a, b, baseline).changed, ["calculator"])
  })

  it("of two rewrites the longer instruction wins, either way round, and at most the six newest examples are kept", () => {
    const prompt = (id: string, basePrompt: string, inputs: ReadonlyArray<string>) =>
      candidate(id, id, { calculator: (x) => ({ ...x, template: { ...x.template, basePrompt, fewShotExamples: inputs.map((i) => example(i)) } }) })
    const short = prompt("short", "Multiply.", ["a1", "a2", "a3", "a4"])
    const long = prompt("long", "Multiply the quantity by the unit price.", ["b1", "b2", "b3", "b4"])
    const calculatorOf = (c: Candidate) => c.agents.find((x) => x.agentId === "calculator")!.template
    assert.strictEqual(calculatorOf(mergeCandidates(short, long, baseline)).basePrompt, "Multiply the quantity by the unit price.")
    assert.strictEqual(calculatorOf(mergeCandidates(long, short, baseline)).basePrompt, "Multiply the quantity by the unit price.")
    assert.deepStrictEqual(calculatorOf(mergeCandidates(short, long, baseline)).fewShotExamples.map((e) => e.input), ["a3", "a4", "b1", "b2", "b3", "b4"])
  })
})

const working = (n: number): ReadonlyArray<EvalSetSample> => toyEvalSet(n).samples

const run = (stimulusId: string, arm: string, blended: number, costUsd = 0, latencyMs = 0): RunMeasurement => ({
  stimulusId,
  epoch: 0,
  traceId: `${arm}:${stimulusId}`,
  status: "ok",
  blended,
  passed: blended >= 0.8,
  agents: {},
  worldDimensions: {},
  rubricDimensions: {},
  agentOutputs: {},
  truncatedAgents: [],
  costUsd,
  latencyMs
})

interface Profile {
  readonly quality: number
  readonly costUsd?: number
}

const arm = (id: string, ids: ReadonlyArray<string>, profile: Profile): ArmMeasurement => ({
  arm: id,
  runs: ids.map((s) => run(s, id, profile.quality, profile.costUsd ?? 0))
})

const framework = (maxRounds: number): EvaluationFramework => {
  const f = toyFramework({ broken: "none" })
  return { ...f, optimization: { ...f.optimization, maxRounds } }
}

interface Call {
  readonly id: string
  readonly stimuli: ReadonlyArray<string>
}

/** A tournament input over `n` stimuli whose fake `measure` scores each candidate by its profile (merges by `merge`). */
const tournamentInput = (options: {
  readonly n: number
  readonly maxRounds: number
  readonly pool: ReadonlyArray<Candidate>
  readonly profiles: Readonly<Record<string, Profile>>
  readonly merge?: Profile
  readonly baseline?: Profile
  readonly seed?: number
  readonly seen?: ReadonlySet<string>
  readonly unpaid?: ReadonlySet<string>
}) => {
  const calls: Array<Call> = []
  const samples = working(options.n)
  const input: TournamentInput<never> = {
    framework: framework(options.maxRounds),
    seed: options.seed ?? 3,
    baselineAgents: baseline,
    baseline: arm("baseline", samples.map((s) => s.id), options.baseline ?? { quality: 0.5 }),
    pool: options.pool,
    working: samples,
    scorers: [],
    inputs: new Map(samples.map((s) => [s.id, s.input])),
    seen: options.seen ?? new Set(["baseline-key"]),
    measure: (c, todo) =>
      Effect.sync(() => {
        calls.push({ id: c.id, stimuli: todo.map((s) => s.id) })
        if (options.unpaid?.has(c.id)) return undefined
        const profile = c.id.startsWith("merge(") ? options.merge! : options.profiles[c.id]!
        return arm(c.id, todo.map((s) => s.id), profile)
      }),
    fitsWithHoldoutReserve: () => Effect.succeed(true),
    budgetExhausted: () => false
  }
  return { input, calls }
}

/** The tournament through its service, as the optimize phase runs it. */
const runWith = <E>(input: TournamentInput<E>) =>
  Effect.gen(function*() {
    const tournament = yield* Tournament
    return yield* tournament.run(input)
  }).pipe(Effect.provide(Tournament.layer))

describe("successive halving", () => {
  it.effect("rungs grow to the whole working set: all of it in one round, half then all in two, a quarter, half, all in three", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [number, number, ReadonlyArray<number>]> = [
        [10, 1, [10]],
        [10, 2, [5, 10]],
        [10, 3, [3, 5, 10]],
        [5, 3, [2, 3, 5]]
      ]
      for (const [n, maxRounds, rungs] of cases) {
        const { input, calls } = tournamentInput({ n, maxRounds, pool: [tempered("good", "s1", 0.1)], profiles: { good: { quality: 0.9 } } })
        const result = yield* runWith(input)
        const cumulative = calls.map((_, i) => new Set(calls.slice(0, i + 1).flatMap((c) => c.stimuli)).size)
        assert.deepStrictEqual(cumulative, rungs, `${n} stimuli, ${maxRounds} round(s)`)
        assert.strictEqual(calls.flatMap((c) => c.stimuli).length, n, "no stimulus is measured twice")
        assert.strictEqual(result.best?.candidate.id, "good")
      }
    }))

  it.effect("the first rung is a seeded share of the working set, the same for the same seed", () =>
    Effect.gen(function*() {
      const firstRung = (seed: number) =>
        Effect.gen(function*() {
          const { input, calls } = tournamentInput({ n: 10, maxRounds: 2, seed, pool: [tempered("good", "s1", 0.1)], profiles: { good: { quality: 0.9 } } })
          yield* runWith(input)
          return [...calls[0]!.stimuli].sort().join(",")
        })
      assert.strictEqual(yield* firstRung(1), yield* firstRung(1))
      const shares = new Set<string>()
      for (const seed of [1, 2, 3, 4, 5]) shares.add(yield* firstRung(seed))
      assert.isAbove(shares.size, 1, "another seed draws another share")
    }))

  it.effect("after a rung the worse half is out, and so is a candidate worse than the baseline; each is logged with why", () =>
    Effect.gen(function*() {
      // One strategy, so no merge joins the second rung.
      const { input, calls } = tournamentInput({
        n: 8,
        maxRounds: 2,
        pool: [tempered("good", "s1", 0.1), tempered("meh", "s1", 0.15), tempered("bad", "s1", 0.05)],
        profiles: { good: { quality: 0.9 }, meh: { quality: 0.45 }, bad: { quality: 0.3 } }
      })
      const result = yield* runWith(input)
      const measured = (id: string) => calls.filter((c) => c.id === id).flatMap((c) => c.stimuli).length
      assert.deepStrictEqual([measured("good"), measured("meh"), measured("bad")], [8, 4, 4], "only the survivor is measured on the second rung")
      assert.deepStrictEqual(result.decisionLog.map((d) => [d.candidateId, d.outcome]), [["bad", "lost"], ["meh", "lost"]])
      const [bad, meh] = result.decisionLog
      assert.strictEqual(bad!.reason, "eliminated in round 1 (rank 3 of 3, objective -20.0, delta -20.0 pts on 4 working stimuli)")
      assert.closeTo(bad!.workingDelta!, -0.2, 1e-9)
      assert.strictEqual(meh!.reason, "worse than the baseline in round 1 (delta -5.0 pts on 4 working stimuli)")
      assert.closeTo(meh!.workingDelta!, -0.05, 1e-9)
      assert.strictEqual(result.best?.candidate.id, "good")
      assert.isUndefined(result.decisionLog.find((d) => d.candidateId === "good"), "the winner is not logged (its holdout decides)")
      assert.deepStrictEqual(result.finalists.map((f) => [f.candidateId, f.onParetoFront]), [["good", true]])
    }))

  it.effect("finalists that do not win are logged: dominated by the baseline, off the front, or a lower objective on the front", () =>
    Effect.gen(function*() {
      const { input } = tournamentInput({
        n: 6,
        maxRounds: 1,
        baseline: { quality: 0.5, costUsd: 0.01 },
        pool: [tempered("good", "s1", 0.1), tempered("cheap", "s2", 0.11), tempered("same", "s3", 0.12), tempered("worse", "s4", 0.13)],
        profiles: {
          good: { quality: 0.9, costUsd: 0.01 },
          cheap: { quality: 0.7, costUsd: 0 },
          same: { quality: 0.5, costUsd: 0.01 },
          worse: { quality: 0.4, costUsd: 0.02 }
        }
      })
      const result = yield* runWith(input)
      assert.strictEqual(result.best?.candidate.id, "good")
      const why = (id: string) => result.decisionLog.find((d) => d.candidateId === id)?.reason ?? ""
      assert.match(why("cheap"), /^final round: on the Pareto front, but its objective 20\.02 < the winner's 40\.00/)
      assert.match(why("same"), /^final round: off the Pareto front \(dominated by good\)/)
      assert.match(why("worse"), /^final round: dominated by the baseline on the framework's vectors \(quality 0\.500→0\.400, cost 0\.0100→0\.0200\)/)
      assert.deepStrictEqual(result.finalists.filter((f) => f.onParetoFront).map((f) => f.candidateId).sort(), ["cheap", "good"])
    }))

  it.effect("a candidate the budget cannot pay for is logged over budget, and cannot win", () =>
    Effect.gen(function*() {
      const { input } = tournamentInput({
        n: 8,
        maxRounds: 2,
        pool: [tempered("good", "s1", 0.1), tempered("dear", "s1", 0.2)],
        profiles: { good: { quality: 0.7 }, dear: { quality: 0.9 } },
        unpaid: new Set(["dear"])
      })
      const result = yield* runWith(input)
      assert.deepStrictEqual(result.decisionLog.find((d) => d.candidateId === "dear"), {
        strategy: "s1",
        candidateId: "dear",
        outcome: "over_budget",
        reason: "the scan's budget ran out while it was measured in round 1"
      })
      assert.strictEqual(result.best?.candidate.id, "good")

      const spent = tournamentInput({ n: 8, maxRounds: 2, pool: [tempered("good", "s1", 0.1)], profiles: { good: { quality: 0.9 } } })
      const exhausted = yield* runWith({ ...spent.input, fitsWithHoldoutReserve: () => Effect.succeed(false), budgetExhausted: () => true })
      assert.strictEqual(spent.calls.length, 0, "nothing is measured once the budget is gone")
      assert.deepStrictEqual(exhausted.decisionLog.map((d) => [d.candidateId, d.outcome, d.reason]), [["good", "over_budget", "the scan's budget ran out before round 1"]])
      assert.isUndefined(exhausted.best)
    }))
})

const vector = (name: string, kind: VectorValue["kind"], direction: VectorValue["direction"], baselineValue: number, candidateValue: number, weight = 1): VectorValue => ({
  vector: name,
  kind,
  direction,
  weight,
  baseline: baselineValue,
  candidate: candidateValue
})

describe("dominates", () => {
  const quality = (x: number) => vector("quality", "quality", "maximize", 0.5, x)
  const cost = (x: number) => vector("cost", "cost", "minimize", 0.01, x)

  it("at least as good on every vector and better on one, respecting each vector's direction", () => {
    assert.isTrue(dominates([quality(0.8), cost(0.01)], [quality(0.7), cost(0.01)]), "higher quality, same cost")
    assert.isTrue(dominates([quality(0.8), cost(0.01)], [quality(0.8), cost(0.02)]), "same quality, cheaper (cost is minimized)")
    assert.isFalse(dominates([quality(0.8), cost(0.02)], [quality(0.8), cost(0.01)]), "dearer is worse")
  })

  it("a trade-off dominates neither way, and a tie is not dominance", () => {
    assert.isFalse(dominates([quality(0.9), cost(0.02)], [quality(0.8), cost(0.01)]))
    assert.isFalse(dominates([quality(0.8), cost(0.01)], [quality(0.9), cost(0.02)]))
    assert.isFalse(dominates([quality(0.8), cost(0.01)], [quality(0.8), cost(0.01)]))
    assert.isFalse(dominates([quality(0.8 + 1e-13)], [quality(0.8)]), "a difference within float noise is a tie")
  })

  it("only vectors both sides measured are compared", () => {
    assert.isTrue(dominates([quality(0.8), cost(0.05)], [quality(0.7)]))
    assert.isFalse(dominates([cost(0.01)], [quality(0.7)]), "nothing in common: no dominance")
  })
})

describe("objectiveOf", () => {
  it("score-like vectors add weight × improvement, with the sign of their direction", () => {
    assert.closeTo(objectiveOf([vector("quality", "quality", "maximize", 0.5, 0.7, 2)], 10), 0.4, 1e-12)
    assert.closeTo(objectiveOf([vector("harm", "safety", "minimize", 0.3, 0.1, 1)], 10), 0.2, 1e-12)
    assert.closeTo(objectiveOf([vector("quality", "quality", "maximize", 0.5, 0.7, 2), vector("harm", "safety", "minimize", 0.3, 0.4, 0.5)], 10), 0.35, 1e-12)
    assert.strictEqual(objectiveOf([vector("quality", "quality", "maximize", 0.5, 0.9, 0)], 10), 0, "a weight of 0 does not count")
  })

  it("cost counts in units of the business cost of one failure", () => {
    assert.closeTo(objectiveOf([vector("cost", "cost", "minimize", 0, 10)], 10), -1, 1e-12, "paying one failure's cost more per stimulus is one failure")
    assert.closeTo(objectiveOf([vector("cost", "cost", "minimize", 0.03, 0.01)], 10), 0.002, 1e-12)
    assert.closeTo(objectiveOf([vector("cost", "cost", "minimize", 0.03, 0.01)], 1), 0.02, 1e-12, "cheaper failures make cost weigh more")
    assert.closeTo(objectiveOf([vector("quality", "quality", "maximize", 0.5, 0.6), vector("cost", "cost", "minimize", 0, 0.5, 0.2)], 10), 0.09, 1e-12)
  })

  it("latency counts its relative change, one doubling 5 points, unless both arms are under minLatencyMs", () => {
    assert.strictEqual(minLatencyMs, 50)
    assert.closeTo(objectiveOf([vector("latency", "latency", "minimize", 100, 200)], 10), -0.05, 1e-12)
    assert.closeTo(objectiveOf([vector("latency", "latency", "minimize", 400, 100)], 10), 0.1, 1e-12)
    assert.strictEqual(objectiveOf([vector("latency", "latency", "minimize", 10, 40)], 10), 0, "both under 50 ms: timing noise")
    assert.closeTo(objectiveOf([vector("latency", "latency", "minimize", 25, 50)], 10), -0.05, 1e-12, "one arm at 50 ms counts")
  })

  it("an improvement that is not finite counts nothing", () => {
    assert.closeTo(objectiveOf([vector("quality", "quality", "maximize", 0.5, Number.POSITIVE_INFINITY), vector("cost", "cost", "minimize", 0.02, 0.01)], 10), 0.001, 1e-12)
  })
})

describe("the Tournament service", () => {
  const pool = [tempered("good", "s1", 0.1), tempered("ok", "s2", 0.15), tempered("flat", "s3", 0.2), tempered("bad", "s4", 0.25)]
  const profiles = { good: { quality: 0.9 }, ok: { quality: 0.7 }, flat: { quality: 0.5 }, bad: { quality: 0.3 } }
  const mergeKey = hashHex(JSON.stringify(mergeCandidates(pool[0]!, pool[1]!, baseline).agents))

  it.effect("returns its decision log and the seen set grown by its merge, and leaves its inputs as they were", () =>
    Effect.gen(function*() {
      const { input, calls } = tournamentInput({ n: 8, maxRounds: 2, pool, profiles, merge: { quality: 0.95 } })
      const before = structuredClone({ pool: input.pool, baselineAgents: input.baselineAgents, baseline: input.baseline, working: input.working, seen: [...input.seen] })
      const result = yield* runWith(input)
      // The two best survivors of different strategies are merged after the first rung; the merge
      // catches up on the first rung's stimuli and wins.
      assert.strictEqual(result.best?.candidate.id, "merge(good+ok)")
      assert.deepStrictEqual(calls.filter((c) => c.id === "merge(good+ok)").map((c) => c.stimuli.length), [8])
      assert.deepStrictEqual(result.decisionLog.map((d) => [d.candidateId, d.outcome]), [["flat", "lost"], ["bad", "lost"], ["good", "lost"], ["ok", "lost"]])
      assert.match(result.decisionLog[0]!.reason, /^eliminated in round 1 \(rank 3 of 4/)
      assert.match(result.decisionLog[2]!.reason, /^final round: off the Pareto front \(dominated by merge\(good\+ok\)\)/)
      assert.deepStrictEqual([...result.seen].sort(), ["baseline-key", mergeKey].sort())
      assert.deepStrictEqual(
        structuredClone({ pool: input.pool, baselineAgents: input.baselineAgents, baseline: input.baseline, working: input.working, seen: [...input.seen] }),
        before,
        "the pool, the baseline, the working set and the seen set are not mutated"
      )
      assert.notStrictEqual(result.seen, input.seen)
    }))

  it.effect("a merge that repeats a configuration already considered is not measured", () =>
    Effect.gen(function*() {
      const { input, calls } = tournamentInput({ n: 8, maxRounds: 2, pool, profiles, merge: { quality: 0.95 }, seen: new Set(["baseline-key", mergeKey]) })
      const result = yield* runWith(input)
      assert.isFalse(calls.some((c) => c.id.startsWith("merge(")))
      assert.strictEqual(result.best?.candidate.id, "good")
      assert.deepStrictEqual([...result.seen].sort(), ["baseline-key", mergeKey].sort())
    }))
})
