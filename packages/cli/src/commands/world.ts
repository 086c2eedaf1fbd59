/**
 * `spectral world decide --world ID[@VERSION] --input FILE [--output FILE]`: apply a published
 * world model to structured cases and print each expected outcome with the rules that fired.
 * FILE is `{"cases":[{"id":"…","facts":{…}}]}`; a case that is not `{"id","facts"}` or whose facts
 * are invalid yields `{"id":"…","error":"…"}` and the other cases still run (`runCases`).
 * `spectral world card --world ID[@VERSION] [--format markdown|html|json]` renders the
 * WorldModelCard. `spectral world candidates [--world ID] [--status S] [--json]` first catches the
 * durable evolution loop up from the events stored on the configured store (each workspace's
 * failure-cluster and divergence events after the last one consumed; an event is never counted
 * twice), then lists the rule candidates: kind, target rule, pattern, workspaces, frequency and
 * effect, status. `candidates dismiss ID` and `candidates publish ID --definition FILE` record the
 * decision with who and when (`--actor`, default `$USER`). The rules live in `@spectral/worlds`;
 * this module only wires files and the store.
 */
import { Config, Console, Effect, Layer, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { Storage } from "@spectral/adapters"
import { FailureClusterRepo, ScanRepo, ScanTraceRepo } from "@spectral/engine"
import type { SpectralEvent } from "@spectral/engine/contracts"
import {
  buildEvalSet,
  CandidateStatus,
  catchUpEvolution,
  type CatchUpReport,
  type ClusterMember,
  decideCase,
  type EvolutionCandidate,
  parseWorldRef,
  renderWorldModelCard,
  stimulusFacts,
  WorldEvolution,
  type WorldNotFound,
  worldModelCardFor,
  WorldRegistry
} from "@spectral/worlds"
import { reportFailures } from "../CliFailure.ts"
import { CliInputError, readJsonFile, runCases, writeJsonOutput, writeTextOutput } from "../CliIo.ts"

const DecideCase = Schema.Struct({ id: Schema.String, facts: Schema.Unknown })

/** `--world` names no published world (or version): a CliInputError listing the ones there are. */
const unknownWorld = (ref: string) => (error: WorldNotFound) =>
  Effect.gen(function*() {
    const worlds = yield* (yield* WorldRegistry).list
    const known = worlds.map((w) => `${w.worldModelId}@${w.versions.join("|")}`).join(", ")
    const what = error.version === null ? `no world model "${error.worldModelId}"` : `world model "${error.worldModelId}" has no version ${error.version}`
    return yield* new CliInputError({ file: "--world", message: `${ref}: ${what} (published: ${known})` })
  })

const resolveWorld = Effect.fnUntraced(function*(ref: string) {
  const registry = yield* WorldRegistry
  const { worldModelId, version } = parseWorldRef(ref)
  return yield* (version === null ? registry.current(worldModelId) : registry.version(worldModelId, version)).pipe(
    Effect.catchTag("WorldNotFound", unknownWorld(ref))
  )
})

/** Decide every case of a parsed input file against a world (`id@version`); a bad case is reported, not fatal. */
export const decideFile = Effect.fnUntraced(function*(world: string, document: unknown, source?: string) {
  const model = yield* resolveWorld(world)
  return yield* runCases(DecideCase, (c: typeof DecideCase.Type) => Effect.succeed(decideCase(model, c.id, c.facts)))(document, source)
})

const decide = Command.make(
  "decide",
  {
    world: Flag.String("world").pipe(Flag.withDescription("World model as id@version (version optional: the current one), e.g. us-federal-individual-tax@0.1.0")),
    input: Flag.String("input").pipe(Flag.withDescription("JSON file {\"cases\":[{\"id\":\"…\",\"facts\":{…}}]}")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the JSON result here instead of stdout"), Flag.optional)
  },
  Effect.fn("world.decide")(function*({ world, input, output }) {
    const document = yield* readJsonFile(input)
    const result = yield* decideFile(world, document, input).pipe(Effect.provide(WorldRegistry.layer))
    yield* writeJsonOutput(output, result)
  }, reportFailures)
).pipe(
  Command.withDescription("Apply a world model's rules to structured facts and print the expected outcomes with the rules that fired"),
  Command.withExamples([
    { command: "spectral world decide --world us-federal-individual-tax@0.1.0 --input cases.json", description: "Filing status and 2025 standard deduction for each case" }
  ])
)

const card = Command.make(
  "card",
  {
    world: Flag.String("world").pipe(Flag.withDescription("World model as id@version (version optional: the current one)")),
    format: Flag.Literals("format", ["markdown", "html", "json"]).pipe(Flag.withDefault("markdown")),
    output: Flag.String("output").pipe(Flag.withDescription("Write the card here instead of stdout"), Flag.optional)
  },
  Effect.fn("world.card")(function*({ world, format, output }) {
    const { worldModelId, version } = parseWorldRef(world)
    const worldCard = yield* worldModelCardFor(worldModelId, version).pipe(
      Effect.catchTag("WorldNotFound", unknownWorld(world)),
      Effect.provide(WorldRegistry.layer)
    )
    yield* writeTextOutput(output, renderWorldModelCard(worldCard, format))
  }, reportFailures)
).pipe(Command.withDescription("Render the WorldModelCard (rules by tier, version, authority ref, coverage by segment)"))

/**
 * A failure-cluster event's member stimuli with their facts, found from the workspace's own stored
 * scan: the cluster's member traces, their stimulus ids, and the eval set regenerated from the
 * scan's record (world version, seed, size). Anything missing: undefined (the event's segment
 * counts are used instead).
 */
const resolveMembers = (event: Extract<SpectralEvent, { type: "platform.failure_cluster.detected" }>) =>
  Effect.gen(function*() {
    const { workspaceId, scanId, clusterId, authority } = event.payload
    const cluster = (yield* (yield* FailureClusterRepo).list(workspaceId, scanId)).find((c) => c.id === clusterId)
    const record = (yield* (yield* ScanRepo).get(workspaceId, scanId)).record
    if (cluster === undefined || record === undefined) return undefined
    const registry = yield* WorldRegistry
    const model = yield* registry.version(authority.worldModelId, record.evalSet.worldModelVersion ?? authority.worldModelVersion)
    const generator = yield* registry.generator(authority.worldModelId)
    const evalSet = buildEvalSet(model, generator, { seed: record.evalSet.generatorSeed, size: record.evalSet.size, generatedAt: "" })
    const samples = new Map(evalSet.samples.map((s) => [s.id, s]))
    const traces = new Map((yield* (yield* ScanTraceRepo).traces(workspaceId, scanId)).map((t) => [t.id, t]))
    const members: Array<ClusterMember> = []
    for (const traceId of cluster.memberTraceIds) {
      const sample = samples.get(traces.get(traceId)?.stimulusId ?? "")
      if (sample !== undefined) members.push({ segment: sample.segment, facts: stimulusFacts(sample.intermediate) })
    }
    return members.length > 0 ? members : undefined
  }).pipe(Effect.catchCause(() => Effect.succeed(undefined)))

/** The store the environment selects, the package's registry and the loop on them (the bus does not poll). */
const evolutionLayer = WorldEvolution.layerNoDeps().pipe(
  Layer.provideMerge(WorldRegistry.layer),
  Layer.provideMerge(Storage.layerConfigWithEvents({ events: { poll: false } }))
)

const actorFlag = Flag.String("actor").pipe(Flag.optional, Flag.withDescription("Who decides (recorded with the time); default $USER"))
const actorOf = (actor: Option.Option<string>) =>
  Option.match(actor, {
    onSome: Effect.succeed,
    onNone: () => Config.String("USER").pipe(Config.withDefault("operator"))
  })

const candidateMissing = (error: { readonly candidateId: string }) =>
  new CliInputError({ file: "candidate", message: `no rule candidate "${error.candidateId}" (list them with spectral world candidates)` })

const pct = (x: number) => `${(100 * x).toFixed(0)}%`

/** One candidate as a person reads it. */
export const describeCandidate = (candidate: EvolutionCandidate): string => {
  const what = candidate.kind === "rule_revision"
    ? candidate.targetRuleId === null ? "revision (rules the divergent stimuli exercise)" : `revision of rule ${candidate.targetRuleId}`
    : "new rule"
  const last = candidate.history.at(-1)
  const status = candidate.status === "proposed" ? "proposed" : `${candidate.status} by ${last?.actor ?? "?"} at ${last?.at ?? "?"}${candidate.publishedVersion === null ? "" : ` as ${candidate.publishedVersion}`}`
  const e = candidate.evidence
  const scope = candidate.scopeCoverage === null ? "" : candidate.kind === "rule_revision" ? `; ${pct(candidate.scopeCoverage)} of members inside the rule's scope` : ""
  return [
    `[${status}] ${what} — ${candidate.worldModelId}`,
    `  pattern: ${candidate.patternLabel}`,
    `  evidence: ${e.workspaces} workspaces, ${e.events} events, ${e.members} ${candidate.source === "failure_cluster" ? "members" : "stimuli"}; frequency ${e.frequencyPct.toFixed(1)}%, effect ${e.effectSize.toFixed(1)} points${scope}`,
    `  id: ${candidate.id}`
  ].join("\n")
}

const caughtUpLine = (report: CatchUpReport) =>
  `caught up: ${report.consumed} new event(s) from ${report.workspaces} workspace(s), ${report.duplicates} already counted` +
  (report.malformed.length === 0 ? "" : `; ${report.malformed.length} stored event(s) do not decode and were skipped: ${report.malformed.map((m) => `${m.workspaceId}/${m.eventId}`).join(", ")}`)

const dismiss = Command.make(
  "dismiss",
  {
    id: Argument.String("id").pipe(Argument.withDescription("The candidate's id (from spectral world candidates)")),
    actor: actorFlag,
    note: Flag.String("note").pipe(Flag.optional, Flag.withDescription("Why (kept in the candidate's history)"))
  },
  Effect.fn("world.candidates.dismiss")(function*({ id, actor, note }) {
    const who = yield* actorOf(actor)
    const dismissed = yield* Effect.gen(function*() {
      return yield* (yield* WorldEvolution).dismissCandidate(id, { actor: who, ...(Option.isSome(note) ? { note: note.value } : {}) })
    }).pipe(Effect.catchTag("CandidateNotFound", (e) => Effect.fail(candidateMissing(e))), Effect.provide(evolutionLayer))
    yield* Console.log(describeCandidate(dismissed))
  }, reportFailures)
).pipe(Command.withDescription("Dismiss a proposed rule candidate (recorded with who and when)"))

const publish = Command.make(
  "publish",
  {
    id: Argument.String("id").pipe(Argument.withDescription("The candidate's id")),
    definition: Flag.String("definition").pipe(Flag.withDescription("The new world-model version (JSON) written from the candidate")),
    actor: actorFlag
  },
  Effect.fn("world.candidates.publish")(function*({ id, definition, actor }) {
    const who = yield* actorOf(actor)
    const document = yield* readJsonFile(definition)
    const outcome = yield* Effect.gen(function*() {
      const evolution = yield* WorldEvolution
      const published = yield* evolution.publishCandidate(id, document, { actor: who })
      return { published, candidate: (yield* evolution.candidates()).find((c) => c.id === id)! }
    }).pipe(
      Effect.catchTag("CandidateNotFound", (e) => Effect.fail(candidateMissing(e))),
      Effect.catchTag("WorldModelInvalid", (e) => Effect.fail(new CliInputError({ file: definition, message: `${e.ruleId === null ? "" : `rule ${e.ruleId}: `}${e.message} (${e.field})` }))),
      Effect.provide(evolutionLayer)
    )
    yield* Console.log(describeCandidate(outcome.candidate))
    yield* Console.log(`validated ${outcome.published.authority.worldModelId}@${outcome.published.authority.worldModelVersion} (${outcome.published.authority.ruleSetHash}); ship it with the package to make it current`)
  }, reportFailures)
).pipe(Command.withDescription("Mark a proposed candidate published with the world version written from it (the definition is validated first)"))

const candidates = Command.make(
  "candidates",
  {
    world: Flag.String("world").pipe(Flag.optional, Flag.withDescription("Only this world model's candidates")),
    status: Flag.Literals("status", CandidateStatus.literals).pipe(Flag.optional, Flag.withDescription("Only candidates with this status")),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print {caughtUp, candidates} as JSON"))
  },
  Effect.fn("world.candidates")(function*({ world, status, json }) {
    const { report, listed } = yield* Effect.gen(function*() {
      const report = yield* catchUpEvolution({ resolveMembers })
      const listed = yield* (yield* WorldEvolution).candidates({ worldModelId: Option.getOrUndefined(world), status: Option.getOrUndefined(status) })
      return { report, listed }
    }).pipe(
      Effect.catchTag("EvolutionWorldUnknown", (e) => Effect.fail(new CliInputError({ file: "--world", message: e.message }))),
      Effect.provide(evolutionLayer)
    )
    if (json) {
      const { decisions: _decisions, ...caughtUp } = report
      yield* Console.log(JSON.stringify({ caughtUp, candidates: listed }))
      return
    }
    yield* Console.log(caughtUpLine(report))
    yield* Console.log(listed.length === 0 ? "no rule candidates" : `${listed.length} rule candidate(s):\n\n${listed.map(describeCandidate).join("\n\n")}`)
  }, reportFailures)
).pipe(
  Command.withDescription("The world-evolution loop's rule candidates (caught up from the stored events first)"),
  Command.withSubcommands([dismiss, publish]),
  Command.withExamples([
    { command: "spectral world candidates --status proposed", description: "What the loop proposes, with its evidence" },
    { command: "spectral world candidates dismiss us-federal-individual-tax/cluster/… --note \"judge drift\"", description: "Dismiss one, recorded with who and when" }
  ])
)

export const worldCommand = Command.make("world").pipe(
  Command.withDescription("World models: apply rules to worked cases, render their cards, review the evolution loop's rule candidates"),
  Command.withSubcommands([decide, card, candidates])
)
