/**
 * `spectral scan --workspace FILE [--seed N] [--output DIR]`: declare (upsert) the workspace from a
 * JSON file, then resume the workspace's scan a stopped process left behind (killed, crashed) when
 * it is this scan (same seed and declaration), or run a new one, on the configured storage and
 * model (`ScanOrchestrator.runOrResume`; scans left behind that cannot be resumed are marked
 * abandoned, scans other live processes run are left alone). Prints a JSON summary (`resumed`,
 * `abandoned` say what happened to scans left behind) and with `--output` writes the ChangeSet and
 * the AgentPerformanceCard (Markdown, HTML, JSON) there. A scan that ran and failed — a dead or
 * failing model provider included — prints its summary (`"state":"failed"`, phase, the reason with
 * the provider's error) and exits 1; any other failure is `CliFailure`'s one `{"error"}` line.
 * Secrets (the provider key, anything shaped like a key) are redacted from what it prints.
 *
 * `SPECTRAL_SCAN_LEASE_MS` (default 30 000): how long a scan's lease lasts without its heartbeat;
 * on a Postgres server a scan left behind is resumed once its lease ran out. On embedded PGlite the
 * data folder is this process's alone, so a scan left behind there is resumed at once.
 */
import { Config, Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { hostname } from "node:os"
import { Redaction, Storage } from "@spectral/adapters"
import { renderHtml, renderJson, renderMarkdown, ScanOrchestrator, WorkspaceRepo } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { CliFailed, EXIT_INTERNAL, reportFailures } from "../CliFailure.ts"
import { CliInputError, issueLine, readJsonFile } from "../CliIo.ts"
import { hostLayer } from "../HostLayers.ts"

const ScanSettings = Config.all({
  leaseMs: Config.Int("SPECTRAL_SCAN_LEASE_MS").pipe(Config.withDefault(30_000)),
  apiKey: Config.option(Config.Redacted("OPENAI_API_KEY"))
})

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
    const settings = yield* ScanSettings
    const store = yield* Storage.StorageConfig
    const redact = Redaction.make([Option.getOrUndefined(settings.apiKey)])
    const outcome = yield* Effect.gen(function*() {
      yield* (yield* WorkspaceRepo).upsert(workspace)
      return yield* (yield* ScanOrchestrator).runOrResume({
        workspaceId: workspace.id,
        seed,
        lease: { durationMs: settings.leaseMs, owner: `${hostname()}:${process.pid}` },
        exclusiveStore: Option.isNone(store.databaseUrl)
      })
    }).pipe(
      Effect.provide(hostLayer(seed)),
      // A scan that ran and failed is recorded as failed (with its phase and reason) and its summary is the output; exit code 1.
      Effect.catchTag("ScanFailed", (error) =>
        Effect.andThen(
          Console.log(JSON.stringify({ scanId: error.scanId, state: "failed", phase: error.phase, error: redact.text(error.reason) }, null, 2)),
          new CliFailed({ code: EXIT_INTERNAL, message: redact.text(error.reason) })
        ))
    )
    if (outcome.resumed) yield* Console.error(`resumed scan ${outcome.scan.id}: its process had stopped (resumed ${outcome.scan.resumes ?? 1} time(s))`)
    for (const left of outcome.abandoned) yield* Console.error(`abandoned scan ${left.id}: ${redact.text(left.failureReason ?? "")}`)
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
      resumed: outcome.resumed,
      abandoned: outcome.abandoned.map((left) => ({ scanId: left.id, reason: redact.text(left.failureReason ?? "") })),
      verdict: outcome.verdict.outcome,
      checksPassed: outcome.verdict.checksPassed,
      checksTotal: outcome.verdict.checksTotal,
      delta: outcome.verdict.delta,
      clusters: outcome.diagnosis.clusters.map((c) => ({ label: c.label, members: c.memberTraceIds.length, frequencyPct: c.frequencyPct })),
      changeSet: outcome.changeSet === null ? null : { id: outcome.changeSet.id, version: outcome.changeSet.version, status: outcome.changeSet.status, baselineId: outcome.changeSet.baselineId },
      spend: outcome.spend.total
    }, null, 2))
  }, reportFailures)
).pipe(Command.withDescription("Run one scan of a declared workspace (or resume the one a stopped process left behind) on the configured storage and model"))
