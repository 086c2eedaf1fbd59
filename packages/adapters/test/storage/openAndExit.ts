/**
 * Run as its own Node process by PgliteStorage.test.ts: opens the embedded store in the folder given
 * as argument, writes a scan, and returns without calling `process.exit`. The process only ends if
 * closing the scope closed the client, the socket server and PGlite.
 */
import { ScanRepo } from "@spectral/engine"
import { Effect } from "effect"
import { Storage } from "../../src/storage/index.ts"

const dataDir = process.argv[2] ?? ".spectral/db"

const program = Effect.gen(function*() {
  const scans = yield* ScanRepo
  yield* scans.insert({
    id: "scan-exit",
    workspaceId: "ws-exit",
    state: "scheduled",
    seed: 1,
    completedPhases: [],
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z"
  })
  const stored = yield* scans.list("ws-exit")
  process.stdout.write(`stored ${stored.length} scan\n`)
})

Effect.runFork(program.pipe(Effect.provide(Storage.layerPglite({ dataDir }))))
