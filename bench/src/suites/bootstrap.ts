/**
 * `npm run bench -- bootstrap`: the bootstrap CI core against `scipy.stats.bootstrap`.
 * Speed: n = 1,000 / 10,000 / 100,000 with 9,999 resamples, percentile and BCa, one core, each
 * case in its own child process so peak RSS is that case's; scipy timed on the same data in the
 * same run. Counts path: 100,000 pass/fail scores, BCa. Agreement: endpoints vs scipy at 99,999
 * resamples on normal, lognormal, 0/1, beta and paired-difference data. Coverage: 1,000
 * replications of BCa at n ≥ 30, with scipy's BCa coverage on the same lognormal datasets.
 * Also the entry of its own child process (`node bootstrap.ts child JOB`).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Effect, Result } from "effect"
import { bootstrapCI, bootstrapCIEffect, type BootstrapInput, type BootstrapInterval, SeededStream } from "@spectral/engine/stats"
import type { Suite, SuiteOptions } from "../Suite.ts"

const PYTHON_HELPER = fileURLToPath(new URL("../../python/bootstrap_ref.py", import.meta.url))
const THIS_FILE = fileURLToPath(import.meta.url)

// ---------------------------------------------------------------------------------------------
// Data (seeded; the same vectors go to scipy through a temp file)

type Shape = "normal" | "lognormal" | "passfail" | "beta" | "paired"

const gaussian = (stream: SeededStream): number =>
  Math.sqrt(-2 * Math.log(stream.nextDouble())) * Math.cos(2 * Math.PI * stream.nextDouble())

const gammaDraw = (stream: SeededStream, shape: number): number => {
  // Marsaglia–Tsang (shape ≥ 1).
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    const z = gaussian(stream)
    const v = (1 + c * z) ** 3
    if (v > 0 && Math.log(stream.nextDouble()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v
  }
}

const betaDraw = (stream: SeededStream, a: number, b: number): number => {
  const x = gammaDraw(stream, a)
  return x / (x + gammaDraw(stream, b))
}

/** The true mean of each shape (for coverage). */
const TRUE_MEAN: Record<Shape, number> = {
  normal: 0.5,
  lognormal: Math.exp(0.5),
  passfail: 0.9,
  beta: 5 / 7,
  paired: 0.03
}

const generate = (shape: Shape, n: number, seed: number): Float64Array => {
  const stream = SeededStream.make(seed, 1000 + ["normal", "lognormal", "passfail", "beta", "paired"].indexOf(shape))
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    switch (shape) {
      case "normal":
        values[i] = 0.5 + 0.2 * gaussian(stream)
        break
      case "lognormal":
        values[i] = Math.exp(gaussian(stream))
        break
      case "passfail":
        values[i] = stream.nextDouble() < 0.9 ? 1 : 0
        break
      case "beta":
        values[i] = betaDraw(stream, 5, 2)
        break
      case "paired": {
        // Candidate minus baseline on the same stimulus: correlated beta scores.
        const baseline = betaDraw(stream, 4, 2)
        const candidate = Math.min(1, Math.max(0, baseline + 0.03 + 0.1 * gaussian(stream)))
        values[i] = candidate - baseline
        break
      }
    }
  }
  return values
}

// ---------------------------------------------------------------------------------------------
// Child process: one timed case, so its peak RSS is its own

interface ChildJob {
  readonly shape: Shape
  readonly n: number
  readonly seed: number
  readonly input: Omit<BootstrapInput, "x">
  /** Worker threads (same interval for any count); absent: one core, the plain function. */
  readonly workers?: number
}

interface ChildReport {
  readonly ms: number
  readonly low: number
  readonly high: number
  readonly path: string
  readonly baselineRssMb: number
  readonly peakRssMb: number
}

