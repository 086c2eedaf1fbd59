/**
 * Measuring one configuration (an "arm": the baseline or a candidate) on a set of stimuli: run the
 * team on every stimulus and epoch, score each trace with both authorities, and keep the per-trace
 * rows (ScanTrace, EvalResult) plus a compact per-stimulus summary the later phases read. With a
 * `TraceSink` (`measureArmInto`) the rows go to storage in batches while the arm is measured, and
 * only the runs (what the gates and later phases read) stay in memory.
 *
 * The two authorities stay apart: world-model dimensions and rubric dimensions are separate maps
 * even where their ids collide. A judge that fails (call error, refusal, unparseable answer) is a
 * judge failure with its reason: the run has no rubric score and no blended score (never the
 * world-model score passed off as a blend), and is quarantined like an infrastructure failure.
 */
import { Effect, Semaphore } from "effect"
import type { AgentVersion, EvalResult, EvalSetSample, EvaluationFramework, RunStatus, ScanTrace, WorkspaceAgent } from "../contracts/index.ts"
import { AgentRunner, type TeamMember } from "../agents/AgentRunner.ts"
import type { BudgetExhausted } from "../agents/BudgetLedger.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { ScanProgress } from "../ports/ScanProgress.ts"
import type { ModelPhase } from "../ports/ModelCall.ts"
import type { StorageError } from "../ports/StorageError.ts"
import type { RunMeasurement, ArmMeasurement } from "../contracts/PhaseOutputs.ts"
import type { MeasureRequest } from "./MeasureRequest.ts"
import { MeasurementDispatch, type MeasurementDispatcher, MeasurementGuard } from "./MeasurementDispatch.ts"
import { hashHex } from "../random/Deterministic.ts"
/** Declared once, as Schemas, in `contracts/PhaseOutputs.ts` (what a phase boundary persists). */
export type { RunMeasurement, ArmMeasurement, MeasureRequest }

/**
 * Where a measurement's traces and results go while it runs, instead of all at the end: in batches
 * of exactly `batchSize` stimuli-epochs, in the order of the jobs (so storage lists them as an
 * unstreamed measurement would), each batch written once the runs before it are done. What is left
 * (less than a batch) comes back in `MeasuredArm` for the caller to write when it decides to. A
 * scan of a large eval set then holds about one batch (plus the runs in flight) of traces, not all.
 */
export interface TraceSink<E = StorageError> {
  readonly batchSize: number
  readonly write: (traces: ReadonlyArray<ScanTrace>, results: ReadonlyArray<EvalResult>) => Effect.Effect<void, E>
}


export interface MeasuredArm {
  readonly measurement: ArmMeasurement
  /** The arm's traces not written to a sink (`measureArmInto`: the last, partial batch), in job order. */
  readonly traces: ReadonlyArray<ScanTrace>
  /** The arm's eval results not written to a sink (`measureArmInto`: the last, partial batch), in job order. */
  readonly results: ReadonlyArray<EvalResult>
}

const holdoutOf = (sample: EvalSetSample) => (sample.holdoutLayer === "working" ? "working" : "holdout") as "working" | "holdout"

/** Measure an arm; its traces and results are returned with the measurement. */
export const measureArm = (request: MeasureRequest): Effect.Effect<MeasuredArm, BudgetExhausted, AgentRunner | WorldModelScorer | RubricScorer> =>
  measureWith<never>(request, undefined)

/**
 * Measure an arm, streaming its traces and results to `sink` in batches as they are measured — or,
 * where the host spreads measurements (`MeasurementDispatch`) and there are more stimuli than a
 * chunk, in chunks measured by other processes, which write their traces and results themselves.
 */
export const measureArmInto = <E>(
  request: MeasureRequest,
  sink: TraceSink<E>
): Effect.Effect<MeasuredArm, BudgetExhausted | E | StorageError, AgentRunner | WorldModelScorer | RubricScorer> =>
  Effect.flatMap(Effect.service(MeasurementDispatch), (dispatch): Effect.Effect<MeasuredArm, BudgetExhausted | E | StorageError, AgentRunner | WorldModelScorer | RubricScorer> =>
    dispatch !== undefined && request.samples.length > dispatch.chunkSize ? measureChunked(request, dispatch) : measureWith(request, sink))

