/**
 * Scan records and replays. `ScanProvenance` holds what the engine was built with that the scan
 * itself cannot see (the judge model, the host's declared packages); `recordFor` writes a new
 * scan's `ScanRecord` from it, the registries and the workspace; `storedRecord` reads a stored
 * scan's record back (decoded by Schema); `replayGates` is the gate registry a replay runs: exactly
 * the recorded gates, each with its recorded settings, after checking that every recorded plugin,
 * gate, strategy and scorer is loaded (the strategies are narrowed to the recorded ones).
 *
 * Owns no scan logic: the orchestrator runs a replay as a new scan whose record is the old one's.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import {
  type AgentVersion,
  ENGINE_VERSION,
  type GateSettings,
  type PackageVersion,
  SCAN_RECORD_FORMAT,
  ScanRecord,
  type Workspace
} from "../contracts/index.ts"
import { type Gate, GateRegistry } from "../gates/Gate.ts"
import { ScanRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { ScorerRegistry } from "../plugin/ScorerRegistry.ts"
import type { JudgeSettings } from "../scoring/RubricScorer.ts"
import { StrategyRegistry } from "../strategies/Strategy.ts"

/** The scorers every scan runs besides the plugins' objective scorers. */
export const BUILTIN_SCORERS = [
  { name: "builtin/world_model", description: "ground truth of the world model's eval set (the first authority)" },
  { name: "builtin/rubric", description: "LLM as judge against the workspace's evaluation framework (the second authority); its model is the record's judge" }
] as const

const BUILTIN = "builtin"

/** Why a stored scan cannot be replayed. */
export const ScanReplayReason = Schema.Union([
  Schema.TaggedStruct("UnknownScan", { scanId: Schema.String }),
  Schema.TaggedStruct("NoRecord", { scanId: Schema.String, createdAt: Schema.String }),
  Schema.TaggedStruct("InvalidRecord", { scanId: Schema.String, issue: Schema.String }),
  Schema.TaggedStruct("NotLoaded", { kind: Schema.Literals(["plugin", "gate", "strategy", "scorer"]), name: Schema.String }),
  Schema.TaggedStruct("ProviderMismatch", { recorded: Schema.String, configured: Schema.String })
])
export type ScanReplayReason = typeof ScanReplayReason.Type

export class ScanReplayError extends Schema.TaggedError<ScanReplayError>()("ScanReplayError", {
  reason: ScanReplayReason
}) {
  override get message(): string {
    const r = this.reason
    switch (r._tag) {
      case "UnknownScan":
        return `unknown scan ${r.scanId}: no such scan on the configured storage`
      case "NoRecord":
        return `scan ${r.scanId} has no record; it was stored before scan records existed (created ${r.createdAt}), so it cannot be replayed`
      case "InvalidRecord":
        return `scan ${r.scanId} has a record that does not decode: ${r.issue}`
      case "NotLoaded":
        return `the record names the ${r.kind} ${r.name}, which is not loaded`
      case "ProviderMismatch":
        return `the record's judge runs on the ${r.recorded} provider but ${r.configured} is configured`
    }
  }
}

export interface ProvenanceSettings {
  readonly judge: JudgeSettings
  /** Packages the host built the engine with beyond `@spectral/engine` (plugin packages). */
  readonly packages?: ReadonlyArray<PackageVersion> | undefined
}

/** What the engine was built with, for the records of the scans it runs. */
export class ScanProvenance extends Context.Service<ScanProvenance, {
  readonly judge: JudgeSettings
  readonly packages: ReadonlyArray<PackageVersion>
}>()("@spectral/engine/pipeline/ScanProvenance") {
  static readonly layer = (settings: ProvenanceSettings) =>
    Layer.succeed(ScanProvenance)({ judge: settings.judge, packages: settings.packages ?? [] })
}

const namespaceOf = (name: string) => (name.includes("/") ? name.slice(0, name.indexOf("/")) : BUILTIN)

const settingsOf = (workspace: Workspace): GateSettings => ({
  thresholds: workspace.framework.verdict,
  passThreshold: workspace.framework.passThreshold,
  vectors: workspace.framework.objective.vectors,
  hardConstraints: workspace.framework.hardConstraints
})

/** A new scan's record: what the registries hold now, the workspace and the baseline it measures. */
export const recordFor = Effect.fnUntraced(function*(input: {
  readonly workspace: Workspace
  readonly seed: number
  readonly concurrency: number
  readonly agents: ReadonlyArray<AgentVersion>
  readonly baselineChangeSetId: string | undefined
}) {
  const provenance = yield* ScanProvenance
  const gates = yield* (yield* GateRegistry).gates
  const strategies = yield* (yield* StrategyRegistry).strategies
  const scorers = yield* (yield* ScorerRegistry).scorers
  const settings = settingsOf(input.workspace)
  const names = [...gates.map((g) => g.name), ...strategies.map((s) => s.name), ...scorers.map((s) => s.name)]
  const plugins = [...new Set(names.map(namespaceOf))].filter((p) => p !== BUILTIN).sort().map((name) => ({
    name,
    gates: gates.map((g) => g.name).filter((g) => namespaceOf(g) === name),
    strategies: strategies.map((s) => s.name).filter((s) => namespaceOf(s) === name),
    scorers: scorers.map((s) => s.name).filter((s) => namespaceOf(s) === name)
  }))
  const judge = provenance.judge
  const record: ScanRecord = {
    format: SCAN_RECORD_FORMAT,
    engine: { name: "@spectral/engine", version: ENGINE_VERSION },
    packages: [...provenance.packages],
    plugins,
    gates: gates.map((g) => ({ name: g.name, settings })),
    strategies: strategies.map((s) => ({ name: s.name })),
    scorers: [...BUILTIN_SCORERS, ...scorers.map((s) => ({ name: s.name, description: s.description }))],
    judge: { provider: judge.provider, model: judge.model, temperature: judge.temperature, maxTokens: judge.maxTokens },
    agents: [...input.agents],
    evalSet: { worldModelId: input.workspace.worldModelId, generatorSeed: input.seed, size: input.workspace.framework.evalSetSize },
    seed: input.seed,
    concurrency: Math.max(1, Math.floor(input.concurrency)),
    workspace: input.workspace,
    ...(input.baselineChangeSetId !== undefined ? { baselineChangeSetId: input.baselineChangeSetId } : {})
  }
  return record
})

