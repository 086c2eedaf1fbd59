import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Runtime } from "effect"
import { Command } from "effect/cli"
import { fileDecision } from "@spectral/engine"
import { loadPluginGates, verdict } from "../src/commands/verdict.ts"

/** n stimuli; the candidate adds `effect` with a ±1 pt wobble; optional extras per arm. */
const stimuli = (n: number, effect: number, extra: (i: number) => { baseline?: object; candidate?: object } = () => ({})) =>
  Array.from({ length: n }, (_, i) => {
    const base = 0.5 + 0.3 * ((i * 0.618) % 1)
    const e = extra(i)
    return {
      id: `s${i}`,
      baseline: { score: base, ...e.baseline },
      candidate: { score: Math.min(1, base + effect + (i % 2 === 0 ? 0.01 : -0.01)), ...e.candidate }
    }
  })

const framework = { alpha: 0.05, minDelta: 0.02, maxHoldoutGap: 0.05, maxAgentRegression: 0.02, maxDimensionRegression: 0.03 }

const run = (document: unknown, extraArgs: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped()
    const inputFile = `${directory}/runs.json`
    const outputFile = `${directory}/out.json`
    yield* fs.writeFileString(inputFile, JSON.stringify(document))
    const exit = yield* Effect.exit(Command.runWith(verdict, { version: "test" })(["--input", inputFile, "--output", outputFile, ...extraArgs]))
    const code = exit._tag === "Success" ? 0 : Runtime.getErrorExitCode(exit.cause.reasons[0]!._tag === "Fail" ? (exit.cause.reasons[0] as { error: unknown }).error : undefined)
    return { output: JSON.parse(yield* fs.readFileString(outputFile)), code }
  }).pipe(Effect.provide(NodeServices.layer))

