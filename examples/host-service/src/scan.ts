/**
 * A host's scan, exactly as the README's "Install in your service" shows it: the ports as Layers
 * (in-memory storage, the tax world, an in-memory event bus, the simulated model), one scan, and a
 * one-line JSON summary on stdout. Runs on plain Node 24 (`node src/scan.ts`) from the installed
 * packages; `tsc` type-checks it against their declarations.
 */
import { Effect, Layer, Schema } from "effect"
import { readFileSync } from "node:fs"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { EventBus, MemoryStorage, ScanEngine, ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"

const ports = Layer.mergeAll(
  MemoryStorage.layer, // or Storage.layerPglite({ dataDir }), or Storage.layerPg({ url })
  WorldsEvalSetProvider.layer,
  EventBus.layerMemory,
  SimulatedLanguageModel.layer({ seed: 1 })
)

const file = new URL("../workspace.json", import.meta.url)

const program = Effect.gen(function*() {
  const workspace = yield* Schema.decodeUnknownEffect(Workspace)(JSON.parse(readFileSync(file, "utf8")))
  yield* (yield* WorkspaceRepo).upsert(workspace)
  const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 1 })
  return {
    scanId: outcome.scan.id,
    state: outcome.scan.state,
    verdict: outcome.verdict.outcome,
    checks: `${outcome.verdict.checksPassed}/${outcome.verdict.checksTotal}`,
    clusters: outcome.diagnosis.clusters.map((c) => c.label),
    footer: outcome.card.footer,
    changeSet: outcome.changeSet === null ? null : { version: outcome.changeSet.version, status: outcome.changeSet.status }
  }
}).pipe(Effect.provide(ScanEngine.layer().pipe(Layer.provideMerge(ports))))

Effect.runPromise(program).then(
  (summary) => console.log(JSON.stringify(summary)),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
