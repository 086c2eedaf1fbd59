/**
 * Observe: the one synchronous call into the world (EvalSetProvider), then the team runs on every
 * stimulus in topological order, one ScanTrace per stimulus and epoch with its provenance, scored
 * by both authorities (Evaluate's scorers) so Calibrate and Diagnose can read scores. Partitions
 * working vs holdout from the EvalSet's two-layer holdout. In `blended` and `conformance_only` scans
 * the curated conformance samples join the stimuli (working layer only: they anchor convergence).
 *
 * The baseline runs also tell whether the model provider works: once more of them have failed for
 * infrastructure reasons (connection, 5xx, authentication, …) than the framework's
 * `verdict.maxInfraFailureRate` allows of all the runs planned, no further model call is started,
 * calls in flight are interrupted, and Observe fails with `ProviderUnavailable` carrying the
 * provider's error — a scan on a dead endpoint ends `failed` within a few calls, never as a
 * measurement. Nothing of a failed Observe is stored (a resumed scan measures afresh) — except, for
 * an eval set larger than one batch (`TRACE_BATCH` runs), the batches of traces already streamed to
 * storage before the provider was found failing (none is written after). Where the host measures in
 * chunks on other runners (`MeasurementDispatch`), the same check counts each chunk's failed runs
 * and sends no further chunk once it trips (chunks already out finish and keep their traces).
 *
 * Before the first call, the budget is checked against what measuring the eval set takes: one call
 * per agent and per judged answer, for every stimulus and epoch. A call limit that cannot cover it
 * is refused with `BudgetExhausted` naming the estimate, instead of spending the budget on a
 * measurement that could never finish.
 */
import { Context, Deferred, Effect, Layer, Schema } from "effect"
import { type EvalSet, EvalSet as EvalSetSchema, EvalSetProvider, type EvalSetUnavailable } from "../contracts/index.ts"
import { BudgetExhausted, BudgetLedger } from "../agents/BudgetLedger.ts"
import { AgentRunner, type TeamRunResult } from "../agents/AgentRunner.ts"
import { SampleRepo, ScanTraceRepo, TraceRepo } from "../ports/Repositories.ts"
import { conformanceStimuli } from "./ConformanceSamples.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { type ArmMeasurement, measureArmInto, type TraceSink } from "../measurement/Measurement.ts"
import { type ChunkGuard, MeasurementGuard } from "../measurement/MeasurementDispatch.ts"
import { BASELINE_ARM, type ScanContext } from "./ScanContext.ts"
import type { ObserveOutput } from "../contracts/PhaseOutputs.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { ObserveOutput }

export class EvalSetRejected extends Schema.TaggedError<EvalSetRejected>()("EvalSetRejected", {
  message: Schema.String
}) {}

/** The baseline runs failed for infrastructure reasons beyond what the framework allows. */
export class ProviderUnavailable extends Schema.TaggedError<ProviderUnavailable>()("ProviderUnavailable", {
  /** The provider's error, from the first run that failed. */
  providerError: Schema.String,
  failedRuns: Schema.Int,
  plannedRuns: Schema.Int,
  maxInfraFailureRate: Schema.Finite
}) {
  override get message(): string {
    return `${this.providerError} (the model provider failed on ${this.failedRuns} of ${this.plannedRuns} baseline runs, ` +
      `more than maxInfraFailureRate ${(this.maxInfraFailureRate * 100).toFixed(1)}% allows; no further model calls were made)`
  }
}

/**
 * How many traces Observe writes at a time while measuring: an eval set up to this size is written
 * once, after the provider check; a larger one streams its earlier batches as they are measured.
 */
export const TRACE_BATCH = 1000

/** A run the guard did not start (or interrupted) once the provider was known to be failing. */
const notRun: TeamRunResult = { runs: [], status: "infra_failure", outputs: {} }

/**
 * Counts the infrastructure failures of a measurement's runs and trips once they are certainly
 * beyond `maxRate` of `plannedRuns` (even if every other run succeeded): from then on, runs are
 * not started and runs in flight are interrupted.
 */
const makeInfraGuard = Effect.fnUntraced(function*(runner: AgentRunner["Service"], plannedRuns: number, maxRate: number) {
  const tripped = yield* Deferred.make<void>()
  let failed = 0
  let firstError: string | undefined
  /** Count `count` failed runs (the first error kept), tripping once they are beyond the rate. */
  const record = (count: number, error: string | undefined): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (count === 0) return Effect.void
      failed += count
      firstError ??= error
      return failed > maxRate * plannedRuns ? Effect.asVoid(Deferred.succeed(tripped, undefined)) : Effect.void
    })
  // Runs in flight when the guard trips are interrupted by `guarded` (one race for the whole
  // measurement, not one per run).
  const runTeam: AgentRunner["Service"]["runTeam"] = (request) =>
    Effect.gen(function*() {
      if (yield* Deferred.isDone(tripped)) return notRun
      const result = yield* runner.runTeam(request)
      if (result.status === "infra_failure") yield* record(1, result.runs.find((run) => run.status === "infra_failure")?.error)
      return result
    })
  return {
    runner: AgentRunner.of({ runTeam }),
    /** The same check for runs measured in chunks by other processes (`MeasurementDispatch`). */
    chunks: { tripped: Deferred.isDone(tripped), record } satisfies ChunkGuard,
    tripped: Deferred.isDone(tripped),
    /** The measurement, interrupted (runs and calls in flight with it) once the guard trips: then `undefined`. */
    guarded: <A, E, R>(measurement: Effect.Effect<A, E, R>): Effect.Effect<A | undefined, E, R> =>
      Effect.raceFirst(measurement, Effect.as(Deferred.await(tripped), undefined)),
    verdict: Effect.map(Deferred.isDone(tripped), (isTripped) =>
      isTripped
        ? new ProviderUnavailable({
          providerError: (firstError ?? "the model calls failed").replace(/\s*\n\s*/g, " ").trim(),
          failedRuns: failed,
          plannedRuns,
          maxInfraFailureRate: maxRate
        })
        : undefined)
  }
})

