/**
 * `npm run --workspace bench curve -- N [N …]`: one tax-prep scan per size N on the in-memory store
 * with the SIMULATED model at zero latency, printing wall ms per stimulus, model calls per stimulus
 * and the process's RSS — the curve issue 14 asks for, at sizes the `scan` suite does not run.
 */
import { Effect, Layer, Schema } from "effect"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { taxPrepWorkspace } from "../../examples/tax-prep/src/TaxPrepTeam.ts"

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0)
const raw = taxPrepWorkspace("simulated-small")

for (const size of sizes.length > 0 ? sizes : [500, 2000]) {
  const workspace = Schema.decodeUnknownSync(Workspace)({
    ...raw,
    framework: { ...raw.framework, evalSetSize: size, economics: { maxCallsPerScan: 10_000_000, maxTokensPerScan: 10_000_000_000, maxUsdPerScan: 100_000, costPerFailureUsd: 1 } }
  })
  const layer = ScanEngine.layer().pipe(
    Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, SimulatedLanguageModel.layer({ seed: 1, latencyMs: 0 })))
  )
  const started = performance.now()
  const outcome = await Effect.runPromise(Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1, concurrency: 32 })
  }).pipe(Effect.provide(layer)))
  const ms = performance.now() - started
  console.log(JSON.stringify({
    stimuli: size,
    wallMs: Math.round(ms),
    msPerStimulus: +(ms / size).toFixed(2),
    callsPerStimulus: +(outcome.spend.total.calls / size).toFixed(1),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    verdict: outcome.verdict.outcome
  }))
}
