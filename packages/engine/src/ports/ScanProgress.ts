/**
 * Where a running scan says how far it is: a phase started or finished, and stimuli measured out of
 * the arm's total (the baseline in Observe, each candidate in Optimize). A `Context.Reference` whose
 * default reports nothing; `spectral scan` provides one that draws a bar on a TTY and prints lines
 * otherwise, and a host can forward the events to its own UI.
 */
import { Context, Effect } from "effect"
import type { PhaseName } from "../contracts/index.ts"

export type ScanProgressEvent =
  | { readonly _tag: "PhaseStarted"; readonly scanId: string; readonly phase: PhaseName }
  | { readonly _tag: "PhaseFinished"; readonly scanId: string; readonly phase: PhaseName; readonly resumed: boolean }
  | {
    readonly _tag: "StimuliMeasured"
    readonly scanId: string
    /** The model phase the measurement belongs to (observe, optimize, …) and its arm. */
    readonly phase: string
    readonly arm: string
    readonly done: number
    readonly total: number
  }

export interface ScanProgressReporter {
  /** False for the default: measuring skips counting altogether. */
  readonly enabled: boolean
  readonly report: (event: ScanProgressEvent) => Effect.Effect<void>
}

export const ScanProgress = Context.Reference<ScanProgressReporter>("@spectral/engine/ports/ScanProgress", {
  defaultValue: () => ({ enabled: false, report: () => Effect.void })
})
