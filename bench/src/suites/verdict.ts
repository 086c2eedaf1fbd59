/**
 * `npm run bench -- verdict`: statistical validation of the verdict, through the real gates and
 * fold (`decide` over `builtinGates`). A/A: the candidate identical in distribution to the baseline,
 * binary and continuous scores, n = 50 / 200 / 1,000, 1,000 comparisons each: the false-go rate
 * must be ≤ α. Power: effects +2, +5, +10 points on the same simulator, the go rate beside a
 * two-sided paired t-test at the same α on the same data (its rejections with a positive mean):
 * within 5 points. The t-test is ours (`pairedTTest`); scipy checks its p-values when python3 has it.
 * A/A with tournament selection: K = 1, 6, 24 no-effect candidates on 60 working + 40 synthetic
 * holdout stimuli, the winner the best working delta, the verdict gated as the engine gates a
 * tournament winner (judged on the holdout): false-go ≤ α; beside it the same data judged on the
 * working set that chose it (the verdict before the fix). Power under selection: K = 6, one with
 * +5 / +10 pts, go beside a paired t-test on the winner's holdout.
 * `--quick`: 200 comparisons, n = 50 / 200, 999 resamples.
 */
import { spawnSync } from "node:child_process"
import { Console, Effect } from "effect"
import { builtinGates, decide } from "@spectral/engine"
import {
  aaSelectionStudy,
  aaStudy,
  type CellResult,
  clopperPearsonUpper,
  pairedTTest,
  powerStudy,
  runSelectionCell,
  SELECTION_CANDIDATES,
  type SelectionCellResult,
  simulatePair,
  STUDY_SIZES
} from "@spectral/engine/testing"
import { SeededStream } from "@spectral/engine/stats"
import type { Suite } from "../Suite.ts"

const ALPHA = 0.05
const TOLERANCE = 0.05

const pct = (x: number) => (100 * x).toFixed(1).padStart(5)

/** Compare our paired t-test p-values with scipy.stats.ttest_rel on a few simulated datasets. */
const scipyCheck = (): string => {
  const rng = SeededStream.make(42, 1)
  const datasets = (["binary", "continuous"] as const).flatMap((kind) =>
    [50, 200].map((n) => {
      const { baseline, candidate } = simulatePair({ kind, n, effect: 0.05 }, rng)
      return { baseline: Array.from(baseline), candidate: Array.from(candidate) }
    })
  )
  const code = [
    "import json, sys",
    "from scipy import stats",
    "data = json.load(sys.stdin)",
    "print(json.dumps([float(stats.ttest_rel(d['candidate'], d['baseline']).pvalue) for d in data]))"
  ].join("\n")
  const run = spawnSync("python3", ["-c", code], { input: JSON.stringify(datasets), encoding: "utf8" })
  if (run.status !== 0) return `scipy check skipped (${(run.stderr || String(run.error)).split("\n")[0]})`
  const theirs = JSON.parse(run.stdout) as Array<number>
  const ours = datasets.map((d) => pairedTTest(d.baseline, d.candidate).p)
  const worst = Math.max(...ours.map((p, i) => Math.abs(p - theirs[i]!)))
  return `paired t-test vs scipy.stats.ttest_rel on ${ours.length} datasets: largest |Δp| = ${worst.toExponential(2)}`
}

const row = (r: CellResult, extra: string) =>
  `| ${r.kind.padEnd(10)} | ${r.effect === 0 ? "    0" : `+${(r.effect * 100).toFixed(0)}`.padStart(5)} | ${String(r.n).padStart(5)} | ${String(r.comparisons).padStart(5)} | ${pct(r.goRate)} | ${pct(r.tTestRate)} | ${pct(r.disagreement)} | ${extra} |`

