/**
 * The main job: scan the example tax-prep team against `us-federal-individual-tax` on the embedded
 * default storage (or `SPECTRAL_DATABASE_URL`) with the simulated model (or `SPECTRAL_LLM=openai`),
 * print a short report, and write the ChangeSet (JSON) and the AgentPerformanceCard (Markdown,
 * HTML, JSON) to the output folder. Run it twice: the second scan's baseline is the first's.
 *
 * On the embedded store the scan runs as the durable scan workflow on a single runner in this
 * process, like `spectral scan` (`InProcessRunner`, the cluster's state in the same PGlite
 * database): a scan a stopped process left behind (killed, crashed) is resumed by the next run
 * through its workflow execution, its finished phases read back, no recorded model call made
 * again. On a PostgreSQL server (`SPECTRAL_DATABASE_URL`) the same workflow runs on a runner of this
 * process with its mailboxes in memory (`InProcessRunner.runWithMailboxesInMemory`): a scan left
 * behind is carried on from its saved phases once its lease ran out (`SPECTRAL_SCAN_LEASE_MS`),
 * one a live process holds is left alone. A scan that fails — a dead or
 * failing model provider included — is reported on stderr with its phase and reason (the
 * provider's error) and the job exits 1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Console, Effect, FileSystem, Layer, Option, Path, Predicate, Runtime, Schema } from "effect"
import { hostname } from "node:os"
import { hostLayer, hostLayerOn, InProcessRunner, loadPlugins, pluginPackages } from "@spectral/cli"
import { EventBus, type RecoveredScanOutcome, renderHtml, renderJson, renderMarkdown, type ScanFailed, ScanRepo, WorkspaceRepo } from "@spectral/engine"
import { WorldEvolution, WorldRegistry } from "@spectral/worlds"
import { decodeWorkspace, taxPrepWorkspace } from "./TaxPrepTeam.ts"

const Settings = Config.all({
  llm: Config.Literals(["simulated", "openai"], "SPECTRAL_LLM").pipe(Config.withDefault("simulated" as const)),
  model: Config.String("SPECTRAL_MODEL").pipe(Config.withDefault("")),
  outputDir: Config.String("SPECTRAL_OUTPUT_DIR").pipe(Config.withDefault("out/tax-prep")),
  seed: Config.Int("SPECTRAL_SEED").pipe(Config.withDefault(1)),
  concurrency: Config.Int("SPECTRAL_SCAN_CONCURRENCY").pipe(Config.withDefault(16)),
  leaseMs: Config.Int("SPECTRAL_SCAN_LEASE_MS").pipe(Config.withDefault(30_000)),
  // Absent: the embedded store, whose data folder this process holds alone.
  databaseUrl: Config.option(Config.Redacted("SPECTRAL_DATABASE_URL")),
  dataDir: Config.String("SPECTRAL_DATA_DIR").pipe(Config.withDefault(".spectral/db"))
})

/** The scan failed and that was said on stderr: exit 1 without another report. */
class ScanNotCompleted extends Schema.TaggedError<ScanNotCompleted>()("ScanNotCompleted", { message: Schema.String }) {
  override readonly [Runtime.errorReported] = false
}

const pending = (n: number) => n === 0 ? "no rule candidate pending" : n === 1 ? "1 rule candidate pending" : `${n} rule candidates pending`

/** How many events the loop decided each way, in words ("3 observations kept, 1 dismissed as noise, 3 ignored"). */
const decisionWords: Record<string, readonly [one: string, many: string]> = {
  observation: ["observation kept", "observations kept"],
  noise: ["dismissed as noise", "dismissed as noise"],
  ignored: ["ignored", "ignored"],
  duplicate: ["duplicate", "duplicates"],
  rule_candidate: ["rule candidate proposed", "rule candidates proposed"],
  rule_revision: ["rule revision proposed", "rule revisions proposed"]
}
const summarizeDecisions = (kinds: ReadonlyArray<string>) => {
  const counts = new Map<string, number>()
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return counts.size === 0
    ? "no signals"
    : [...counts].map(([kind, n]) => `${n} ${(decisionWords[kind] ?? [kind, kind])[n === 1 ? 0 : 1]}`).join(", ")
}

/** A scan that failed: said on stderr with its phase and reason, then exit 1. */
const reportFailure = <A, E, R>(scan: Effect.Effect<A, E | ScanFailed, R>) =>
  scan.pipe(
    Effect.catchIf((error): error is ScanFailed => Predicate.isTagged(error, "ScanFailed"), (error) =>
      Effect.andThen(
        Console.error(`Scan ${error.scanId} failed in ${error.phase}: ${error.reason}`),
        new ScanNotCompleted({ message: error.message })
      ))
  )

interface ScanRequest {
  readonly workspaceId: string
  readonly seed: number
  readonly concurrency: number
}