describe("spectral verdict", () => {
  it.effect("go: the documented output shape, every gate reported, exit 0", () =>
    Effect.gen(function*() {
      const outputs = (i: number) => ({ baseline: { output: `a${i}`, costUsd: 0.002, latencyMs: 850 }, candidate: { output: i % 3 === 0 ? `b${i}` : `a${i}`, costUsd: 0.002, latencyMs: 850 } })
      const { output, code } = yield* run({ cases: [{ id: "release-42", framework, stimuli: stimuli(60, 0.05, outputs) }] })
      assert.strictEqual(code, 0)
      const [result] = output.results
      assert.deepStrictEqual(Object.keys(result).sort(), ["checksPassed", "checksTotal", "delta", "gates", "id", "verdict"])
      assert.strictEqual(result.id, "release-42")
      assert.strictEqual(result.verdict, "go")
      assert.strictEqual(result.checksPassed, result.checksTotal)
      assert.deepStrictEqual(Object.keys(result.delta).sort(), ["estimate", "high", "low"])
      assert.closeTo(result.delta.estimate, 0.05, 0.002)
      assert.isAbove(result.delta.low, 0)
      for (const g of result.gates) assert.deepStrictEqual(Object.keys(g).sort(), ["gate", "reason", "status"])
      assert.includeMembers(result.gates.map((g: { gate: string }) => g.gate), ["delta_threshold", "agent_regression", "dimension_regression", "holdout_generalization_gap", "bootstrap_ci", "output_similarity", "pareto", "sanity_downgrade", "convergence"])
    }))

  it.effect("only id, score and the stimulus id are required: gates without their inputs report neutral", () =>
    Effect.gen(function*() {
      const { output, code } = yield* run({ cases: [{ id: "bare", stimuli: stimuli(40, 0.05) }] })
      const [result] = output.results
      assert.strictEqual(result.verdict, "go")
      assert.strictEqual(code, 0)
      const status = Object.fromEntries(result.gates.map((g: { gate: string; status: string }) => [g.gate, g.status]))
      for (const gate of ["agent_regression", "dimension_regression", "holdout_generalization_gap", "output_similarity", "pareto", "convergence"]) {
        assert.strictEqual(status[gate], "neutral", gate)
      }
      assert.strictEqual(status.bootstrap_ci, "pass")
      // Runs we did not select: judged as given (the delta on the working set), not on a holdout.
      assert.include(result.gates.find((g: { gate: string }) => g.gate === "delta_threshold").reason, "on the working set")
    }))

  it.effect("no_go exits 1: an agent regresses beyond the framework's tolerance", () =>
    Effect.gen(function*() {
      const agents = () => ({ baseline: { agents: { intake: 0.9 } }, candidate: { agents: { intake: 0.85 } } })
      const { output, code } = yield* run({ cases: [{ id: "regress", framework, stimuli: stimuli(40, 0.05, agents) }] })
      assert.strictEqual(output.results[0].verdict, "no_go")
      assert.strictEqual(code, 1)
      const intake = output.results[0].gates.find((g: { gate: string; status: string }) => g.gate === "agent_regression")
      assert.strictEqual(intake.status, "fail")
      assert.match(intake.reason, /^intake regresses by 5\.0 pts \[-5\.0 pts, -5\.0 pts\]: beyond the 2\.0 pts tolerance and significant/)
    }))

  it.effect("caution exits 3: an interval that includes zero", () =>
    Effect.gen(function*() {
      const { output, code } = yield* run({ cases: [{ id: "noise", framework: { minDelta: 0 }, stimuli: stimuli(40, 0.001) }] })
      assert.strictEqual(output.results[0].verdict, "caution")
      assert.strictEqual(code, 3)
    }))

  it.effect("one group (every stimulus with the same group) is one cluster: caution with the reason, exit 3", () =>
    Effect.gen(function*() {
      const oneGroup = stimuli(60, 0.05).map((s) => ({ ...s, group: "tenant-a" }))
      const { output, code } = yield* run({ cases: [{ id: "one-group", framework, stimuli: oneGroup }] })
      const [result] = output.results
      assert.strictEqual(result.verdict, "caution")
      assert.strictEqual(code, 3)
      const ci = result.gates.find((g: { gate: string }) => g.gate === "bootstrap_ci")
      assert.strictEqual(ci.status, "caution")
      assert.include(ci.reason, "only 1 group")
    }))

  it.effect("a misspelled framework key is rejected naming it, as that case's {id, error}; exit 2", () =>
    Effect.gen(function*() {
      const { output, code } = yield* run({
        cases: [
          { id: "typo", framework: { alpah: 0.5, minDelta: 0.02, maxHoldupGap: 0.1 }, stimuli: stimuli(40, 0.05) },
          { id: "ok", framework, stimuli: stimuli(40, 0.05) }
        ]
      })
      const [typo, ok] = output.results
      assert.deepStrictEqual(Object.keys(typo).sort(), ["error", "id"])
      assert.strictEqual(typo.id, "typo")
      assert.include(typo.error, `"alpah"`)
      assert.include(typo.error, `"maxHoldupGap"`)
      assert.notInclude(typo.error, `"minDelta"`)
      assert.strictEqual(ok.verdict, "go")
      assert.strictEqual(code, 2)
      assert.strictEqual((yield* run({ cases: [{ id: "typo", framework: { alpah: 0.5 }, stimuli: stimuli(40, 0.05) }] })).code, 2)
    }))

  it.effect("an invalid case gives {id, error} naming the problem; the others still run; the file exits 2", () =>
    Effect.gen(function*() {
      const { output, code } = yield* run({
        cases: [
          { id: "negative-alpha", framework: { alpha: -0.1 }, stimuli: stimuli(5, 0.05) },
          { id: "no-score", stimuli: [{ id: "s0", baseline: {}, candidate: { score: 0.5 } }] },
          { id: "ok", stimuli: stimuli(40, 0.05) }
        ]
      })
      assert.strictEqual(code, 2)
      const [alpha, noScore, ok] = output.results
      assert.deepStrictEqual(Object.keys(alpha).sort(), ["error", "id"])
      assert.strictEqual(alpha.id, "negative-alpha")
      assert.include(alpha.error, "alpha")
      assert.include(noScore.error, "score")
      assert.strictEqual(ok.verdict, "go")
      // A single invalid case: exit 2.
      assert.strictEqual((yield* run({ cases: [{ id: "bad", stimuli: [] }] })).code, 2)
    }))

  it.effect("several cases: the worst decides the exit code (a no_go among gos fails the CI job)", () =>
    Effect.gen(function*() {
      const agents = () => ({ baseline: { agents: { intake: 0.9 } }, candidate: { agents: { intake: 0.85 } } })
      const go = { id: "go", framework, stimuli: stimuli(40, 0.05) }
      const noGo = { id: "regress", framework, stimuli: stimuli(40, 0.05, agents) }
      const caution = { id: "noise", framework: { minDelta: 0 }, stimuli: stimuli(40, 0.001) }
      const invalid = { id: "bad", stimuli: [] }
      assert.strictEqual((yield* run({ cases: [go, noGo] })).code, 1)
      assert.strictEqual((yield* run({ cases: [noGo, go] })).code, 1)
      assert.strictEqual((yield* run({ cases: [go, caution] })).code, 3)
      assert.strictEqual((yield* run({ cases: [caution, invalid, go] })).code, 2)
      assert.strictEqual((yield* run({ cases: [invalid, noGo, caution] })).code, 1)
      assert.strictEqual((yield* run({ cases: [go, go] })).code, 0)
      assert.strictEqual((yield* run({ cases: [] })).code, 2)
    }))

  it("the file's decision names the case that decided it", () => {
    const decision = fileDecision([
      { id: "a", verdict: "go", checksPassed: 9, checksTotal: 9, delta: null, gates: [] },
      { id: "b", verdict: "no_go", checksPassed: 8, checksTotal: 9, delta: null, gates: [] },
      { id: "c", verdict: "caution", checksPassed: 8, checksTotal: 9, delta: null, gates: [] }
    ])
    assert.deepStrictEqual(decision, { code: 1, decidedBy: "b", summary: `case "b" is no_go; 2 of 3 cases not go` })
  })

  it.effect("--plugin adds a team's own gates: a failing plugin gate makes the case no_go", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const module = `${directory}/latency-budget.mjs`
      yield* fs.writeFileString(module, [
        "export default { name: 'acme', gates: [{ name: 'latency_budget', description: 'candidate latency under 1 s',",
        "  run: (input) => { const slow = input.stimuli.filter((s) => (s.candidate.latencyMs ?? 0) > 1000).length;",
        "    return [{ gate: 'acme/latency_budget', check: 'p100', status: slow > 0 ? 'fail' : 'pass', reason: `${slow} stimuli over 1 s` }] } }] }"
      ].join("\n"))
      const slow = (i: number) => ({ baseline: { latencyMs: 400 }, candidate: { latencyMs: i === 3 ? 1500 : 400 } })
      const fast = (_i: number) => ({ baseline: { latencyMs: 400 }, candidate: { latencyMs: 400 } })
      const failing = yield* run({ cases: [{ id: "slow", framework, stimuli: stimuli(40, 0.05, slow) }] }, ["--plugin", module])
      assert.strictEqual(failing.code, 1)
      assert.deepInclude(failing.output.results[0].gates, { gate: "acme/latency_budget", status: "fail", reason: "1 stimuli over 1 s" })
      const passing = yield* run({ cases: [{ id: "fast", framework, stimuli: stimuli(40, 0.05, fast) }] }, ["--plugin", module])
      assert.strictEqual(passing.code, 0)
      // Without the plugin the slow case is go: the plugin's gate is what failed it.
      assert.strictEqual((yield* run({ cases: [{ id: "slow", framework, stimuli: stimuli(40, 0.05, slow) }] })).code, 0)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("--plugin with a module that exports no plugin is a typed error naming the module", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const module = `${directory}/empty.mjs`
      yield* fs.writeFileString(module, "export const nothing = 1\n")
      const error = yield* Effect.flip(loadPluginGates(module))
      assert.strictEqual(error._tag, "CliInputError")
      assert.strictEqual(error.file, module)
      assert.include(error.message, "no plugin definition")
      const missing = yield* Effect.flip(loadPluginGates(`${directory}/absent.mjs`))
      assert.include(missing.message, "cannot load the plugin module")
    }).pipe(Effect.provide(NodeServices.layer)))
})
