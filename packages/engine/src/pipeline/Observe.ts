/**
 * Observe: the one synchronous call into the world (EvalSetProvider), then the team runs on every
 * stimulus in topological order, one ScanTrace per stimulus and epoch with its provenance, scored
 * by both authorities (Evaluate's scorers) so Calibrate and Diagnose can read scores. Partitions
 * working vs holdout from the EvalSet's two-layer holdout.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { type EvalSet, EvalSet as EvalSetSchema, EvalSetProvider, type EvalSetUnavailable } from "../contracts/index.ts"
import type { BudgetExhausted } from "../agents/BudgetLedger.ts"
import { AgentRunner } from "../agents/AgentRunner.ts"
import { ScanTraceRepo } from "../ports/Repositories.ts"
import type { StorageError } from "../ports/StorageError.ts"
import { RubricScorer } from "../scoring/RubricScorer.ts"
import { WorldModelScorer } from "../scoring/WorldModelScorer.ts"
import { type ArmMeasurement, measureArm } from "./Measurement.ts"
import { BASELINE_ARM, type ScanContext } from "./ScanContext.ts"

export interface ObserveOutput {
  readonly evalSet: EvalSet
  readonly baseline: ArmMeasurement
}

export class EvalSetRejected extends Schema.TaggedError<EvalSetRejected>()("EvalSetRejected", {
  message: Schema.String
}) {}

export class Observe extends Context.Service<Observe, {
  readonly run: (context: ScanContext) => Effect.Effect<ObserveOutput, EvalSetUnavailable | EvalSetRejected | BudgetExhausted | StorageError>
}>()("@spectral/engine/pipeline/Observe") {
  static readonly layer = Layer.effect(
    Observe,
    Effect.gen(function*() {
      const provider = yield* EvalSetProvider
      const traceRepo = yield* ScanTraceRepo
      const services = yield* Effect.context<AgentRunner | WorldModelScorer | RubricScorer>()
      const run = Effect.fn("Observe.run")(function*(context: ScanContext) {
        const { workspace, scan } = context
        const raw = yield* provider.evalSet({
          workspaceId: workspace.id,
          worldModelId: workspace.worldModelId,
          framework: workspace.framework,
          seed: scan.seed,
          size: workspace.framework.evalSetSize
        })
        // The world is another context: its EvalSet is decoded like any input from outside.
        const evalSet = yield* Schema.decodeUnknownEffect(EvalSetSchema)(raw).pipe(
          Effect.mapError((error) => new EvalSetRejected({ message: `the world's eval set is invalid: ${error.message}` }))
        )
        const measured = yield* measureArm({
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
        }).pipe(Effect.provide(services))
        yield* traceRepo.insertTraces(workspace.id, measured.traces)
        yield* traceRepo.insertResults(workspace.id, measured.results)
        return { evalSet, baseline: measured.measurement } satisfies ObserveOutput
      })
      return Observe.of({ run })
    })
  )
}
