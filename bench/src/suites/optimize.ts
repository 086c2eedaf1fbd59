/**
 * Optimize benchmark — on the SIMULATED language model (packages/adapters/src/simulated): a
 * measure of the engine's optimization mechanics, not of any real model. Two teams start from a
 * deliberately weak configuration: the tax-prep team (us-federal-individual-tax) and a second team
 * in another domain (us-flsa-overtime, examples/second-team) whose weak spots no strategy was
 * written for. For each, one scan with every strategy (built-ins and both plugins) reports the
 * working and holdout composite deltas side by side (their gap is the overfitting the holdout gate
 * guards against), the verdict, and the spend against the scan's budget; then one scan per
 * strategy alone gives calls, tokens and dollars of the optimize phase per point of holdout
 * improvement. Storage is in memory; every scan is a fresh engine.
 */
import { Console, Effect, Layer } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import {
  builtinStrategies,
  compose,
  EventBus,
  MemoryStorage,
  type OptimizeOutput,
  type ObserveOutput,
  ScanEngine,
  ScanOrchestrator,
  ScanRepo,
  selectStrategies,
  WorkspaceRepo
} from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { OptimizerPlugins, optimizerPluginDefinition } from "@spectral/plugins"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { Schema } from "effect"
import { overtimeWorkspace } from "../../../examples/second-team/src/OvertimeTeam.ts"
import { weakTaxWorkspace } from "../../../examples/second-team/src/WeakTaxTeam.ts"
import type { Suite } from "../Suite.ts"

const MODEL = "simulated-small"

interface ScanFigures {
  readonly verdict: string
  readonly explanation: string
  readonly winner: string
  readonly workingDelta: number | undefined
  readonly holdoutDelta: number | undefined
  readonly baselineHoldout: number | undefined
  readonly candidateHoldout: number | undefined
  readonly spend: { readonly calls: number; readonly tokens: number; readonly usd: number }
  readonly optimizeSpend: { readonly calls: number; readonly tokens: number; readonly usd: number }
  readonly budget: { readonly maxCalls: number; readonly maxTokens: number; readonly maxUsd: number }
  readonly withinBudget: boolean
}

const composite = (observe: ObserveOutput, arm: ObserveOutput["baseline"], layer: "working" | "holdout"): number | undefined => {
  const ids = new Set(observe.evalSet.samples.filter((s) => (s.holdoutLayer === "working") === (layer === "working")).map((s) => s.id))
  const evalSet = { ...observe.evalSet, samples: observe.evalSet.samples.filter((s) => ids.has(s.id)) }
  const blended = compose(evalSet, { arm: arm.arm, runs: arm.runs.filter((r) => ids.has(r.stimulusId)) }).blendedScore
  return blended._tag === "Present" ? blended.value : undefined
}

const scan = (raw: unknown, strategies: ReadonlyArray<string> | undefined, size: number) =>
  Effect.gen(function*() {
    const workspace = yield* Schema.decodeUnknownEffect(Workspace)(raw)
    // The team's budget is per scan at its declared eval-set size; a larger eval set gets the same
    // budget per stimulus (calls, tokens and dollars scale with the number of stimuli).
    const scale = Math.max(1, size / workspace.framework.evalSetSize)
    const economics = workspace.framework.economics
    const sized = {
      ...workspace,
      framework: {
        ...workspace.framework,
        evalSetSize: size,
        economics: {
          ...economics,
          maxCallsPerScan: Math.round(economics.maxCallsPerScan * scale),
          maxTokensPerScan: Math.round(economics.maxTokensPerScan * scale),
          maxUsdPerScan: economics.maxUsdPerScan * scale
        }
      }
    }
    yield* (yield* WorkspaceRepo).upsert(sized)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: sized.id, seed: 1, concurrency: 16 })
    const outputs = yield* (yield* ScanRepo).phaseOutputs(sized.id, outcome.scan.id)
    const observe = outputs.get("observe") as ObserveOutput
    const optimize = outputs.get("optimize") as OptimizeOutput
    const winnerArm = optimize.winner?.measurement
    const delta = (layer: "working" | "holdout") => {
      const before = composite(observe, observe.baseline, layer)
      const after = winnerArm === undefined ? before : composite(observe, winnerArm, layer)
      return before === undefined || after === undefined ? undefined : after - before
    }
    const spend = outcome.spend
    const opt = spend.byPhase["optimize"] ?? { calls: 0, tokens: 0, usd: 0, cachedCalls: 0 }
    return {
      verdict: outcome.verdict.outcome,
      explanation: outcome.verdict.explanation,
      winner: optimize.winner === null ? "(none)" : `${optimize.winner.candidate.id} [${optimize.winner.candidate.strategy}]`,
      workingDelta: delta("working"),
      holdoutDelta: delta("holdout"),
      baselineHoldout: composite(observe, observe.baseline, "holdout"),
      candidateHoldout: winnerArm === undefined ? undefined : composite(observe, winnerArm, "holdout"),
      spend: { calls: spend.total.calls, tokens: spend.total.tokens, usd: spend.total.usd },
      optimizeSpend: { calls: opt.calls, tokens: opt.tokens, usd: opt.usd },
      budget: spend.budget,
      withinBudget: spend.total.calls <= spend.budget.maxCalls && spend.total.tokens <= spend.budget.maxTokens && spend.total.usd <= spend.budget.maxUsd
    } satisfies ScanFigures
  }).pipe(
    Effect.provide(
      ScanEngine.layer(undefined, strategies === undefined ? [OptimizerPlugins] : [OptimizerPlugins, selectStrategies(strategies)]).pipe(
        Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1 })))
      )
    )
  )

