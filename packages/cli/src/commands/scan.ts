/**
 * `spectral scan --workspace FILE [--seed N] [--output DIR]`: declare (upsert) the workspace from a
 * JSON file, run one scan on the configured storage and model, print a JSON summary, and with
 * `--output` write the ChangeSet and the AgentPerformanceCard (Markdown, HTML, JSON) there. A scan
 * that ran and failed prints its summary (`"state":"failed"`, phase, reason) and exits 1; any other
 * failure is `CliFailure`'s one `{"error"}` line.
 */
import { Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { renderHtml, renderJson, renderMarkdown, ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { CliFailed, EXIT_INTERNAL, reportFailures } from "../CliFailure.ts"
import { CliInputError, issueLine, readJsonFile } from "../CliIo.ts"
import { hostLayer } from "../HostLayers.ts"

export const scan = Command.make(
  "scan",
  {
    workspace: Flag.String("workspace").pipe(Flag.withDescription("Workspace declaration (JSON): agents, framework, autonomy")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("Seed of the eval set and the scan")),
    output: Flag.String("output").pipe(Flag.optional, Flag.withDescription("Folder for the change set and the cards"))
  },
  Effect.fn(function*({ workspace: file, seed, output }) {
    const raw = yield* readJsonFile(file)
    const workspace = yield* Schema.decodeUnknownEffect(Workspace)(raw).pipe(
      Effect.mapError((error) => new CliInputError({ file, message: `invalid workspace: ${issueLine(error.issue)}` }))
    )
    const outcome = yield* Effect.gen(function*() {
      yield* (yield* WorkspaceRepo).upsert(workspace)
      return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed })
    }).pipe(
      Effect.provide(hostLayer(seed)),
      // A scan that ran and failed is recorded as failed (with its phase and reason) and its summary is the output; exit code 1.
      Effect.catchTag("ScanFailed", (error) =>
        Effect.andThen(
          Console.log(JSON.stringify({ scanId: error.scanId, state: "failed", phase: error.phase, error: error.reason }, null, 2)),
          new CliFailed({ code: EXIT_INTERNAL, message: error.reason })
        ))
    )
    if (Option.isSome(output)) {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      yield* fs.makeDirectory(output.value, { recursive: true })
      if (outcome.changeSet !== null) yield* fs.writeFileString(path.join(output.value, "changeset.json"), JSON.stringify(outcome.changeSet, null, 2) + "\n")
      yield* fs.writeFileString(path.join(output.value, "agent-performance-card.md"), renderMarkdown(outcome.card))
      yield* fs.writeFileString(path.join(output.value, "agent-performance-card.html"), renderHtml(outcome.card))
      yield* fs.writeFileString(path.join(output.value, "agent-performance-card.json"), renderJson(outcome.card))
    }
    yield* Console.log(JSON.stringify({
      scanId: outcome.scan.id,
      state: outcome.scan.state,
      verdict: outcome.verdict.outcome,
      checksPassed: outcome.verdict.checksPassed,
      checksTotal: outcome.verdict.checksTotal,
      delta: outcome.verdict.delta,
      clusters: outcome.diagnosis.clusters.map((c) => ({ label: c.label, members: c.memberTraceIds.length, frequencyPct: c.frequencyPct })),
      changeSet: outcome.changeSet === null ? null : { id: outcome.changeSet.id, version: outcome.changeSet.version, status: outcome.changeSet.status, baselineId: outcome.changeSet.baselineId },
      spend: outcome.spend.total
    }, null, 2))
  }, reportFailures)
).pipe(Command.withDescription("Run one scan of a declared workspace on the configured storage and model"))