const runOrThrow = (input: BootstrapInput): BootstrapInterval => {
  const result = bootstrapCI(input)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const runChild = (job: ChildJob): ChildReport => {
  const x = generate(job.shape, job.n, job.seed)
  // Warm the JIT on a small job of the same kind, then time the real one.
  runOrThrow({ ...job.input, x: x.subarray(0, Math.min(job.n, 2000)), resamples: 999 })
  const baselineRssMb = process.resourceUsage().maxRSS / 1024
  // Best of 3 below 10⁹ draws (the machine may be shared); the result is the same every time.
  let ms = Infinity
  let result = runOrThrow({ ...job.input, x: x.subarray(0, 2) })
  for (let repeat = 0; repeat < (job.n >= 100_000 ? 1 : 3); repeat++) {
    const started = performance.now()
    result = runOrThrow({ ...job.input, x })
    ms = Math.min(ms, performance.now() - started)
  }
  return { ms, low: result.low, high: result.high, path: result.path, baselineRssMb, peakRssMb: process.resourceUsage().maxRSS / 1024 }
}

const inChild = (job: ChildJob): ChildReport => {
  const run = spawnSync(process.execPath, [THIS_FILE, "child", JSON.stringify(job)], {
    encoding: "utf8",
    maxBuffer: 1 << 20
  })
  if (run.status !== 0) throw new Error(`bootstrap child failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as ChildReport
}

// ---------------------------------------------------------------------------------------------
// scipy side

const scipyAvailable = (): boolean =>
  spawnSync("python3", ["-c", "import scipy.stats, numpy"], { encoding: "utf8" }).status === 0

const runScipy = <A>(directory: string, job: Record<string, unknown>, rows: ReadonlyArray<Float64Array>): A => {
  const cols = Math.max(...rows.map((row) => row.length))
  const matrix = new Float64Array(rows.length * cols).fill(Number.NaN)
  rows.forEach((row, i) => matrix.set(row, i * cols))
  const dataFile = join(directory, "data.bin")
  const jobFile = join(directory, "job.json")
  writeFileSync(dataFile, new Uint8Array(matrix.buffer))
  writeFileSync(jobFile, JSON.stringify({ ...job, data: dataFile, rows: rows.length, cols }))
  const run = spawnSync("python3", [PYTHON_HELPER, jobFile], { encoding: "utf8", maxBuffer: 1 << 24 })
  if (run.status !== 0) throw new Error(`scipy helper failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as A
}

// ---------------------------------------------------------------------------------------------
// Table

const pad = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>): string =>
  cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i].length)))
  return [pad(header, widths), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((row) => pad(row, widths))].join("\n")
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "—")

// ---------------------------------------------------------------------------------------------
// The suite

const RESAMPLES = 9999