const pts = (x: number | undefined) => (x === undefined ? "—" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`)
const pad = (s: string, n: number) => s.padEnd(n)
const lpad = (s: string, n: number) => s.padStart(n)

const strategyNames = [
  ...builtinStrategies.map((s) => s.name),
  ...optimizerPluginDefinition.strategies.map((s) => s.name)
]

export const optimizeSuite: Suite = {
  name: "optimize",
  description: "weak start → one scan: holdout vs working deltas, verdict, budget; per-strategy cost per holdout point (SIMULATED model)",
  run: ({ quick }) =>
    Effect.gen(function*() {
      const size = quick ? 64 : 160
      yield* Console.log("The language model is SIMULATED (packages/adapters/src/simulated): deterministic, offline, with blind spots that react to guidance,")
      yield* Console.log("examples, chain of thought and temperature. These figures measure the engine's optimization mechanics, not a real model.\n")
      const figures: Record<string, number> = {}
      const teams = [
        { key: "tax", title: "tax-prep team (us-federal-individual-tax), weak start", workspace: weakTaxWorkspace(MODEL) },
        { key: "flsa", title: "second team: payroll overtime desk (us-flsa-overtime), weak start — no strategy written for it", workspace: overtimeWorkspace(MODEL) }
      ]
      for (const team of teams) {
        yield* Console.log(`### ${team.title}; ${size} stimuli per scan`)
        const all = yield* scan(team.workspace, undefined, size)
        yield* Console.log(`one scan, every strategy: verdict ${all.verdict.toUpperCase()}; winner ${all.winner}`)
        yield* Console.log(`  composite delta  working ${pts(all.workingDelta)} pts | holdout ${pts(all.holdoutDelta)} pts (holdout ${pts(all.baselineHoldout).replace("+", "")} → ${pts(all.candidateHoldout).replace("+", "")}) | gap ${pts(all.workingDelta !== undefined && all.holdoutDelta !== undefined ? all.workingDelta - all.holdoutDelta : undefined)} pts`)
        yield* Console.log(`  spend ${all.spend.calls} calls / ${all.budget.maxCalls}, ${all.spend.tokens.toLocaleString("en-US")} tokens / ${all.budget.maxTokens.toLocaleString("en-US")}, $${all.spend.usd.toFixed(4)} / $${all.budget.maxUsd} — ${all.withinBudget ? "within budget" : "OVER BUDGET"}`)
        yield* Console.log(`  target (holdout ≥ +10 pts, go, within budget): ${(all.holdoutDelta ?? 0) >= 0.1 && all.verdict === "go" && all.withinBudget ? "met" : "NOT met"}`)
        figures[`${team.key}.all.working_delta_pts`] = (all.workingDelta ?? 0) * 100
        figures[`${team.key}.all.holdout_delta_pts`] = (all.holdoutDelta ?? 0) * 100
        figures[`${team.key}.all.go`] = all.verdict === "go" ? 1 : 0
        figures[`${team.key}.all.calls`] = all.spend.calls
        figures[`${team.key}.all.within_budget`] = all.withinBudget ? 1 : 0
        yield* Console.log("")
        yield* Console.log(`  ${pad("strategy (alone)", 30)} ${pad("verdict", 8)} ${lpad("working", 8)} ${lpad("holdout", 8)} ${lpad("opt calls", 10)} ${lpad("opt tokens", 11)} ${lpad("opt $", 9)} ${lpad("calls/pt", 9)} ${lpad("tokens/pt", 10)} ${lpad("$/pt", 10)}`)
        for (const name of strategyNames) {
          const one = yield* scan(team.workspace, [name], size)
          const points = (one.holdoutDelta ?? 0) * 100
          const per = (x: number, digits: number) => (points > 0 ? (x / points).toFixed(digits) : "—")
          yield* Console.log(`  ${pad(name, 30)} ${pad(one.verdict, 8)} ${lpad(pts(one.workingDelta), 8)} ${lpad(pts(one.holdoutDelta), 8)} ${lpad(String(one.optimizeSpend.calls), 10)} ${lpad(one.optimizeSpend.tokens.toLocaleString("en-US"), 11)} ${lpad(one.optimizeSpend.usd.toFixed(4), 9)} ${lpad(per(one.optimizeSpend.calls, 1), 9)} ${lpad(per(one.optimizeSpend.tokens, 0), 10)} ${lpad(per(one.optimizeSpend.usd, 6), 10)}`)
          figures[`${team.key}.${name}.holdout_delta_pts`] = points
          figures[`${team.key}.${name}.optimize_calls`] = one.optimizeSpend.calls
          if (points > 0) figures[`${team.key}.${name}.calls_per_holdout_pt`] = one.optimizeSpend.calls / points
        }
        yield* Console.log("  (opt = the optimize phase: proposals, strategy search, tournament and the winner's holdout measurement; — = no holdout improvement)\n")
      }
      return figures
    })
}