const decodeRecord = Schema.decodeUnknownEffect(ScanRecord)

/** The workspace a scan id belongs to (`<workspace>:scan:<n>`), when it has that shape. */
export const workspaceOfScanId = (scanId: string): string | undefined => {
  const at = scanId.lastIndexOf(":scan:")
  return at > 0 && /^\d+$/.test(scanId.slice(at + 6)) ? scanId.slice(0, at) : undefined
}

/**
 * A stored scan and its record, decoded again from the stored form (a record edited in storage
 * is read as it is now). Unknown scan ids and scans stored before records are typed errors.
 */
export const storedRecord = Effect.fnUntraced(function*(scanId: string): Effect.fn.Return<
  { readonly workspaceId: string; readonly record: ScanRecord },
  ScanReplayError | StorageError,
  ScanRepo
> {
  const workspaceId = workspaceOfScanId(scanId)
  if (workspaceId === undefined) return yield* new ScanReplayError({ reason: { _tag: "UnknownScan", scanId } })
  const scan = yield* (yield* ScanRepo).get(workspaceId, scanId).pipe(
    Effect.catchTag("StorageError", (error): Effect.Effect<never, ScanReplayError | StorageError> =>
      error.reason._tag === "NotFound" ? Effect.fail(new ScanReplayError({ reason: { _tag: "UnknownScan", scanId } })) : Effect.fail(error))
  )
  if (scan.record === undefined) return yield* new ScanReplayError({ reason: { _tag: "NoRecord", scanId, createdAt: scan.createdAt } })
  const record = yield* decodeRecord(scan.record).pipe(
    Effect.mapError((error) => new ScanReplayError({ reason: { _tag: "InvalidRecord", scanId, issue: error.message } }))
  )
  return { workspaceId, record }
})

/** A gate run with its recorded settings in place of the workspace's. */
const withSettings = (gate: Gate, settings: GateSettings): Gate => ({
  ...gate,
  run: (input) =>
    gate.run({
      ...input,
      thresholds: settings.thresholds,
      passThreshold: settings.passThreshold,
      vectors: settings.vectors,
      hardConstraints: settings.hardConstraints
    })
})

/**
 * The gate registry of a replay: the recorded gates, in recorded order, each with its recorded
 * settings. Reads what is loaded from the engine's registries and fails naming the first recorded
 * plugin, gate, strategy or scorer that is not loaded; narrows the strategies to the recorded ones.
 */
export const replayGates = (record: ScanRecord) =>
  Layer.effect(
    GateRegistry,
    Effect.gen(function*() {
      const gates = yield* (yield* GateRegistry).gates
      const strategyRegistry = yield* StrategyRegistry
      const strategies = yield* strategyRegistry.strategies
      const scorers = yield* (yield* ScorerRegistry).scorers
      const notLoaded = (kind: "plugin" | "gate" | "strategy" | "scorer", name: string) =>
        new ScanReplayError({ reason: { _tag: "NotLoaded", kind, name } })
      const loadedNames = new Set([...gates.map((g) => g.name), ...strategies.map((s) => s.name), ...scorers.map((s) => s.name)])
      const loadedPlugins = new Set([...loadedNames].map(namespaceOf))
      for (const plugin of record.plugins) {
        if (!loadedPlugins.has(plugin.name)) return yield* notLoaded("plugin", plugin.name)
      }
      const chosen: Array<Gate> = []
      for (const spec of record.gates) {
        const gate = gates.find((g) => g.name === spec.name)
        if (gate === undefined) return yield* notLoaded("gate", spec.name)
        chosen.push(withSettings(gate, spec.settings))
      }
      for (const spec of record.strategies) {
        if (!strategies.some((s) => s.name === spec.name)) return yield* notLoaded("strategy", spec.name)
      }
      for (const spec of record.scorers) {
        if (namespaceOf(spec.name) !== BUILTIN && !scorers.some((s) => s.name === spec.name)) return yield* notLoaded("scorer", spec.name)
      }
      yield* strategyRegistry.select(record.strategies.map((s) => s.name))
      const replayed = yield* Ref.make<ReadonlyArray<Gate>>(chosen)
      return GateRegistry.of({
        register: (gate) => Ref.update(replayed, (list) => [...list.filter((g) => g.name !== gate.name), gate]),
        gates: Ref.get(replayed)
      })
    })
  )