const measureWith = <E>(
  request: MeasureRequest,
  sink: TraceSink<E> | undefined
): Effect.Effect<MeasuredArm, BudgetExhausted | E, AgentRunner | WorldModelScorer | RubricScorer> =>
  Effect.gen(function*() {
    const runner = yield* AgentRunner
    const worldScorer = yield* WorldModelScorer
    const rubricScorer = yield* RubricScorer
    const members: Array<TeamMember> = request.agents.map((agent) => ({
      agent,
      version: request.team.find((v) => v.agentId === agent.id)!
    }))
    const epochs = request.framework.epochs
    const jobs: Array<{ readonly sample: EvalSetSample; readonly epoch: number }> = []
    for (const sample of request.samples) for (let epoch = 0; epoch < epochs; epoch++) jobs.push({ sample, epoch })
    const w = request.framework.objective.worldModelWeight
    const progress = yield* ScanProgress
    let done = 0
    const measuredOne = progress.enabled
      ? Effect.suspend(() =>
        progress.report({ _tag: "StimuliMeasured", scanId: request.scanId, phase: request.phase, arm: request.arm, done: ++done, total: jobs.length })
      )
      : Effect.void
    const hasRubric = request.framework.rubrics.some((rubric) => rubric.dimensions.length > 0)
    // Streaming: each job's trace and results wait here until every job before it is done, then go
    // out in batches of `sink.batchSize` (one writer at a time, so batches keep the jobs' order).
    const pending: Array<{ readonly trace: ScanTrace; readonly results: ReadonlyArray<EvalResult> } | undefined> = []
    let written = 0
    // Every job before `ready` is done (it only moves forward, so finding it is linear overall).
    let ready = 0
    const writer = yield* Semaphore.make(1)
    const flush = writer.withPermits(1)(Effect.suspend(() => {
      if (sink === undefined || ready - written < sink.batchSize) return Effect.void
      // Whole batches only: the rest waits for the runs after it (or goes back to the caller).
      const end = written + Math.floor((ready - written) / sink.batchSize) * sink.batchSize
      const traces: Array<ScanTrace> = []
      const results: Array<EvalResult> = []
      for (let i = written; i < end; i++) {
        const queued = pending[i]!
        traces.push(queued.trace)
        for (const result of queued.results) results.push(result)
        pending[i] = undefined
      }
      written = end
      return sink.write(traces, results)
    }))
    /** A job's outcome: with a sink, its trace and results are queued for writing and only the run is kept. */
    const kept = (
      index: number,
      outcome: { readonly trace: ScanTrace; readonly results: ReadonlyArray<EvalResult>; readonly run: RunMeasurement }
    ): Effect.Effect<{ readonly trace?: ScanTrace; readonly results?: ReadonlyArray<EvalResult>; readonly run: RunMeasurement }, E> => {
      // Called where the job yields it, so the queue is updated then, without a suspended effect.
      if (sink === undefined) return Effect.succeed(outcome)
      pending[index] = { trace: outcome.trace, results: outcome.results }
      while (ready < jobs.length && pending[ready] !== undefined) ready++
      return ready - written < sink.batchSize ? Effect.succeed({ run: outcome.run }) : Effect.as(flush, { run: outcome.run })
    }
    const measured = yield* Effect.forEach(jobs, ({ sample, epoch }, index) =>
      Effect.gen(function*() {
        const traceId = `${request.scanId}:${request.arm}:${sample.id}:${epoch}`
        const result = yield* runner.runTeam({
          workspaceId: request.workspaceId,
          team: members,
          stimulus: sample.input,
          epoch,
          phase: request.phase
        })
        const finalOutput = request.finalAgentIds.length === 1
          ? result.outputs[request.finalAgentIds[0]!]
          : result.status === "ok"
          ? Object.assign({}, ...request.finalAgentIds.map((id) => result.outputs[id] ?? {}))
          : undefined
        let costUsd = 0
        let latencyMs = 0
        for (const run of result.runs) {
          costUsd += run.costUsd
          latencyMs += run.latencyMs
        }
        const trace: ScanTrace = {
          id: traceId,
          scanId: request.scanId,
          workspaceId: request.workspaceId,
          stimulusId: sample.id,
          arm: request.arm,
          epoch,
          provenance: sample.provenance,
          partition: holdoutOf(sample),
          holdoutLayer: sample.holdoutLayer,
          segment: sample.segment,
          stimulusWeight: sample.stimulusWeight,
          input: sample.input,
          runs: result.runs,
          status: result.status,
          ...(finalOutput !== undefined && result.status === "ok" ? { finalOutput } : {}),
          latencyMs,
          costUsd
        }
        const truncatedAgents: Array<string> = []
        let parseFailed: string | undefined
        for (const r of result.runs) {
          if (r.error?.includes("truncated")) truncatedAgents.push(r.agentId)
          if (parseFailed === undefined && r.status === "parse_failure") parseFailed = r.agentId
        }
        const base = {
          stimulusId: sample.id,
          epoch,
          traceId,
          status: result.status,
          agentOutputs: result.outputs,
          truncatedAgents,
          ...(parseFailed !== undefined ? { parseFailedAgent: parseFailed } : {}),
          costUsd,
          latencyMs
        }
        if (result.status === "infra_failure") {
          return yield* kept(index, { trace, results: [] as Array<EvalResult>, run: { ...base, passed: false, agents: {}, worldDimensions: {}, rubricDimensions: {} } satisfies RunMeasurement })
        }
        const world = yield* worldScorer.score(sample, result.status === "ok" ? finalOutput : undefined, result.outputs, request.agents, request.finalAgentIds)
        const judged = result.status === "ok" && finalOutput !== undefined && hasRubric
        const rubric = judged
          ? yield* rubricScorer.score(request.workspaceId, request.framework, sample.input, finalOutput, epoch, request.phase)
          : undefined
        const rubricScore = rubric?._tag === "Scored" ? rubric.score : undefined
        const judgeFailure = rubric?._tag === "Unscored" ? rubric.reason : undefined
        // No rubric in the framework (or no answer to judge): the world model alone. A judge that
        // failed: no blend at all, rather than the world-model score dressed up as one.
        const blended = judgeFailure !== undefined ? undefined : rubricScore === undefined ? world.score : w * world.score + (1 - w) * rubricScore
        const results: Array<EvalResult> = [{
          id: `${traceId}:world_model`,
          scanId: request.scanId,
          workspaceId: request.workspaceId,
          traceId,
          authority: "world_model",
          score: world.score,
          passed: world.score >= request.framework.passThreshold,
          dimensions: world.dimensions,
          agents: world.agents
        }]
        if (rubric?._tag === "Scored") {
          results.push({
            id: `${traceId}:rubric`,
            scanId: request.scanId,
            workspaceId: request.workspaceId,
            traceId,
            authority: "rubric",
            score: rubric.score,
            passed: rubric.score >= request.framework.passThreshold,
            dimensions: rubric.dimensions,
            agents: {},
            explanation: rubric.explanation
          })
        }
        const run: RunMeasurement = {
          ...base,
          worldModel: world.score,
          ...(rubricScore !== undefined ? { rubric: rubricScore } : {}),
          ...(blended !== undefined ? { blended } : {}),
          ...(judgeFailure !== undefined ? { judgeFailure } : {}),
          passed: blended !== undefined && blended >= request.framework.passThreshold,
          agents: world.agents,
          worldDimensions: world.dimensions,
          rubricDimensions: rubric?._tag === "Scored" ? rubric.dimensions : {},
          ...(rubric?._tag === "Scored" ? { explanation: rubric.explanation } : {}),
          ...(finalOutput !== undefined ? { output: JSON.stringify(finalOutput) } : {})
        }
        if (progress.enabled) yield* measuredOne
        return yield* kept(index, { trace: judgeFailure === undefined ? trace : { ...trace, judgeFailure }, results, run })
      }), {
        // Model calls are bounded by the scan's permits (ModelCallPermits); keeping more stimuli in
        // progress than permits lets one stimulus's next agent run while another waits on its model.
        concurrency: request.concurrency * 4
      })
    return {
      measurement: { arm: request.arm, runs: measured.map((m) => m.run) },
      traces: sink === undefined ? measured.flatMap((m) => (m.trace === undefined ? [] : [m.trace])) : pending.slice(written).map((p) => p!.trace),
      results: sink === undefined ? measured.flatMap((m) => m.results ?? []) : pending.slice(written).flatMap((p) => p!.results)
    }
  })

