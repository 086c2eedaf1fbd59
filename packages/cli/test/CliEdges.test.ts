/**
 * The `spectral` bin probed from outside, as a separate process on bad input: every failure is one
 * `{"error":"…"}` line on stdout naming the file and the problem (never a stack trace, never a path
 * of our sources), exit 2 for bad input and 1 for internal errors; `--verbose` adds the cause on
 * stderr; input is read with a size cap; per-case problems are per-case errors; `bootstrap` refuses
 * work above its documented cost unless `--allow-large`; verdict keeps its exit codes.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { DEFAULT_MAX_INPUT_BYTES } from "../src/CliIo.ts"
import { costRefusal, MAX_BOOTSTRAP_DRAWS, MAX_BOOTSTRAP_WORKERS } from "../src/commands/bootstrap.ts"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")
const repoRoot = join(import.meta.dirname, "..", "..", "..")
const dir = mkdtempSync(join(tmpdir(), "spectral-cli-edges-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, content: string) => {
  writeFileSync(join(dir, name), content)
  return name
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Run the bin in the temp folder (files are named relative to it), as a user would. */
const spectral = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ["--conditions=@spectral/source", bin, ...args], {
      cwd: dir,
      env: { ...process.env, SPECTRAL_DATA_DIR: join(dir, "db"), SPECTRAL_LLM: "simulated", ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }))
  })

const stackFrame = /^\s+at .+[:(]/m

/** Exactly one line `{"error":"…"}` on stdout, the exit code, no stack trace anywhere, no path of ours. */
const assertOneLineError = (run: Run, code: number, ...mentions: ReadonlyArray<string>): string => {
  assert.strictEqual(run.code, code, `exit code; stdout: ${run.stdout} stderr: ${run.stderr}`)
  const lines = run.stdout.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1, `one line on stdout: ${run.stdout}`)
  const parsed = JSON.parse(lines[0]!) as Record<string, unknown>
  assert.deepStrictEqual(Object.keys(parsed), ["error"])
  const error = parsed.error as string
  for (const mention of mentions) assert.include(error, mention)
  for (const stream of [run.stdout, run.stderr]) {
    assert.notMatch(stream, stackFrame)
    assert.notInclude(stream, repoRoot)
    assert.notInclude(stream, "file://")
    assert.notInclude(stream, dir)
  }
  return error
}

const files = {
  empty: write("empty.json", ""),
  notJson: write("not-json.json", "cases: [1, 2]\n"),
  truncated: write("truncated.json", `{"cases":[{"id":"a",`),
  wrongShape: write("wrong-shape.json", JSON.stringify({ rows: [1, 2] })),
  casesNull: write("cases-null.json", JSON.stringify({ cases: null })),
  missing: "no-such-file.json"
}
const world = ["--world", "us-federal-individual-tax@0.1.0"]

describe.concurrent("every failure is one {\"error\"} line naming the file, exit 2 for bad input", () => {
  // Every command reads through the same edge (CliIo; its cases are in CliIo.test.ts): each kind of bad file, seen from outside.
  it("an empty, non-JSON, truncated, missing or wrong-shaped file, for each command that reads one", async () => {
    const runs = await Promise.all([
      spectral(["bootstrap", "--input", files.empty]).then((run) => assertOneLineError(run, 2, `${files.empty}: is empty`)),
      spectral(["bootstrap", "--input", files.wrongShape]).then((run) => assertOneLineError(run, 2, `${files.wrongShape}: expected {"cases":[…]}`, "cases")),
      spectral(["cluster", "--input", files.notJson]).then((run) => assertOneLineError(run, 2, `${files.notJson}: is not valid JSON`)),
      spectral(["world", "decide", ...world, "--input", files.casesNull]).then((run) => assertOneLineError(run, 2, `${files.casesNull}: expected {"cases":[…]}`)),
      spectral(["verdict", "--input", files.missing]).then((run) => assertOneLineError(run, 2, `${files.missing}: cannot read: no such file`)),
      spectral(["verdict", "--input", files.wrongShape]).then((run) => assertOneLineError(run, 2, `${files.wrongShape}: expected {"cases":[…]}`)),
      spectral(["scan", "--workspace", files.truncated]).then((run) => assertOneLineError(run, 2, `${files.truncated}: is not valid JSON`)),
      spectral(["ingest", files.empty]).then((run) => assertOneLineError(run, 2, `${files.empty}: is empty`))
    ])
    assert.strictEqual(runs.length, 8)
  })

  it("an unwritable --output and an unknown --world name the file or the flag", async () => {
    const cases = write("one-cluster-case.json", JSON.stringify({ cases: [{ id: "a", points: [[0], [1]], k: 1 }] }))
    assertOneLineError(await spectral(["cluster", "--input", cases, "--output", "no-such-folder/out.json"]), 2, "no-such-folder/out.json: cannot write")
    const error = assertOneLineError(await spectral(["world", "decide", "--world", "us-federal-individual-tax@9.9.9", "--input", cases]), 2, "--world", "9.9.9")
    assert.include(error, "us-federal-individual-tax@0.1.0")
  })

  it("an invalid invocation (missing flag, unknown command) is a one-line error too, exit 2; --help is not a failure", async () => {
    assertOneLineError(await spectral(["bootstrap"]), 2, "--input")
    assertOneLineError(await spectral(["no-such-command"]), 2, "no-such-command")
    const help = await spectral(["bootstrap", "--help"])
    assert.strictEqual(help.code, 0)
    for (const flag of ["--allow-large", "--max-input-bytes", "--verbose"]) assert.include(help.stdout, flag)
  })

  it("an internal error (a store that refuses connections) exits 1 with one line", async () => {
    const run = await spectral(["db", "migrate"], { SPECTRAL_DATABASE_URL: "postgres://spectral@127.0.0.1:1/spectral" })
    assertOneLineError(run, 1, "ECONNREFUSED")
  })

  it("--verbose adds the cause with its trace on stderr; stdout is still one line", async () => {
    const run = await spectral(["bootstrap", "--input", files.wrongShape, "--verbose"])
    assert.strictEqual(run.code, 2)
    assert.strictEqual(run.stdout.trimEnd().split("\n").length, 1)
    assert.deepStrictEqual(Object.keys(JSON.parse(run.stdout)), ["error"])
    assert.include(run.stderr, "CliInputError")
    assert.match(run.stderr, stackFrame)
  })
})

