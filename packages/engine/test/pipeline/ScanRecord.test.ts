/**
 * Scan records and replays on the memory store with the toy team: a scan stores what produced it
 * when it starts (gates with settings, strategies, scorers, judge and agent models, eval set, seed,
 * declaration); a replay from that record reaches the same gate outcomes and decision under a new
 * scan id; a record edited in storage (one gate's settings) changes what the replay runs; an
 * unknown scan, a scan stored before records, and a record naming a gate or plugin that is not
 * loaded are typed errors naming it; the card shows the record in Markdown, HTML and JSON.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ENGINE_VERSION, type Scan, type ScanRecord } from "../../src/contracts/index.ts"
import { renderHtml, renderJson, renderMarkdown } from "../../src/cards/AgentPerformanceCard.ts"
import { builtinGates } from "../../src/gates/BuiltinGates.ts"
import type { Gate } from "../../src/gates/Gate.ts"
import { Plugin } from "../../src/plugin/Plugin.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator, type ScanOutcome } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { toyModel, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const judge = { provider: "toy", model: "toy-judge", temperature: 0, maxTokens: 300 }
const ports = Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(40), toyModel("reader"))

/** A plugin gate that always reads the pass threshold it is given (so its recorded settings show in its check). */
const thresholdEcho: Gate = {
  name: "echo",
  description: "reports the pass threshold it ran with",
  run: (input) => [{ gate: "probe/echo", check: "pass_threshold", status: "neutral", reason: `pass threshold ${input.passThreshold}` }]
}
const probe = Plugin.make({ name: "probe", gates: [thresholdEcho] })

const firstScan = Effect.gen(function*() {
  const workspace = toyWorkspace({ broken: "reader" })
  yield* (yield* WorkspaceRepo).upsert(workspace)
  const outcome = yield* Effect.gen(function*() {
    return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 5 })
  }).pipe(Effect.provide(ScanEngine.layer({ judge, packages: [{ name: "@example/probe", version: "1.2.3" }] }, [probe])))
  return { workspace, outcome }
})

const replayOf = (scanId: string, extensions = [probe]) =>
  Effect.gen(function*() {
    const { workspaceId, record } = yield* ScanEngine.storedRecord(scanId)
    return yield* Effect.gen(function*() {
      return yield* (yield* ScanOrchestrator).run({ workspaceId, replay: { scanId, record } })
    }).pipe(Effect.provide(ScanEngine.layerReplay({ judge: record.judge, packages: record.packages }, record, extensions)))
  })

const gateOutcomes = (outcome: ScanOutcome) => outcome.verdict.checks.map((c) => `${c.gate}:${c.check}:${c.status}`)

const editRecord = (scan: Scan, edit: (record: ScanRecord) => ScanRecord) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const stored = yield* scans.get(scan.workspaceId, scan.id)
    yield* scans.update({ ...stored, record: edit(stored.record!) })
  })