/** How the scan runs: through the in-process runner's workflow (embedded store), or under a lease (a server). */
const program = <E, R>(runScan: (request: ScanRequest) => Effect.Effect<RecoveredScanOutcome, E | ScanFailed, R>) => Effect.gen(function*() {
  const settings = yield* Settings
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const model = settings.model !== "" ? settings.model : settings.llm === "simulated" ? "simulated-small" : "gpt-4.1-mini"
  const workspace = yield* decodeWorkspace(taxPrepWorkspace(model))
  const workspaces = yield* WorkspaceRepo
  yield* workspaces.upsert(workspace)
  // The world's evolution loop listens to the events scans publish (the only path back into a world).
  const evolution = yield* WorldEvolution
  yield* (yield* EventBus).subscribe("world-evolution", (event) => evolution.consume(event))
  const request = { workspaceId: workspace.id, seed: settings.seed, concurrency: settings.concurrency }
  const outcome = yield* reportFailure(runScan(request))
  const history = yield* (yield* ScanRepo).list(workspace.id)

  const dir = settings.outputDir
  yield* fs.makeDirectory(dir, { recursive: true })
  const written: Array<string> = []
  const write = (name: string, text: string) =>
    Effect.gen(function*() {
      const file = path.join(dir, name)
      yield* fs.writeFileString(file, text)
      written.push(file)
    })
  if (outcome.changeSet !== null) yield* write("changeset.json", JSON.stringify(outcome.changeSet, null, 2) + "\n")
  yield* write("agent-performance-card.md", renderMarkdown(outcome.card))
  yield* write("agent-performance-card.html", renderHtml(outcome.card))
  yield* write("agent-performance-card.json", renderJson(outcome.card))

  const { verdict, diagnosis, changeSet, spend } = outcome
  const biggest = diagnosis.clusters[0]
  const lines = [
    ...outcome.abandoned.map((left) => `Scan ${left.id} was left behind and is abandoned: ${left.failureReason ?? ""}`),
    `Scan ${outcome.scan.id} ${outcome.resumed ? "was left behind by a stopped process, resumed and " : ""}finished (${outcome.scan.state}). Verdict: ${verdict.checksPassed} / ${verdict.checksTotal} checks passing — ${verdict.outcome.toUpperCase()}.`,
    biggest === undefined
      ? "No failure clusters."
      : `The biggest cluster is ${biggest.label.replace(/^\p{Lu}(?=\p{Ll})/u, (initial) => initial.toLowerCase())} — ${biggest.memberTraceIds.length} of your ${diagnosis.failingCount} failures.`,
    verdict.delta === null ? "" : `Blended score change: ${(verdict.delta.estimate * 100).toFixed(1)} pts [${(verdict.delta.low * 100).toFixed(1)}, ${(verdict.delta.high * 100).toFixed(1)}].`,
    changeSet === null ? "No change set (observe_only)." : `Change set v${changeSet.version} is ${changeSet.status}${changeSet.baselineId === null ? "" : ` (baseline ${changeSet.baselineId})`}: ${changeSet.explainability.summary}`,
    `Spent ${spend.total.calls} model calls, ${spend.total.tokens.toLocaleString("en-US")} tokens, $${spend.total.usd.toFixed(4)} (${settings.llm === "simulated" ? "simulated model" : model}).`,
    `World evolution loop: ${summarizeDecisions((yield* evolution.decisions).map((d) => d.decision))}; ${pending((yield* evolution.candidates({ status: "proposed" })).length)} (nothing is published without an explicit call).`,
    `Scan history: ${history.map((s) => `${s.id} [${s.state}${s.verdict ? `, ${s.verdict}` : ""}${s.baselineChangeSetId ? `, baseline ${s.baselineChangeSetId}` : ""}]`).join("; ")}`,
    `Wrote ${written.join(", ")}`
  ].filter((line) => line !== "")
  yield* Console.log(lines.join("\n"))
})

// The host composition the `spectral` command uses (storage from the environment with its durable
// event bus, the worlds, the model and judge from SPECTRAL_LLM / SPECTRAL_JUDGE_MODEL), plus the
// world's evolution loop.
// `SPECTRAL_PLUGINS` (comma-separated modules or packages, e.g. `@spectral/plugins`) adds plugin
// gates, strategies and scorers, as `spectral scan --plugin` does.
const PluginModules = Config.String("SPECTRAL_PLUGINS").pipe(
  Config.withDefault(""),
  Config.map((list) => list.split(",").map((m) => m.trim()).filter((m) => m.length > 0))
)
// The loop stores through the host's SQL store (its candidates outlive the run; `spectral world candidates` lists them).
const withEvolution = <A, E, R>(host: Layer.Layer<A, E, R>) => WorldEvolution.layerNoDeps().pipe(Layer.provideMerge(WorldRegistry.layer), Layer.provideMerge(host))

const main = Effect.gen(function*() {
  const settings = yield* Settings
  const plugins = yield* loadPlugins(yield* PluginModules)
  const [layers, packages] = [plugins.map((p) => p.layer), pluginPackages(plugins)]
  const lease = { durationMs: settings.leaseMs, owner: `${hostname()}:${process.pid}` }
  if (Option.isNone(settings.databaseUrl)) {
    // The store's SqlClient also carries the in-process runner's cluster tables.
    const host = hostLayerOn(InProcessRunner.embeddedStore(settings.dataDir), settings.seed, layers, packages)
    return yield* program((request) => InProcessRunner.run({ ...request, exclusiveStore: true, lease })).pipe(Effect.provide(withEvolution(host)))
  }
  // A PostgreSQL server: the same workflow on a runner of this process with its mailboxes in memory
  // (the server's cluster tables are its `spectral runner`s'); a scan left behind is resumed once its lease ran out.
  return yield* program((request) => InProcessRunner.runWithMailboxesInMemory({ ...request, exclusiveStore: false, lease }))
    .pipe(Effect.provide(withEvolution(hostLayer(settings.seed, layers, packages))))
})

main.pipe(
  // A plugin module that cannot be loaded (SPECTRAL_PLUGINS): one line naming it, exit 2, nothing run.
  Effect.catchTag("CliInputError", (error) =>
    Console.error(`spectral: ${error.file}: ${error.message}`).pipe(Effect.andThen(Effect.sync(() => process.exit(2))))),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