describe.concurrent("input size cap", () => {
  const small = write("small.json", JSON.stringify({ cases: [{ id: "m", statistic: "mean", x: [1, 2, 3, 4], seed: 1 }] }))

  it("--input /dev/zero fails fast naming the cap", async () => {
    const run = await spectral(["bootstrap", "--input", "/dev/zero"])
    assertOneLineError(run, 2, "/dev/zero", `${DEFAULT_MAX_INPUT_BYTES} bytes (64 MiB)`, "--max-input-bytes")
    assert.isBelow(run.ms, 20_000)
  })

  it("--max-input-bytes and SPECTRAL_MAX_INPUT_BYTES set the cap; the flag wins", async () => {
    const [flag, env, raised] = await Promise.all([
      spectral(["bootstrap", "--input", small, "--max-input-bytes", "16"]),
      spectral(["bootstrap", "--input", small], { SPECTRAL_MAX_INPUT_BYTES: "16" }),
      spectral(["bootstrap", "--input", small, "--max-input-bytes", "4096"], { SPECTRAL_MAX_INPUT_BYTES: "16" })
    ])
    assertOneLineError(flag, 2, small, "more than the input limit of 16 bytes")
    assertOneLineError(env, 2, small, "more than the input limit of 16 bytes")
    assert.strictEqual(raised.code, 0, raised.stdout)
    assert.strictEqual(JSON.parse(raised.stdout).results[0].estimate, 2.5)
  })
})