describe("scan records", () => {
  it.live("a scan stores what produced it when it starts, completed with the world's version", () =>
    Effect.gen(function*() {
      const { workspace, outcome } = yield* firstScan
      const stored = yield* (yield* ScanRepo).get(workspace.id, outcome.scan.id)
      const record = stored.record
      assert.isDefined(record)
      assert.deepStrictEqual(record!.engine, { name: "@spectral/engine", version: ENGINE_VERSION })
      assert.deepStrictEqual(record!.packages, [{ name: "@example/probe", version: "1.2.3" }])
      assert.deepStrictEqual(record!.gates.map((g) => g.name), [...builtinGates.map((g) => g.name), "probe/echo"])
      assert.deepStrictEqual(record!.gates[0]!.settings.thresholds, workspace.framework.verdict)
      assert.strictEqual(record!.gates[0]!.settings.passThreshold, workspace.framework.passThreshold)
      assert.deepStrictEqual(record!.plugins, [{ name: "probe", gates: ["probe/echo"], strategies: [], scorers: [] }])
      assert.include(record!.strategies.map((s) => s.name), "builtin/few_shot")
      assert.deepStrictEqual(record!.scorers.map((s) => s.name), ["builtin/world_model", "builtin/rubric"])
      assert.deepStrictEqual(record!.judge, judge)
      // The baseline in run order, with each agent's model and parameters.
      assert.deepStrictEqual(record!.agents.map((a) => [a.agentId, a.hyperparameters.model, a.hyperparameters.temperature]).sort(),
        workspace.agents.map((a) => [a.id, a.hyperparameters.model, a.hyperparameters.temperature]).sort())
      assert.strictEqual(record!.seed, 5)
      assert.strictEqual(record!.evalSet.generatorSeed, 5)
      assert.strictEqual(record!.evalSet.size, workspace.framework.evalSetSize)
      assert.strictEqual(record!.evalSet.worldModelVersion, outcome.scan.attribution?.worldModelVersion)
      assert.isDefined(record!.evalSet.sampleSet)
      assert.deepStrictEqual(record!.workspace, workspace)
    }).pipe(Effect.provide(ports)))

  it("the engine version in records is the package's", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as { version: string }
    assert.strictEqual(ENGINE_VERSION, pkg.version)
  })

  it.live("a replay of the record reaches the same gate outcomes and decision, as a new scan", () =>
    Effect.gen(function*() {
      const { outcome } = yield* firstScan
      const replayed = yield* replayOf(outcome.scan.id)
      assert.notStrictEqual(replayed.scan.id, outcome.scan.id)
      assert.strictEqual(replayed.scan.seed, outcome.scan.seed)
      assert.strictEqual(replayed.scan.record?.replayOf, outcome.scan.id)
      assert.strictEqual(replayed.verdict.outcome, outcome.verdict.outcome)
      assert.isAbove(gateOutcomes(outcome).length, builtinGates.length)
      assert.deepStrictEqual(gateOutcomes(replayed), gateOutcomes(outcome))
      assert.deepStrictEqual(replayed.verdict.delta, outcome.verdict.delta)
    }).pipe(Effect.provide(ports)))

  it.live("a gate's settings edited in the stored record change what the replay runs", () =>
    Effect.gen(function*() {
      const { workspace, outcome } = yield* firstScan
      const before = outcome.verdict.checks.find((c) => c.gate === "probe/echo")
      assert.include(before?.reason, `pass threshold ${workspace.framework.passThreshold}`)
      const delta = outcome.verdict.checks.filter((c) => c.gate === "delta_threshold").map((c) => c.status)
      yield* editRecord(outcome.scan, (record) => ({
        ...record,
        gates: record.gates.map((g) =>
          g.name === "probe/echo"
            ? { ...g, settings: { ...g.settings, passThreshold: 0.25 } }
            : g.name === "builtin/delta_threshold"
            ? { ...g, settings: { ...g.settings, thresholds: { ...g.settings.thresholds, minDelta: 0.9, sanityMaxDelta: 0.95 } } }
            : g)
      }))
      const replayed = yield* replayOf(outcome.scan.id)
      assert.include(replayed.verdict.checks.find((c) => c.gate === "probe/echo")?.reason, "pass threshold 0.25")
      const after = replayed.verdict.checks.filter((c) => c.gate === "delta_threshold").map((c) => c.status)
      assert.include(delta, "pass", "the original delta passed its threshold")
      assert.notInclude(after, "pass", "a 90-point minimum delta is not met")
      assert.notStrictEqual(replayed.verdict.outcome, "go")
      // Only the edited gate changed: every other gate's checks are as they were.
      const others = (o: ScanOutcome) => gateOutcomes(o).filter((c) => !c.startsWith("delta_threshold:") && !c.startsWith("probe/echo"))
      assert.deepStrictEqual(others(replayed), others(outcome))
    }).pipe(Effect.provide(ports)))

  it.live("a world now at another version than the record's fails the replay in observe, naming both", () =>
    Effect.gen(function*() {
      const { outcome } = yield* firstScan
      const version = outcome.scan.record!.evalSet.worldModelVersion
      yield* editRecord(outcome.scan, (record) => ({ ...record, evalSet: { ...record.evalSet, worldModelVersion: "9.9.9" } }))
      const failed = yield* Effect.flip(replayOf(outcome.scan.id))
      assert.strictEqual(failed._tag, "ScanFailed")
      assert.include(failed.message, "observe")
      assert.include(failed.message, "@9.9.9")
      assert.include(failed.message, `version ${version}`)
    }).pipe(Effect.provide(ports)))

  it.live("a record without a strategy runs the replay without it", () =>
    Effect.gen(function*() {
      const { outcome } = yield* firstScan
      assert.isDefined(outcome.changeSet?.agents.find((a) => a.version > 1), "the recorded strategies changed an agent")
      yield* editRecord(outcome.scan, (record) => ({ ...record, strategies: [] }))
      const replayed = yield* replayOf(outcome.scan.id)
      assert.isNull(replayed.changeSet?.agents.find((a) => a.version > 1) ?? null, "no strategy: no agent changed")
      assert.deepStrictEqual(replayed.scan.record?.strategies, [])
    }).pipe(Effect.provide(ports)))

  it.live("bad input: an unknown scan, a scan stored before records, a gate or plugin that is not loaded", () =>
    Effect.gen(function*() {
      const { workspace, outcome } = yield* firstScan
      const unknown = yield* Effect.exit(ScanEngine.storedRecord(`${workspace.id}:scan:99`))
      assert.isTrue(Exit.isFailure(unknown))
      assert.include(String(Exit.isFailure(unknown) ? unknown.cause : ""), `unknown scan ${workspace.id}:scan:99`)
      const notAnId = yield* Effect.flip(ScanEngine.storedRecord("nonsense"))
      assert.strictEqual(notAnId._tag, "ScanReplayError")

      const { record: _record, ...old } = outcome.scan
      const oldScan: Scan = { ...old, id: `${workspace.id}:scan:50` }
      yield* (yield* ScanRepo).insert(oldScan)
      const noRecord = yield* Effect.flip(ScanEngine.storedRecord(oldScan.id))
      assert.strictEqual(noRecord._tag, "ScanReplayError")
      assert.include(noRecord.message, `scan ${oldScan.id} has no record; it was stored before`)

      const missingPlugin = yield* Effect.flip(replayOf(outcome.scan.id, []))
      assert.strictEqual(missingPlugin._tag, "ScanReplayError")
      assert.include(missingPlugin.message, "plugin probe")
      yield* editRecord(outcome.scan, (record) => ({ ...record, plugins: [], gates: [...record.gates, { ...record.gates[0]!, name: "elsewhere/strict" }] }))
      const unloaded = yield* Effect.flip(replayOf(outcome.scan.id))
      assert.include(unloaded.message, "gate elsewhere/strict")
      assert.include(unloaded.message, "not loaded")
    }).pipe(Effect.provide(ports)))

  it.live("the card shows the record: Markdown, HTML and JSON have a Reproduce section", () =>
    Effect.gen(function*() {
      const { outcome } = yield* firstScan
      const record = outcome.scan.record!
      const markdown = renderMarkdown(outcome.card, { record })
      const html = renderHtml(outcome.card, { record })
      const json = JSON.parse(renderJson(outcome.card, { record })) as { reproduce: { command: string; record: ScanRecord }; footer: string }
      assert.include(markdown, "## Reproduce")
      assert.include(markdown, `spectral scan --replay ${outcome.scan.id}`)
      assert.include(markdown, "toy/toy-judge (temperature 0, maxTokens 300)")
      assert.include(markdown, "seed: `5`")
      assert.isTrue(markdown.trimEnd().endsWith("Alpha preview — not for regulated use"))
      assert.include(html, "<h2>Reproduce</h2>")
      assert.include(html, "probe/echo")
      assert.strictEqual(json.reproduce.command, `spectral scan --replay ${outcome.scan.id}`)
      assert.deepStrictEqual(json.reproduce.record.judge, judge)
      assert.strictEqual(Object.keys(json).at(-1), "footer")
      assert.notInclude(renderMarkdown(outcome.card), "## Reproduce")
    }).pipe(Effect.provide(ports)))
})