/**
 * A measurement in chunks measured elsewhere (`MeasurementDispatch`): each chunk's process writes
 * its traces and results, so only the runs come back (in the stimuli's order). Once the provider
 * check (`MeasurementGuard`) has tripped, no further chunk is sent.
 */
const measureChunked = (
  request: MeasureRequest,
  dispatch: MeasurementDispatcher
): Effect.Effect<MeasuredArm, BudgetExhausted | StorageError> =>
  Effect.gen(function*() {
    const guard = yield* MeasurementGuard
    const progress = yield* ScanProgress
    const chunks: Array<ReadonlyArray<EvalSetSample>> = []
    for (let i = 0; i < request.samples.length; i += dispatch.chunkSize) chunks.push(request.samples.slice(i, i + dispatch.chunkSize))
    const total = request.samples.length * request.framework.epochs
    let done = 0
    const measured = yield* Effect.forEach(chunks, (samples, index) =>
      Effect.gen(function*() {
        if (guard !== undefined && (yield* guard.tripped)) return []
        const outcome = yield* dispatch.measure({
          key: `${request.phase}/${request.arm}/${index}/${hashHex(samples.map((sample) => sample.id).join("\n"))}`,
          request: { ...request, samples }
        })
        if (guard !== undefined) yield* guard.record(outcome.runs.filter((run) => run.status === "infra_failure").length, outcome.infraError)
        done += outcome.runs.length
        if (progress.enabled) {
          yield* progress.report({ _tag: "StimuliMeasured", scanId: request.scanId, phase: request.phase, arm: request.arm, done, total })
        }
        return outcome.runs
      }), { concurrency: dispatch.inFlight })
    return { measurement: { arm: request.arm, runs: measured.flat() }, traces: [], results: [] }
  })