export class Observe extends Context.Service<Observe, {
  readonly run: (context: ScanContext) => Effect.Effect<ObserveOutput, EvalSetUnavailable | EvalSetRejected | ProviderUnavailable | BudgetExhausted | StorageError>
}>()("@spectral/engine/pipeline/Observe") {
  static readonly layer = Layer.effect(
    Observe,
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const traceRepo = yield* ScanTraceRepo
      const samples = yield* SampleRepo
      const rawTraces = yield* TraceRepo
      const services = yield* Effect.context<AgentRunner | WorldModelScorer | RubricScorer>()
      const ledger = yield* BudgetLedger
      const run = Effect.fn("Observe.run")(function*(context: ScanContext) {
        const { workspace, scan } = context
        const mode = scan.readiness?.mode ?? "synthetic_only"
        const request = {
          workspaceId: workspace.id,
          worldModelId: workspace.worldModelId,
          framework: workspace.framework,
          seed: scan.seed,
          size: workspace.framework.evalSetSize
        }
        // The world is another context: its EvalSet is decoded like any input from outside.
        const fromWorld = mode === "conformance_only"
          ? undefined
          : yield* Schema.decodeUnknownEffect(EvalSetSchema)(yield* provider.evalSet(request)).pipe(
            Effect.mapError((error) => new EvalSetRejected({ message: `the world's eval set is invalid: ${error.message}` }))
          )
        const conformance = mode === "synthetic_only"
          ? []
          : conformanceStimuli(
            yield* samples.samples(workspace.id),
            yield* rawTraces.list(workspace.id),
            fromWorld?.samples[0]?.dimensions ?? []
          )
        if (fromWorld === undefined && conformance.length === 0) {
          return yield* new EvalSetRejected({
            message: `no eval set from the world (${scan.readiness?.reason ?? "unavailable"}) and no curated sample with ground truth has a live trace to re-run`
          })
        }
        const evalSet: EvalSet = fromWorld === undefined
          ? {
            id: `conformance/${workspace.id}/seed-${scan.seed}`,
            samples: [...conformance],
            holdout: { heldOutSegments: [], randomShare: 0 },
            hyperparameterBounds: { temperature: { min: 0, max: 2 }, maxTokens: { min: 1, max: 1_000_000 } },
            attribution: {
              worldModelId: workspace.worldModelId,
              worldModelVersion: "unattributed",
              // Explicitly not a world's rule set: no eval set was available from the world.
              authority: { worldModelId: workspace.worldModelId, worldModelVersion: "unattributed", ruleSetHash: "none:conformance_only" },
              generatedAt: scan.createdAt,
              seed: scan.seed
            }
          }
          : { ...fromWorld, samples: [...fromWorld.samples, ...conformance] }
        const judged = workspace.framework.rubrics.some((rubric) => rubric.dimensions.length > 0) ? 1 : 0
        const runsPlanned = evalSet.samples.length * workspace.framework.epochs
        const callsPlanned = runsPlanned * (context.baseline.length + judged)
        const budget = yield* ledger.snapshot
        const callsLeft = budget.budget.maxCalls - budget.total.calls - budget.inFlight.calls
        if (callsPlanned > callsLeft) {
          return yield* new BudgetExhausted({
            phase: "observe",
            message: `the scan budget cannot cover the eval set: measuring ${evalSet.samples.length} stimuli × ${workspace.framework.epochs} epoch(s) ` +
              `takes about ${callsPlanned} model calls (${context.baseline.length} agent(s)${judged === 1 ? " and the judge" : ""} per run), ` +
              `but ${callsLeft} of maxCallsPerScan ${budget.budget.maxCalls} are left; raise economics.maxCallsPerScan or lower evalSetSize (nothing was called)`
          })
        }
        const guard = yield* makeInfraGuard(
          Context.get(services, AgentRunner),
          evalSet.samples.length * workspace.framework.epochs,
          workspace.framework.verdict.maxInfraFailureRate
        )
        // Traces and results go to storage in batches while the baseline is measured (a large eval
        // set's traces are never all held at once); the last, partial batch after the provider check.
        const sink: TraceSink = {
          batchSize: TRACE_BATCH,
          write: (traces, results) =>
            Effect.flatMap(guard.tripped, (isTripped) =>
              isTripped ? Effect.void : Effect.andThen(traceRepo.insertTraces(workspace.id, traces), traceRepo.insertResults(workspace.id, results)))
        }
        const measured = yield* guard.guarded(measureArmInto({
          workspaceId: workspace.id,
          scanId: scan.id,
          arm: BASELINE_ARM,
          agents: context.agents,
          team: context.baseline,
          samples: evalSet.samples,
          framework: workspace.framework,
          phase: "observe",
          finalAgentIds: context.finalAgentIds,
          concurrency: context.concurrency
        }, sink).pipe(Effect.provide(Context.add(services, AgentRunner, guard.runner)), Effect.provideService(MeasurementGuard, guard.chunks)))
        const unavailable = yield* guard.verdict
        if (unavailable !== undefined) return yield* unavailable
        if (measured === undefined) return yield* Effect.die("the baseline measurement was interrupted without the provider guard tripping")
        yield* traceRepo.insertTraces(workspace.id, measured.traces)
        yield* traceRepo.insertResults(workspace.id, measured.results)
        return { evalSet, baseline: measured.measurement } satisfies ObserveOutput
      })
      return Observe.of({ run })
    })
  )
}
