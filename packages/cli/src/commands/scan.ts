/**
 * `spectral scan --workspace FILE [--seed N] [--output DIR] [--request-id ID] [--concurrency N]`:
 * declare (upsert) the workspace from a JSON file, then run its scan on the configured storage and
 * model. On embedded PGlite (the default) the scan is submitted to a single runner of the scan
 * workflow inside this process (`InProcessRunner`, the cluster's state in the same database) and
 * followed to its end: the request id (`--request-id`, else the workspace's newest scan a stopped
 * process left behind when it is this scan — same seed and declaration — else a new id) joins the
 * execution of a scan left behind, whose finished phases are read back, not run again. On a
 * PostgreSQL server the same workflow runs on a single runner of this process whose mailboxes are
 * in memory (the server's cluster tables are its `spectral runner`s'); a scan such a run left
 * behind is carried on by the next run, from its saved phases, once its lease ran out
 * (`ScanSubmissions.plan`). Scans left behind that cannot be resumed are marked abandoned, scans
 * other live processes run, and scans submitted to the runners, are left alone. Prints a JSON summary (`resumed`,
 * `abandoned` say what happened to scans left behind, `requestId` the submission) and with
 * `--output` writes the ChangeSet and the AgentPerformanceCard (Markdown, HTML, JSON) there. A scan
 * that ran and failed — a dead or failing model provider included — prints its summary
 * (`"state":"failed"`, phase, the reason with the provider's error) and exits 1; any other failure
 * is `CliFailure`'s one `{"error"}` line. Secrets (the provider key, anything shaped like a key)
 * are redacted from what it prints.
 *
 * `spectral scan --retry SCAN_ID`: carry a failed scan on (its provider back, its key fixed) as a
 * new submission of the same scan (`ScanSubmissions.retry`): the same id, from its last finished
 * phase, its spend carried on; a scan that did not fail, an unknown one or a malformed id is one
 * `{"error"}` line naming it, exit code 2, nothing changed.
 *
 * `spectral scan --replay SCAN_ID [--output DIR]`: re-run a stored scan from its record (`Scan.record`:
 * the workspace declaration, baseline agents, seed, eval set, judge, gates with their settings,
 * strategies) on the configured storage and model, as a new scan id, and print the new summary
 * (with `replayOf`). An unknown scan id, a scan stored before records existed, a record naming a
 * plugin, gate, strategy or scorer that is not loaded, or a judge on another provider than the
 * configured one: one `{"error"}` line naming it, exit code 2.
 *
 * `SPECTRAL_SCAN_LEASE_MS` (default 30 000): how long a scan's lease lasts without its heartbeat;
 * on a Postgres server a scan left behind is resumed once its lease ran out. On embedded PGlite the
 * data folder is this process's alone, so a scan left behind there is resumed at once.
 */