/** A stimulus's status: its runs' (RunStatus), or `judge_failure` when the judge failed on every run the team answered. */
export type StimulusStatus = RunStatus | "judge_failure"

/** Per-stimulus averages over epochs (intervals resample stimuli, never runs). */
export interface StimulusSummary {
  readonly stimulusId: string
  readonly status: StimulusStatus
  readonly blended?: number
  readonly worldModel?: number
  readonly rubric?: number
  readonly runs: ReadonlyArray<number>
  readonly agents: Readonly<Record<string, number>>
  readonly worldDimensions: Readonly<Record<string, number>>
  readonly rubricDimensions: Readonly<Record<string, number>>
  /** Runs of this stimulus the judge failed on (each is left out of the blended and rubric means). */
  readonly judgeFailures: number
  readonly costUsd: number
  readonly latencyMs: number
  readonly output?: string
}

const meanOf = (values: ReadonlyArray<number>) => values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length

/**
 * Each key's mean over the records that have it, keys in order of first appearance (a loop without
 * intermediate arrays: it runs for three maps of every stimulus of every arm measured).
 */
const meanRecord = (records: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> => {
  const keys = new Set<string>()
  for (const record of records) for (const key of Object.keys(record)) keys.add(key)
  const out: Record<string, number> = {}
  for (const key of keys) {
    let sum = 0
    let n = 0
    for (const record of records) {
      if (!(key in record)) continue
      sum += record[key]!
      n++
    }
    const mean = sum / n
    if (key === "__proto__") Object.defineProperty(out, key, { value: mean, enumerable: true, writable: true, configurable: true })
    else out[key] = mean
  }
  return out
}

const runsIndex = new WeakMap<ReadonlyArray<RunMeasurement>, ReadonlyMap<string, ReadonlyArray<RunMeasurement>>>()

/**
 * The runs of each stimulus, in order: built once per runs array (a measurement's runs are never
 * mutated after it is built) and shared by every reader, so no phase scans all runs per stimulus.
 */
export const runsByStimulus = (runs: ReadonlyArray<RunMeasurement>): ReadonlyMap<string, ReadonlyArray<RunMeasurement>> => {
  let index = runsIndex.get(runs)
  if (index === undefined) {
    const groups = new Map<string, Array<RunMeasurement>>()
    for (const run of runs) {
      const group = groups.get(run.stimulusId)
      if (group === undefined) groups.set(run.stimulusId, [run])
      else group.push(run)
    }
    index = groups
    runsIndex.set(runs, index)
  }
  return index
}

const blendedIndex = new WeakMap<ReadonlyArray<RunMeasurement>, ReadonlyMap<string, number | undefined>>()

/**
 * Each stimulus's mean blended score over its runs that have one (undefined when none has): the
 * `blended` of its `summarizeByStimulus` summary, without building the rest of the summary (a
 * tournament compares every candidate's measurement this way). Memoized per runs array.
 */
export const blendedByStimulus = (runs: ReadonlyArray<RunMeasurement>): ReadonlyMap<string, number | undefined> => {
  const cached = blendedIndex.get(runs)
  if (cached !== undefined) return cached
  const out = new Map<string, number | undefined>()
  for (const [stimulusId, group] of runsByStimulus(runs)) {
    let sum = 0
    let n = 0
    for (const run of group) {
      if (run.status === "infra_failure" || run.blended === undefined) continue
      sum += run.blended
      n++
    }
    out.set(stimulusId, n === 0 ? undefined : sum / n)
  }
  blendedIndex.set(runs, out)
  return out
}

const summaries = new WeakMap<ReadonlyArray<RunMeasurement>, ReadonlyMap<string, StimulusSummary>>()

/** Per-stimulus summaries of a measurement, computed once per runs array (memoized). */
export const summarizeByStimulus = (measurement: ArmMeasurement): ReadonlyMap<string, StimulusSummary> => {
  const cached = summaries.get(measurement.runs)
  if (cached !== undefined) return cached
  const out = summarize(measurement)
  summaries.set(measurement.runs, out)
  return out
}

const summarize = (measurement: ArmMeasurement): ReadonlyMap<string, StimulusSummary> => {
  const groups = runsByStimulus(measurement.runs)
  const out = new Map<string, StimulusSummary>()
  for (const [stimulusId, runs] of groups) {
    const scored = runs.filter((r) => r.status !== "infra_failure")
    // Runs with a blended score: the judge's failures are quarantined, never counted as a score.
    const blendedRuns = scored.filter((r) => r.blended !== undefined)
    const judgeFailures = scored.filter((r) => r.judgeFailure !== undefined).length
    const status: StimulusStatus = scored.length === 0
      ? "infra_failure"
      : blendedRuns.length === 0 && judgeFailures > 0
      ? "judge_failure"
      : scored.some((r) => r.status === "ok")
      ? "ok"
      : "parse_failure"
    const blended = meanOf(blendedRuns.map((r) => r.blended!))
    const worldModel = meanOf(scored.filter((r) => r.worldModel !== undefined).map((r) => r.worldModel!))
    const rubric = meanOf(scored.filter((r) => r.rubric !== undefined).map((r) => r.rubric!))
    out.set(stimulusId, {
      stimulusId,
      status,
      ...(blended !== undefined ? { blended } : {}),
      ...(worldModel !== undefined ? { worldModel } : {}),
      ...(rubric !== undefined ? { rubric } : {}),
      runs: blendedRuns.map((r) => r.blended!),
      agents: meanRecord(scored.map((r) => r.agents)),
      worldDimensions: meanRecord(scored.map((r) => r.worldDimensions)),
      rubricDimensions: meanRecord(scored.map((r) => r.rubricDimensions)),
      judgeFailures,
      costUsd: meanOf(runs.map((r) => r.costUsd)) ?? 0,
      latencyMs: meanOf(runs.map((r) => r.latencyMs)) ?? 0,
      ...(runs[0]?.output !== undefined ? { output: runs[0].output } : {})
    })
  }
  return out
}