export const verdictSuite: Suite = {
  name: "verdict",
  description: "A/A false-go rate and power of the verdict vs a paired t-test",
  run: ({ quick }) =>
    Effect.gen(function*() {
      const comparisons = quick ? 200 : 1000
      const resamples = quick ? 999 : 1999
      const sizes = quick ? [50, 200] : [...STUDY_SIZES]
      const options = { alpha: ALPHA, comparisons, resamples, seed: 20250, decide: (input: Parameters<typeof decide>[0]) => decide(input, builtinGates) }
      const figures: Record<string, number> = {}
      const header = "| scores     | effect |     n | comps | go %  | t-test % | disagree % |"

      const startedAa = performance.now()
      const aa = aaStudy(options, sizes)
      const aaSeconds = (performance.now() - startedAa) / 1000
      const total = aa.reduce((s, r) => s + r.comparisons, 0)
      const goes = aa.reduce((s, r) => s + Math.round(r.goRate * r.comparisons), 0)
      const upper = clopperPearsonUpper(goes, total)
      yield* Console.log(`### A/A: candidate identical in distribution (α = ${ALPHA}; target false-go ≤ α)\n`)
      yield* Console.log(`${header} verdict |`)
      yield* Console.log("| --- | --- | --- | --- | --- | --- | --- | --- |")
      for (const r of aa) {
        yield* Console.log(row(r, r.goRate <= ALPHA ? "ok" : "ABOVE α"))
        figures[`aa_${r.kind}_n${r.n}_false_go`] = r.goRate
      }
      yield* Console.log(
        `\nOverall false-go ${goes} / ${total} = ${(100 * goes / total).toFixed(2)} % (95 % upper bound ${(100 * upper).toFixed(2)} %) — ${goes / total <= ALPHA ? "meets" : "MISSES"} the target ≤ ${100 * ALPHA} %. ` +
          `By design it sits near α/2: go needs the lower end of the two-sided ${100 * (1 - ALPHA)} % interval above 0. (${aaSeconds.toFixed(1)} s)\n`
      )
      figures.aa_false_go = goes / total
      figures.aa_false_go_upper95 = upper

      const startedPower = performance.now()
      const power = powerStudy(options, sizes)
      const powerSeconds = (performance.now() - startedPower) / 1000
      yield* Console.log(`### Power: go rate vs two-sided paired t-test at α = ${ALPHA} on the same data (target |Δ| ≤ ${100 * TOLERANCE} pts)\n`)
      yield* Console.log(`${header} |Δ| pts |`)
      yield* Console.log("| --- | --- | --- | --- | --- | --- | --- | --- |")
      let worst = 0
      for (const r of power) {
        const gap = Math.abs(r.goRate - r.tTestRate)
        worst = Math.max(worst, gap)
        yield* Console.log(row(r, `${(100 * gap).toFixed(1)}${gap <= TOLERANCE ? "" : " MISS"}`))
        figures[`power_${r.kind}_e${Math.round(r.effect * 100)}_n${r.n}_go`] = r.goRate
        figures[`power_${r.kind}_e${Math.round(r.effect * 100)}_n${r.n}_ttest`] = r.tTestRate
      }
      yield* Console.log(`\nLargest |go − t-test| = ${(100 * worst).toFixed(1)} pts — ${worst <= TOLERANCE ? "meets" : "MISSES"} the target ≤ ${100 * TOLERANCE} pts. (${powerSeconds.toFixed(1)} s)`)
      yield* Console.log("Study framework: minDelta 0 (a business minimum is not a significance test); other gates at their defaults report neutral or pass on these inputs.")
      yield* Console.log(scipyCheck())
      figures.power_max_gap = worst

      // A/A with tournament selection, and the same data judged as before the fix.
      const startedSelection = performance.now()
      const size = { working: 60, holdout: 40 }
      const selected = aaSelectionStudy(options, size)
      const unmarked = aaSelectionStudy({ ...options, markSelected: false }, size)
      const selectionSeconds = (performance.now() - startedSelection) / 1000
      yield* Console.log(`\n### A/A with tournament selection: winner = best working delta of K no-effect candidates (${size.working} working + ${size.holdout} synthetic holdout stimuli; target false-go ≤ α)\n`)
      yield* Console.log("| scores     |  K | comps | winner working Δ pts | go % (engine: judged on holdout) | go % (judged on the working set that chose it) | t-test on holdout % | verdict |")
      yield* Console.log("| --- | --- | --- | --- | --- | --- | --- | --- |")
      const fmt = (r: SelectionCellResult, before: SelectionCellResult) =>
        `| ${r.kind.padEnd(10)} | ${String(r.candidates).padStart(2)} | ${String(r.comparisons).padStart(5)} | ${(100 * r.meanWinnerWorkingDelta).toFixed(2).padStart(6)} | ${pct(r.goRate)} | ${pct(before.goRate)} | ${pct(r.tTestRate)} | ${r.goRate <= ALPHA ? "ok" : "ABOVE α"} |`
      let worstSelected = 0
      for (let i = 0; i < selected.length; i++) {
        const r = selected[i]!
        yield* Console.log(fmt(r, unmarked[i]!))
        worstSelected = Math.max(worstSelected, r.goRate)
        figures[`aa_selection_${r.kind}_k${r.candidates}_false_go`] = r.goRate
        figures[`aa_selection_${r.kind}_k${r.candidates}_false_go_before_fix`] = unmarked[i]!.goRate
      }
      for (const k of SELECTION_CANDIDATES) {
        const cells = selected.filter((c) => c.candidates === k)
        const total = cells.reduce((sum, c) => sum + c.comparisons, 0)
        const goes = cells.reduce((sum, c) => sum + Math.round(c.goRate * c.comparisons), 0)
        figures[`aa_selection_k${k}_false_go`] = goes / total
        figures[`aa_selection_k${k}_false_go_upper95`] = clopperPearsonUpper(goes, total)
        yield* Console.log(`K = ${k}: false-go ${goes} / ${total} = ${(100 * goes / total).toFixed(2)} % (95 % upper bound ${(100 * clopperPearsonUpper(goes, total)).toFixed(2)} %)`)
      }
      yield* Console.log(`Largest cell false-go with selection = ${(100 * worstSelected).toFixed(1)} % — ${worstSelected <= ALPHA ? "meets" : "MISSES"} the target ≤ ${100 * ALPHA} %. (${selectionSeconds.toFixed(1)} s)\n`)
      figures.aa_selection_max_false_go = worstSelected

      yield* Console.log("### Power under selection: K = 6 candidates, one with a true effect; go vs two-sided paired t-test on the winner's holdout\n")
      yield* Console.log("| scores     | effect |  K | comps | go %  | t-test on holdout % | disagree % |")
      yield* Console.log("| --- | --- | --- | --- | --- | --- | --- |")
      for (const kind of ["binary", "continuous"] as const) {
        for (const effect of [0.05, 0.1]) {
          const r = runSelectionCell({ kind, ...size, candidates: 6, effect }, options)
          yield* Console.log(`| ${kind.padEnd(10)} | +${(effect * 100).toFixed(0).padStart(4)} |  6 | ${String(r.comparisons).padStart(5)} | ${pct(r.goRate)} | ${pct(r.tTestRate)} | ${pct(r.disagreement)} |`)
          figures[`power_selection_${kind}_e${Math.round(effect * 100)}_k6_go`] = r.goRate
          figures[`power_selection_${kind}_e${Math.round(effect * 100)}_k6_ttest`] = r.tTestRate
        }
      }
      return figures
    })
}