import { Config, Console, Effect, FileSystem, Layer, Option, Path, Predicate, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { hostname } from "node:os"
import { Redaction, Storage } from "@spectral/adapters"
import { ChangeSetRepo, type RecoveredScanOutcome, type StorageError, renderHtml, renderJson, renderMarkdown, ScanEngine, type ScanFailed, type ScanOutcome, ScanProgress, type ScanProgressReporter, WorkspaceRepo } from "@spectral/engine"
import { ENGINE_VERSION, Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { CliFailed, EXIT_INTERNAL, reportFailures } from "../CliFailure.ts"
import { CliInputError, issueLine, readJsonFile } from "../CliIo.ts"
import { hostLayer, hostLayerOn, languageModelLayer, LlmChoice } from "../HostLayers.ts"
import { type LoadedPlugin, loadPlugins, pluginPackages } from "../PluginModules.ts"
import { progressReporter } from "../ScanProgressBar.ts"
import * as InProcessRunner from "../runners/InProcessRunner.ts"
import { clientLayer } from "../runners/RunnerLayers.ts"
import { follow, newRequestId, startedScan, statusOf, submit as submitScan } from "../runners/Submission.ts"

const ScanSettings = Config.all({
  leaseMs: Config.Int("SPECTRAL_SCAN_LEASE_MS").pipe(Config.withDefault(30_000)),
  apiKey: Config.option(Config.Redacted("OPENAI_API_KEY"))
})

type Redact = ReturnType<typeof Redaction.make>

/** A scan that ran and failed is recorded as failed (with its phase and reason) and its summary is the output; exit code 1. */
const failedScan = (redact: Redact) => (error: ScanFailed) =>
  Effect.andThen(
    Console.log(JSON.stringify({ scanId: error.scanId, state: "failed", phase: error.phase, cause: error.cause._tag, error: redact.text(error.reason) }, null, 2)),
    new CliFailed({ code: EXIT_INTERNAL, message: redact.text(error.reason) })
  )

/** The change set and the cards (with the scan's record: the "Reproduce" section) in `output`. */
const writeOutputs = Effect.fnUntraced(function*(outcome: ScanOutcome, output: Option.Option<string>) {
  if (Option.isNone(output)) return
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const extras = { record: outcome.scan.record }
  yield* fs.makeDirectory(output.value, { recursive: true })
  if (outcome.changeSet !== null) yield* fs.writeFileString(path.join(output.value, "changeset.json"), JSON.stringify(outcome.changeSet, null, 2) + "\n")
  yield* fs.writeFileString(path.join(output.value, "agent-performance-card.md"), renderMarkdown(outcome.card, extras))
  yield* fs.writeFileString(path.join(output.value, "agent-performance-card.html"), renderHtml(outcome.card, extras))
  yield* fs.writeFileString(path.join(output.value, "agent-performance-card.json"), renderJson(outcome.card, extras))
})

const summaryOf = (outcome: ScanOutcome) => ({
  verdict: outcome.verdict.outcome,
  checksPassed: outcome.verdict.checksPassed,
  checksTotal: outcome.verdict.checksTotal,
  delta: outcome.verdict.delta,
  clusters: outcome.diagnosis.clusters.map((c) => ({ label: c.label, members: c.memberTraceIds.length, frequencyPct: c.frequencyPct })),
  changeSet: outcome.changeSet === null ? null : { id: outcome.changeSet.id, version: outcome.changeSet.version, status: outcome.changeSet.status, baselineId: outcome.changeSet.baselineId },
  spend: outcome.spend.total
})

const leaseOf = (leaseMs: number) => ({ durationMs: leaseMs, owner: `${hostname()}:${process.pid}` })

/** `--replay SCAN_ID`: the stored scan's record, run again as a new scan on an engine built from it. */
const replay = Effect.fnUntraced(function*(scanId: string, output: Option.Option<string>, plugins: ReadonlyArray<LoadedPlugin>) {
  const settings = yield* ScanSettings
  const llm = yield* LlmChoice
  const redact = Redaction.make([Option.getOrUndefined(settings.apiKey)])
  const outcome: ScanOutcome = yield* Effect.gen(function*() {
    const { workspaceId, record } = yield* ScanEngine.storedRecord(scanId)
    if (record.judge.provider !== llm) {
      return yield* new ScanEngine.ScanReplayError({ reason: { _tag: "ProviderMismatch", recorded: record.judge.provider, configured: llm } })
    }
    if (record.engine.version !== ENGINE_VERSION) {
      yield* Console.error(`the record was made by ${record.engine.name}@${record.engine.version}; replaying on ${ENGINE_VERSION}`)
    }
    const engine = ScanEngine.layerReplay({ judge: record.judge, packages: record.packages }, record, plugins.map((p) => p.layer)).pipe(
      Layer.provideMerge(Layer.mergeAll(WorldsEvalSetProvider.layer, languageModelLayer(record.seed)))
    )
    // The scan workflow on a runner of this process (its mailboxes in memory), on the engine built from the record.
    const reporter = yield* progressReporter
    return yield* InProcessRunner.runWithMailboxesInMemory({
      workspaceId,
      seed: record.seed,
      concurrency: record.concurrency,
      exclusiveStore: false,
      progress: reporter,
      lease: leaseOf(settings.leaseMs),
      replayOf: scanId
    }).pipe(withProgress(reporter), Effect.provide(engine))
  }).pipe(
    Effect.provide(Storage.layerConfigWithEvents()),
    Effect.catchTag("ScanReplayError", (error) => Effect.fail(new CliInputError({ file: `--replay ${scanId}`, message: error.message }))),
    Effect.catchTag("ScanFailed", failedScan(redact))
  )
  yield* writeOutputs(outcome, output)
  yield* Console.log(JSON.stringify({ scanId: outcome.scan.id, replayOf: scanId, state: outcome.scan.state, ...summaryOf(outcome) }, null, 2))
})

/**
 * `--submit` / `--detach`: the scan runs on the runners. The declaration is stored, the scan is
 * submitted (keyed by workspace and request id) and, once a runner recorded it, its id is printed
 * (`--detach`) or its phases are followed on the store to its end, with the summary at the end.
 */
const submitted = Effect.fnUntraced(function*(options: {
  readonly workspace: Workspace
  readonly seed: number
  readonly detach: boolean
  readonly requestId: string
  readonly concurrency: number
  readonly redact: Redact
}) {
  if (options.concurrency < 1 || options.concurrency > 1024) return yield* new CliInputError({ file: "--concurrency", message: `${options.concurrency} is not between 1 and 1024` })
  const { workspace, requestId } = options
  const reporter = yield* progressReporter
  return yield* Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    yield* submitScan({ workspaceId: workspace.id, requestId, seed: options.seed, concurrency: options.concurrency })
    const started = yield* startedScan(workspace.id, requestId, { timeoutMs: 60_000 })
    if (options.detach) {
      yield* Console.log(JSON.stringify({ scanId: started.id, requestId, state: started.state }, null, 2))
      return
    }
    const ended = yield* follow(workspace.id, started.id, reporter)
    const changeSet = ended.changeSetId === undefined ? null : yield* (yield* ChangeSetRepo).get(workspace.id, ended.changeSetId)
    const status = statusOf(ended)
    yield* Console.log(JSON.stringify({
      ...status,
      requestId,
      changeSet: changeSet === null ? null : { id: changeSet.id, version: changeSet.version, status: changeSet.status, baselineId: changeSet.baselineId },
      failure: status.failure === null ? null : { ...status.failure, reason: options.redact.text(status.failure.reason) }
    }, null, 2))
    if (ended.state !== "completed") return yield* new CliFailed({ code: EXIT_INTERNAL, message: options.redact.text(ended.failureReason ?? `the scan is ${ended.state}`) })
  }).pipe(
    Effect.provide(Layer.merge(clientLayer, Storage.layerConfig)),
    Effect.mapError((error) =>
      error._tag === "ClusterUnavailable" && error.reason !== "Connect" ? new CliInputError({ file: "--submit", message: error.message }) : error)
  )
})