const runSuite = (options: SuiteOptions) =>
  Effect.gen(function*() {
    const figures: Record<string, number> = {}
    const withScipy = scipyAvailable()
    const directory = mkdtempSync(join(tmpdir(), "spectral-bench-bootstrap-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
    if (!withScipy) yield* Console.log("python3 with scipy not found: running without the scipy comparison\n")

    // 1. Speed and memory, one core.
    const sizes = options.quick ? [1000, 10_000] : [1000, 10_000, 100_000]
    const speedRows: Array<Array<string>> = []
    for (const n of sizes) {
      for (const method of ["percentile", "bca"] as const) {
        const ours = inChild({ shape: "normal", n, seed: 1, input: { statistic: "mean", method, resamples: RESAMPLES, seed: 1, countsPath: "off" } })
        const nsPerElement = (ours.ms * 1e6) / (n * RESAMPLES)
        let scipy: { seconds: number; low: number; high: number; maxRssMb: number } | undefined
        if (withScipy && !(options.quick && n > 10_000)) {
          scipy = runScipy(directory, { mode: "time", method, resamples: RESAMPLES, batch: n >= 100_000 ? 500 : null, seed: 1 }, [generate("normal", n, 1)])
        }
        const ratio = scipy === undefined ? Number.NaN : (scipy.seconds * 1000) / ours.ms
        const key = `n${n}_${method}`
        figures[`${key}_ms`] = ours.ms
        figures[`${key}_ns_per_element`] = nsPerElement
        figures[`${key}_peak_rss_mb`] = ours.peakRssMb
        if (scipy !== undefined) {
          figures[`${key}_scipy_ms`] = scipy.seconds * 1000
          figures[`${key}_speedup_vs_scipy`] = ratio
        }
        speedRows.push([
          `n=${n.toLocaleString("en-US")} ${method}`,
          fixed(ours.ms, 1),
          fixed(nsPerElement, 2),
          `${fixed(ours.peakRssMb, 0)} (+${fixed(ours.peakRssMb - ours.baselineRssMb, 0)})`,
          `[${fixed(ours.low, 5)}, ${fixed(ours.high, 5)}]`,
          scipy === undefined ? "—" : fixed(scipy.seconds * 1000, 0),
          scipy === undefined ? "—" : fixed(scipy.maxRssMb, 0),
          scipy === undefined ? "—" : `[${fixed(scipy.low, 5)}, ${fixed(scipy.high, 5)}]`,
          scipy === undefined ? "—" : `${fixed(ratio, 1)}×`
        ])
      }
    }
    yield* Console.log(`Speed (normal data, ${RESAMPLES} resamples, one core; peak RSS MB of the case's own process, (+ growth over the warmed-up baseline))\n`)
    yield* Console.log(table(["case", "ms", "ns/elem", "peak RSS MB", "interval", "scipy ms", "scipy RSS MB", "scipy interval", "speedup"], speedRows))
    // The large job again with the optional worker threads (2, the machine's cores): the interval is
    // the same as on one core; the ratio is against the scipy BCa time measured above.
    if (!options.quick) {
      const parallel = inChild({ shape: "normal", n: 100_000, seed: 1, workers: 2, input: { statistic: "mean", method: "bca", resamples: RESAMPLES, seed: 1, countsPath: "off" } })
      const scipyMs = figures["n100000_bca_scipy_ms"]
      figures["n100000_bca_2_workers_ms"] = parallel.ms
      if (scipyMs !== undefined) figures["n100000_bca_2_workers_speedup_vs_scipy"] = scipyMs / parallel.ms
      yield* Console.log(`\nn=100,000 bca, 2 worker threads: ${fixed(parallel.ms, 1)} ms, interval [${fixed(parallel.low, 5)}, ${fixed(parallel.high, 5)}]${scipyMs === undefined ? "" : `, ${fixed(scipyMs / parallel.ms, 1)}× scipy's BCa (target ≥ 20×)`}`)
    }

    // 2. Counts path.
    const counts = inChild({ shape: "passfail", n: 100_000, seed: 2, input: { statistic: "mean", method: "bca", resamples: RESAMPLES, seed: 1 } })
    figures.counts_passfail_100000_bca_ms = counts.ms
    yield* Console.log(`\nCounts path: 100,000 pass/fail scores, BCa, ${RESAMPLES} resamples: ${fixed(counts.ms, 1)} ms (path: ${counts.path}) [${fixed(counts.low, 5)}, ${fixed(counts.high, 5)}] — target < 50 ms`)

    // 3. Agreement with scipy.
    const agreementResamples = options.quick ? 9999 : 99_999
    const tolerance = options.quick ? 0.05 : 0.02
    const datasets: ReadonlyArray<readonly [Shape, number]> = [
      ["normal", 1000],
      ["lognormal", 1000],
      ["passfail", 10_000],
      ["beta", 1000],
      ["paired", 1000]
    ]
    if (withScipy) {
      const vectors = datasets.map(([shape, n]) => generate(shape, n, 3))
      const reference = runScipy<{ intervals: Array<Record<"percentile" | "bca", [number, number]>> }>(
        directory,
        { mode: "interval", resamples: agreementResamples, level: 0.95, seed: 3, batch: 2000 },
        vectors
      )
      const rows: Array<Array<string>> = []
      let worst = 0
      datasets.forEach(([shape, n], i) => {
        for (const method of ["percentile", "bca"] as const) {
          const ours = runOrThrow({ statistic: "mean", x: vectors[i], method, resamples: agreementResamples, seed: 3 })
          const [low, high] = reference.intervals[i][method]
          const width = high - low
          const gap = Math.max(Math.abs(ours.low - low), Math.abs(ours.high - high)) / width
          worst = Math.max(worst, gap)
          figures[`agreement_${shape}_${method}_pct_of_width`] = 100 * gap
          rows.push([`${shape} n=${n} ${method}`, `[${fixed(ours.low, 5)}, ${fixed(ours.high, 5)}]`, `[${fixed(low, 5)}, ${fixed(high, 5)}]`, `${fixed(100 * gap, 2)}%`, gap <= tolerance ? "ok" : "FAIL"])
        }
      })
      figures.agreement_worst_pct_of_width = 100 * worst
      yield* Console.log(`\nAgreement with scipy.stats.bootstrap at ${agreementResamples} resamples (largest endpoint gap as % of scipy's width; target ≤ ${100 * tolerance}%)\n`)
      yield* Console.log(table(["data", "ours", "scipy", "gap", ""], rows))
    } else {
      yield* Console.log("\nAgreement with scipy: skipped (no scipy)")
    }

    // 4. Coverage.
    const replications = options.quick ? 200 : 1000
    const coverageResamples = 1999
    const coverageCases: ReadonlyArray<readonly [Shape, number]> = [
      ["normal", 30],
      ["lognormal", 30],
      ["lognormal", 100],
      ["passfail", 50],
      ["beta", 30],
      ["paired", 30]
    ]
    const coverageRows: Array<Array<string>> = []
    for (const [shape, n] of coverageCases) {
      const datasetsForCase: Array<Float64Array> = []
      let covered = 0
      for (let r = 0; r < replications; r++) {
        const x = generate(shape, n, 10_000 + r)
        datasetsForCase.push(x)
        const result = runOrThrow({ statistic: "mean", x, method: "bca", resamples: coverageResamples, seed: r })
        if (result.low <= TRUE_MEAN[shape] && TRUE_MEAN[shape] <= result.high) covered++
      }
      const coverage = (100 * covered) / replications
      figures[`coverage_${shape}_n${n}_bca_pct`] = coverage
      let scipyCoverage = Number.NaN
      if (withScipy && (!options.quick || (shape === "lognormal" && n === 30))) {
        const scipy = runScipy<{ covered: number; replications: number }>(
          directory,
          { mode: "coverage", resamples: coverageResamples, level: 0.95, seed: 5, batch: 100, truth: TRUE_MEAN[shape] },
          datasetsForCase
        )
        scipyCoverage = (100 * scipy.covered) / scipy.replications
        figures[`coverage_${shape}_n${n}_bca_scipy_pct`] = scipyCoverage
      }
      const nominal = Math.abs(coverage - 95) <= 2.5 ? "within 2.5 of nominal" : "outside nominal ± 2.5"
      const note = Number.isFinite(scipyCoverage)
        ? `${nominal}; ${Math.abs(coverage - scipyCoverage) <= 1.5 ? "within 1.5 of scipy" : "differs from scipy by > 1.5"}`
        : nominal
      coverageRows.push([`${shape} n=${n}`, fixed(coverage, 1), Number.isFinite(scipyCoverage) ? fixed(scipyCoverage, 1) : "—", note])
    }
    yield* Console.log(`\nCoverage of 95% BCa intervals (${replications} replications, ${coverageResamples} resamples each)\n`)
    yield* Console.log(table(["data", "ours %", "scipy %", ""], coverageRows))
    return figures
  }).pipe(Effect.scoped)

export const bootstrapSuite: Suite = {
  name: "bootstrap",
  description: "bootstrap confidence intervals vs scipy.stats.bootstrap: speed, memory, agreement, coverage",
  run: runSuite
}

/** The same timed case through the Effect edge with worker threads. */
const runChildWithWorkers = async (job: ChildJob): Promise<ChildReport> => {
  const x = generate(job.shape, job.n, job.seed)
  const run = (input: BootstrapInput) => Effect.runPromise(bootstrapCIEffect({ ...input, workers: job.workers ?? 1 }))
  await run({ ...job.input, x: x.subarray(0, Math.min(job.n, 2000)), resamples: 999 })
  const baselineRssMb = process.resourceUsage().maxRSS / 1024
  const started = performance.now()
  const result = await run({ ...job.input, x })
  const ms = performance.now() - started
  return { ms, low: result.low, high: result.high, path: result.path, baselineRssMb, peakRssMb: process.resourceUsage().maxRSS / 1024 }
}

if (import.meta.main && process.argv[2] === "child") {
  const job = JSON.parse(process.argv[3]) as ChildJob
  if (job.workers !== undefined) {
    process.stdout.write(JSON.stringify(await runChildWithWorkers(job)))
  } else {
    process.stdout.write(JSON.stringify(runChild(job)))
  }
}
