/**
 * What makes a phase of a scan durable. In process (the default) it is the phase's saved output:
 * a scan resumed after a crash reads what its finished phases saved. Inside a workflow execution
 * (`workflow/ScanWorkflow.ts`) each phase is also an Activity of the execution, keyed by its
 * name, so the workflow engine records its result and a replay on another runner returns it
 * without running the phase again.
 */
import { Context, type Effect } from "effect"
import type { PhaseName, PhaseOutput } from "../contracts/index.ts"
import type { ScanFailed } from "./ScanFailed.ts"

export interface PhaseBoundaryShape {
  /** Run one phase's body (which saves its output and events at its end) as a durable step. */
  readonly run: <P extends PhaseName>(phase: P, body: Effect.Effect<PhaseOutput<P>, ScanFailed>) => Effect.Effect<PhaseOutput<P>, ScanFailed>
}

export const PhaseBoundary = Context.Reference<PhaseBoundaryShape>("@spectral/engine/pipeline/PhaseBoundary", {
  defaultValue: () => ({ run: (_phase, body) => body })
})