/** The workspace declared in `file`, decoded. */
const declared = Effect.fnUntraced(function*(file: string) {
  const raw = yield* readJsonFile(file)
  return yield* Schema.decodeUnknownEffect(Workspace)(raw).pipe(
    Effect.mapError((error) => new CliInputError({ file, message: `invalid workspace: ${issueLine(error.issue)}` }))
  )
})

/** Progress on stderr while the scan runs (`SPECTRAL_PROGRESS`). */
const withProgress = (reporter: ScanProgressReporter | undefined) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  reporter === undefined ? effect : Effect.provideService(effect, ScanProgress, reporter)

export const scan = Command.make(
  "scan",
  {
    workspace: Flag.String("workspace").pipe(Flag.optional, Flag.withDescription("Workspace declaration (JSON): agents, framework, autonomy")),
    seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("Seed of the eval set and the scan")),
    replay: Flag.String("replay").pipe(Flag.optional, Flag.withDescription("Re-run this stored scan from its record (as a new scan, same seed); instead of --workspace")),
    output: Flag.String("output").pipe(Flag.optional, Flag.withDescription("Folder for the change set and the cards")),
    plugin: Flag.String("plugin").pipe(
      Flag.withDescription("A plugin module or package (its default or `plugin` export: { name, gates?, strategies?, scorers? }) whose gates, strategies and scorers join the built-in ones (repeatable), e.g. @spectral/plugins"),
      Flag.atLeast(0)
    ),
    submit: Flag.Boolean("submit").pipe(Flag.withDefault(false), Flag.withDescription("Run the scan on the runners (`spectral runner`) and follow it to its end")),
    detach: Flag.Boolean("detach").pipe(Flag.withDefault(false), Flag.withDescription("Submit the scan to the runners and print its id once one started it")),
    retry: Flag.String("retry").pipe(
      Flag.optional,
      Flag.withDescription("Carry this failed scan on from its last finished phase (its saved phases are not run again, its spend is kept); instead of --workspace")
    ),
    requestId: Flag.String("request-id").pipe(Flag.optional, Flag.withDescription("Names the submission: the same id again joins the same scan, or resumes it after its process stopped (default: the scan left behind, else a new id)")),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDefault(8), Flag.withDescription("Model calls in flight at once"))
  },
  Effect.fn(function*({ workspace: workspaceFile, seed, replay: replayOf, output, plugin: pluginModules, submit, detach, retry: retryOf, requestId, concurrency }) {
    const plugins = yield* loadPlugins(pluginModules)
    if (Option.isSome(retryOf)) {
      if (Option.isSome(workspaceFile) || Option.isSome(replayOf)) return yield* new CliInputError({ file: "--retry", message: "give --retry SCAN_ID alone (the scan goes on with the declaration it started on)" })
      if (submit || detach || Option.isSome(requestId)) return yield* new CliInputError({ file: "--retry", message: "a failed scan is carried on in this process: drop --submit, --detach and --request-id" })
    }
    if (Option.isSome(replayOf)) {
      if (Option.isSome(workspaceFile)) return yield* new CliInputError({ file: "--replay", message: "give --replay SCAN_ID or --workspace FILE, not both (a replay runs the declaration its record holds)" })
      return yield* replay(replayOf.value, output, plugins)
    }
    if (Option.isNone(workspaceFile) && Option.isNone(retryOf)) return yield* new CliInputError({ file: "--workspace", message: "missing: give --workspace FILE (or --replay SCAN_ID, or --retry SCAN_ID)" })
    const workspace = Option.isSome(workspaceFile) ? yield* declared(workspaceFile.value) : undefined
    const workspaceId = workspace?.id ?? ScanEngine.workspaceOfScanId(Option.getOrElse(retryOf, () => ""))
    if (workspaceId === undefined) return yield* new CliInputError({ file: "--retry", message: `${Option.getOrElse(retryOf, () => "")} is not a scan id (<workspace>:scan:<n>)` })
    const settings = yield* ScanSettings
    const store = yield* Storage.StorageConfig
    const redact = Redaction.make([Option.getOrUndefined(settings.apiKey)])
    if (submit || detach) {
      if (pluginModules.length > 0) return yield* new CliInputError({ file: "--plugin", message: "a submitted scan uses the plugins its runners loaded (`spectral runner --plugin`)" })
      if (Option.isSome(output)) return yield* new CliInputError({ file: "--output", message: "a submitted scan's cards are read with `spectral card` once it completed" })
      if (workspace === undefined) return yield* new CliInputError({ file: "--workspace", message: "missing: give --workspace FILE" })
      return yield* submitted({ workspace, seed, detach, requestId: Option.getOrElse(requestId, newRequestId), concurrency, redact })
    }
    if (concurrency < 1 || concurrency > 1024) return yield* new CliInputError({ file: "--concurrency", message: `${concurrency} is not between 1 and 1024` })
    const reporter = yield* progressReporter
    const layers = { seed, plugins: plugins.map((p) => p.layer), packages: pluginPackages(plugins) }
    const embedded = Option.isNone(store.databaseUrl)
    const request = {
      workspaceId,
      seed,
      concurrency,
      requestId: Option.getOrUndefined(requestId),
      exclusiveStore: embedded,
      progress: reporter,
      lease: leaseOf(settings.leaseMs),
      retry: Option.getOrUndefined(retryOf)
    }
    // The declaration is stored first (a retry goes on with the one it started on).
    const declare = workspace === undefined ? Effect.void : Effect.flatMap(Effect.service(WorkspaceRepo), (repo) => repo.upsert(workspace))
    const here: Effect.Effect<RecoveredScanOutcome & { readonly requestId?: string | undefined }, unknown> = embedded
      // Embedded PGlite: the scan workflow on a single runner in this process, its state in the same database.
      ? Effect.gen(function*() {
        yield* declare
        return yield* InProcessRunner.run(request)
      }).pipe(
        withProgress(reporter),
        Effect.provide(hostLayerOn(InProcessRunner.embeddedStore(store.dataDir), layers.seed, layers.plugins, layers.packages))
      )
      // A PostgreSQL server: its cluster tables are its `spectral runner`s', so the scan workflow runs
      // on a single runner of this process with its mailboxes in memory. A scan such a process left
      // behind is carried on by the next run once its lease ran out; live ones are left alone.
      : Effect.gen(function*() {
        if (Option.isSome(requestId)) return yield* new CliInputError({ file: "--request-id", message: "on a PostgreSQL server a named submission runs on the runners: add --submit" })
        yield* declare
        return yield* InProcessRunner.runWithMailboxesInMemory(request)
      }).pipe(
        withProgress(reporter),
        Effect.provide(hostLayer(layers.seed, layers.plugins, layers.packages))
      )
    /** A scan that ran and failed is its summary; a retry of a scan that did not fail, or of an unknown one, is refused (nothing ran). */
    const ended = (error: unknown): Effect.Effect<never, unknown> => {
      if (Predicate.isTagged(error, "ScanFailed")) {
        const failed = error as ScanFailed
        if (request.retry !== undefined && failed.cause._tag === "NotResumable") return Effect.fail(new CliInputError({ file: `--retry ${request.retry}`, message: redact.text(failed.reason) }))
        return failedScan(redact)(failed)
      }
      if (request.retry !== undefined && Predicate.isTagged(error, "StorageError") && (error as StorageError).reason._tag === "NotFound") {
        return Effect.fail(new CliInputError({ file: `--retry ${request.retry}`, message: "no such scan" }))
      }
      return Effect.fail(error)
    }
    const outcome = yield* Effect.catch(here, ended)
    if (outcome.resumed) yield* Console.error(`resumed scan ${outcome.scan.id}: its process had stopped (resumed ${outcome.scan.resumes ?? 1} time(s))`)
    for (const left of outcome.abandoned) yield* Console.error(`abandoned scan ${left.id}: ${redact.text(left.failureReason ?? "")}`)
    yield* writeOutputs(outcome, output)
    yield* Console.log(JSON.stringify({
      scanId: outcome.scan.id,
      state: outcome.scan.state,
      resumed: outcome.resumed,
      abandoned: outcome.abandoned.map((left) => ({ scanId: left.id, reason: redact.text(left.failureReason ?? "") })),
      ...(outcome.requestId === undefined ? {} : { requestId: outcome.requestId }),
      ...summaryOf(outcome)
    }, null, 2))
  }, reportFailures)
).pipe(Command.withDescription("Run one scan of a declared workspace (or resume the one a stopped process left behind, or replay a stored one) on the configured storage and model"))
