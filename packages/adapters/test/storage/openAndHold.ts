/**
 * Run as its own Node process by PgliteStorage.test.ts: opens the embedded store in the folder given
 * as argument, writes a scan of workspace `ws-held`, prints `ready`, and keeps the store open until
 * its standard input closes. Meanwhile the test probes the process from outside.
 */
import { ScanRepo } from "@spectral/engine"
import { Effect } from "effect"
import { Storage } from "../../src/storage/index.ts"

const dataDir = process.argv[2] ?? ".spectral/db"

const stdinClosed = Effect.callback<void>((resume) => {
  process.stdin.on("end", () => resume(Effect.void))
  process.stdin.on("close", () => resume(Effect.void))
  process.stdin.resume()
})

const program = Effect.gen(function*() {
  yield* (yield* ScanRepo).insert({
    id: "scan-held",
    workspaceId: "ws-held",
    state: "scheduled",
    seed: 1,
    completedPhases: [],
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z"
  })
  process.stdout.write("ready\n")
  yield* stdinClosed
})

Effect.runFork(program.pipe(Effect.provide(Storage.layerPglite({ dataDir }))))
