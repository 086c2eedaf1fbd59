/**
 * One import from every public entry point of the installed packages, each used the way a host
 * would: `tsc` type-checks this file against the packages' declarations (TypeScript 5.x,
 * nodenext, strict), and `node src/entrypoints.ts` prints one line per entry point.
 */
import { Result, Schema } from "effect"
import { Command } from "effect/cli"
import { SimulatedLanguageModel } from "@spectral/adapters"
import { encodeProtobufRequest } from "@spectral/adapters/testing"
import { spectral } from "@spectral/cli"
import { MemoryStorage, Plugin, ScanEngine } from "@spectral/engine"
import { clusterTexts } from "@spectral/engine/clustering"
import { Workspace } from "@spectral/engine/contracts"
import { bootstrapCI, type BootstrapInterval } from "@spectral/engine/stats"
import { seededGenerator } from "@spectral/engine/random"
import { adjustedRandIndex } from "@spectral/engine/testing"
import { optimizerPluginDefinition } from "@spectral/plugins"
import { taxWorld_0_2_0 } from "@spectral/worlds"

const interval: BootstrapInterval = Result.getOrThrow(
  bootstrapCI({ statistic: "mean", x: [0.2, 0.4, 0.5, 0.7, 0.9], resamples: 999, seed: 1 })
)
const clustering = Result.getOrThrow(
  clusterTexts(["timeout calling tax_lookup", "tax_lookup timed out", "wrong filing status", "filing status was wrong"])
)

const lines: ReadonlyArray<readonly [string, unknown]> = [
  ["@spectral/engine", typeof ScanEngine.layer === "function" && MemoryStorage.layer !== undefined && Plugin.spec({ name: "acme", gates: [] }).name === "acme"],
  ["@spectral/engine/contracts", Result.isFailure(Schema.decodeUnknownResult(Workspace)({ id: "" }))],
  ["@spectral/engine/stats", interval.low <= interval.estimate && interval.estimate <= interval.high],
  ["@spectral/engine/clustering", clustering.labels.length === 4],
  ["@spectral/engine/random", seededGenerator(7).next() === seededGenerator(7).next() && seededGenerator(7).next() !== seededGenerator(8).next()],
  ["@spectral/engine/testing", adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]) === 1],
  ["@spectral/adapters", typeof SimulatedLanguageModel.layer === "function"],
  ["@spectral/adapters/testing", encodeProtobufRequest({ resourceSpans: [] }).length === 0],
  ["@spectral/worlds", taxWorld_0_2_0.authority.worldModelVersion === "0.2.0"],
  ["@spectral/plugins", optimizerPluginDefinition.strategies.map((s) => s.name).join(",").includes("gepa")],
  ["@spectral/cli", Command.isCommand(spectral)]
]
for (const [entry, ok] of lines) console.log(`${entry} ${ok === true ? "ok" : "FAILED"}`)
if (lines.some(([, ok]) => ok !== true)) process.exitCode = 1
