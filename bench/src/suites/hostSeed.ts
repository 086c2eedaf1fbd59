/**
 * The `host` suite's data: one real scan of the tax-prep team (simulated model, small eval set) on
 * the in-memory store, taken as a template, then written N times into a store through the
 * adapters' repositories — each copy with its own scan id, trace and result ids, an hour after the
 * one before, its per-agent scores moved a little (seeded), and the world-model version stepping
 * every quarter of the history (0.1.0, 0.2.0, …: markers on the trend) — so the API and the
 * dashboard read 1,000 (or 500) completed scans without running them. Every row the host API reads
 * for a scan is copied: the scan, its phase outputs, verdict and divergence record, its scan traces
 * and evaluation results, and the workspace.
 */
import { Effect, Layer, Schema } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, ScanRepo, ScanTraceRepo, WorkspaceRepo } from "@spectral/engine"
import { type EvalResult, type PhaseName, type RubricDivergenceRecord, type Scan, type ScanTrace, type VerdictResult, Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { taxPrepWorkspace } from "../../../examples/tax-prep/src/TaxPrepTeam.ts"

export const HostWorkspace = "ledger-tax-prep"

export interface ScanTemplate {
  readonly workspace: Workspace
  readonly scan: Scan
  readonly phaseOutputs: ReadonlyArray<readonly [PhaseName, unknown]>
  readonly verdict: VerdictResult
  readonly divergence: RubricDivergenceRecord | undefined
  readonly traces: ReadonlyArray<ScanTrace>
  readonly results: ReadonlyArray<EvalResult>
}

/** Run the template scan (`stimuli` stimuli) on a throwaway in-memory store and read back its rows. */
export const scanTemplate = (stimuli: number): Effect.Effect<ScanTemplate, unknown> => {
  const raw = taxPrepWorkspace("simulated-small")
  const workspace = Schema.decodeUnknownSync(Workspace)({ ...raw, framework: { ...raw.framework, evalSetSize: stimuli, optimization: { maxCandidates: 3, maxRounds: 1 } } })
  return Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency: 16 })
    const scans = yield* ScanRepo
    const rows = yield* ScanTraceRepo
    const scan = yield* scans.get(workspace.id, outcome.scan.id)
    if (scan.state !== "completed") return yield* Effect.die(new Error(`the template scan ended ${scan.state}: ${scan.failureReason ?? ""}`))
    return {
      workspace,
      scan,
      phaseOutputs: [...(yield* scans.phaseOutputs(workspace.id, scan.id)).entries()],
      verdict: yield* scans.verdict(workspace.id, scan.id),
      divergence: yield* scans.divergence(workspace.id, scan.id).pipe(Effect.orElseSucceed(() => undefined)),
      traces: yield* rows.traces(workspace.id, scan.id),
      results: yield* rows.results(workspace.id, scan.id)
    } satisfies ScanTemplate
  }).pipe(Effect.provide(ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1, latencyMs: 0 })))
  )))
}

/** A small seeded generator (mulberry32). */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const clamp = (x: number) => Math.min(1, Math.max(0, x))
const HourMs = 3_600_000

/**
 * Write `count` copies of the template into the store in context (scan ids `bench-scan-0001`…),
 * `batch` scans' rows at a time. Returns the scan ids, oldest first.
 */
export const seedScans = (template: ScanTemplate, count: number) =>
  Effect.gen(function*() {
    const scans = yield* ScanRepo
    const rows = yield* ScanTraceRepo
    yield* (yield* WorkspaceRepo).upsert(template.workspace)
    const ws = template.workspace.id
    const start = Date.parse("2026-01-01T00:00:00.000Z")
    const baseVersion = template.scan.attribution?.worldModelVersion ?? "0.1.0"
    const ids: Array<string> = []
    for (let i = 0; i < count; i++) {
      const id = `bench-scan-${String(i + 1).padStart(4, "0")}`
      const at = new Date(start + i * HourMs).toISOString()
      const finished = new Date(start + i * HourMs + 20 * 60_000).toISOString()
      const version = `${baseVersion}+v${Math.floor((i * 4) / count) + 1}`
      const drift = random(i + 1)
      const shift = (drift() - 0.5) * 0.1
      const attribution = template.scan.attribution === undefined ? undefined : {
        ...template.scan.attribution,
        worldModelVersion: version,
        authority: { ...template.scan.attribution.authority, worldModelVersion: version }
      }
      const scan: Scan = {
        ...template.scan,
        id,
        ...(attribution === undefined ? {} : { attribution }),
        ...(template.scan.blendedScore === undefined ? {} : { blendedScore: clamp(template.scan.blendedScore + shift) }),
        createdAt: at,
        updatedAt: finished
      }
      yield* scans.insert(scan)
      for (const [phase, output] of template.phaseOutputs) yield* scans.savePhaseOutput(ws, id, phase, output)
      yield* scans.saveVerdict({ ...template.verdict, id: `${id}-verdict`, scanId: id })
      if (template.divergence !== undefined) yield* scans.saveDivergence({ ...template.divergence, id: `${id}-divergence`, scanId: id })
      const traceIds = new Map<string, string>()
      yield* rows.insertTraces(ws, template.traces.map((t) => {
        const traceId = `${id}-${t.id}`
        traceIds.set(t.id, traceId)
        return { ...t, id: traceId, scanId: id }
      }))
      yield* rows.insertResults(ws, template.results.map((r) => ({
        ...r,
        id: `${id}-${r.id}`,
        scanId: id,
        traceId: traceIds.get(r.traceId) ?? r.traceId,
        agents: Object.fromEntries(Object.entries(r.agents).map(([agent, score]) => [agent, clamp(score + shift)]))
      })))
      ids.push(id)
    }
    return ids
  })