describe.concurrent("per-case problems are per-case errors", () => {
  it("spectral world decide: no facts, a non-string id, null — each its own {id, error}; the good case is decided", async () => {
    const file = write("decide.json", JSON.stringify({
      cases: [
        { id: "no-facts" },
        { id: 7, facts: { maritalStatus: "single" } },
        null,
        "a string",
        { id: "single-65", facts: { taxYear: 2025, maritalStatus: "single", age65OrOlder: true } },
        { id: "bad-status", facts: { maritalStatus: "engaged" } }
      ]
    }))
    const run = await spectral(["world", "decide", "--world", "us-federal-individual-tax@0.1.0", "--input", file])
    assert.strictEqual(run.code, 0, run.stdout)
    const { results } = JSON.parse(run.stdout) as { results: Array<Record<string, unknown>> }
    assert.deepStrictEqual(results.map((r) => r.id), ["no-facts", "#1", "#2", "#3", "single-65", "bad-status"])
    for (const r of [results[0]!, results[1]!, results[2]!, results[3]!]) assert.deepStrictEqual(Object.keys(r).sort(), ["error", "id"])
    assert.include(results[0]!.error, "facts")
    assert.include(results[1]!.error, "id")
    assert.strictEqual(results[4]!.filingStatus, "single")
    assert.strictEqual(results[4]!.standardDeduction, 17750)
    assert.include(results[5]!.error, "maritalStatus")
  })

  it("spectral bootstrap refuses n × resamples above the limit and too many workers, per case, unless --allow-large", async () => {
    const million = Array.from({ length: 1_000_000 }, (_, i) => i % 2)
    const file = write("large.json", JSON.stringify({
      cases: [
        { id: "huge", statistic: "mean", x: million, resamples: 10_000_000, workers: 256, seed: 1 },
        { id: "many-workers", statistic: "mean", x: [1, 2, 3, 4, 5], resamples: 999, workers: 64, seed: 1 },
        { id: "fine", statistic: "mean", x: [1, 2, 3, 4, 5], resamples: 999, seed: 1 }
      ]
    }))
    const run = await spectral(["bootstrap", "--input", file])
    assert.strictEqual(run.code, 0, run.stdout)
    assert.isBelow(run.ms, 30_000)
    const [huge, workers, fine] = (JSON.parse(run.stdout) as { results: Array<Record<string, unknown>> }).results
    assert.strictEqual(huge!.id, "huge")
    for (const number of ["1000000", "10000000", String(MAX_BOOTSTRAP_DRAWS), "--allow-large"]) assert.include(huge!.error, number)
    assert.strictEqual(workers!.id, "many-workers")
    for (const number of ["64", String(MAX_BOOTSTRAP_WORKERS), "--allow-large"]) assert.include(workers!.error, number)
    assert.strictEqual(fine!.estimate, 3)

    const allowed = write("many-workers.json", JSON.stringify({ cases: [{ id: "many-workers", statistic: "mean", x: [1, 2, 3, 4, 5], resamples: 999, workers: 64, seed: 1 }] }))
    const large = await spectral(["bootstrap", "--input", allowed, "--allow-large"])
    assert.strictEqual(large.code, 0, large.stdout)
    assert.strictEqual(JSON.parse(large.stdout).results[0].estimate, 3)
  })

  it("the cost limit is n × resamples with n the values of x and y, the default resamples counted", () => {
    const base = { id: "c", statistic: "mean_diff_independent" as const }
    assert.isNull(costRefusal({ ...base, x: new Array(50_000).fill(1), y: new Array(50_000).fill(1), resamples: 10_000 }))
    assert.match(costRefusal({ ...base, x: new Array(50_000).fill(1), y: new Array(50_001).fill(1), resamples: 10_000 })!, /^TooLarge: n × resamples = 100001 × 10000 = 1000010000/)
    assert.match(costRefusal({ ...base, x: new Array(100_011).fill(1) })!, /100011 × 9999/)
    assert.isNull(costRefusal({ ...base, x: [1], workers: MAX_BOOTSTRAP_WORKERS }))
    assert.isNull(costRefusal({ ...base, x: [1], workers: "auto" }))
    assert.match(costRefusal({ ...base, x: [1], workers: MAX_BOOTSTRAP_WORKERS + 1 })!, /^TooManyWorkers/)
  })
})

/** n stimuli; the candidate is better by `effect` (±1 pt); `intakeDrop` lowers the candidate's intake agent score. */
const verdictCase = (id: string, effect: number, intakeDrop = 0) => ({
  id,
  framework: { maxAgentRegression: 0.02 },
  stimuli: Array.from({ length: 40 }, (_, i) => {
    const base = 0.5 + 0.3 * ((i * 0.618) % 1)
    return {
      id: `s${i}`,
      baseline: { score: base, agents: { intake: 0.9 } },
      candidate: { score: Math.min(1, base + effect + (i % 2 === 0 ? 0.01 : -0.01)), agents: { intake: 0.9 - intakeDrop } }
    }
  })
})

describe.concurrent("spectral verdict keeps its exit codes as a process", () => {
  it("go 0, no_go 1, invalid 2: the results on stdout, the deciding case on stderr", async () => {
    const go = await spectral(["verdict", "--input", write("go.json", JSON.stringify({ cases: [verdictCase("go", 0.05)] }))])
    assert.strictEqual(go.code, 0, go.stderr)
    assert.strictEqual(JSON.parse(go.stdout).results[0].verdict, "go")

    const noGo = await spectral(["verdict", "--input", write("no-go.json", JSON.stringify({ cases: [verdictCase("go", 0.05), verdictCase("regress", 0.05, 0.05)] }))])
    assert.strictEqual(noGo.code, 1, noGo.stderr)
    assert.strictEqual(JSON.parse(noGo.stdout).results[1].verdict, "no_go")
    assert.include(noGo.stderr, `case "regress" is no_go`)
    assert.notMatch(noGo.stderr, stackFrame)

    const invalid = await spectral(["verdict", "--input", write("invalid.json", JSON.stringify({ cases: [{ id: "bad", stimuli: [] }, null] }))])
    assert.strictEqual(invalid.code, 2)
    const results = JSON.parse(invalid.stdout).results
    assert.deepStrictEqual(results.map((r: { id: string }) => r.id), ["bad", "#1"])
    assert.isString(results[1].error)
  })
})
