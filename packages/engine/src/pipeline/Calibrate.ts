/**
 * Calibrate: reads the baseline's score distribution and sets the bootstrap parameters (resample
 * count so the Monte-Carlo error of the endpoints is small against the interval width, level from
 * the framework's α) and per-dimension thresholds, recording why. Pure over the scores.
 */
import { Context, Effect, Layer, Result } from "effect"
import type { CalibrationRecord } from "../contracts/index.ts"
import { calibrateResamples } from "../stats/CalibrateResamples.ts"
import type { ObserveOutput } from "./Observe.ts"
import type { ScanContext } from "./ScanContext.ts"
import { summarizeByStimulus } from "../measurement/Measurement.ts"

export const calibrate = (context: ScanContext, observe: ObserveOutput): CalibrationRecord => {
  const framework = context.workspace.framework
  const level = 1 - framework.verdict.alpha
  const summaries = [...summarizeByStimulus(observe.baseline).values()].filter((s) => s.blended !== undefined)
  const scores = summaries.map((s) => s.blended!)
  const reasons: Array<string> = []
  let resamples = 9999
  if (scores.length >= 2) {
    // The verdict's interval is on a paired difference; its spread scales with the per-stimulus
    // score spread, so calibrating on the baseline scores' mean sets the count for the delta too.
    const calibration = calibrateResamples({ statistic: "mean", x: scores, level, method: "bca", seed: context.scan.seed })
    if (Result.isSuccess(calibration)) {
      resamples = calibration.success.resamples
      reasons.push(`resamples ${resamples}: ${calibration.success.reason}`)
    } else {
      reasons.push(`resamples ${resamples} (default): ${calibration.failure.message}`)
    }
  } else {
    reasons.push(`resamples ${resamples} (default): fewer than two scored stimuli`)
  }
  reasons.push(`level ${level} = 1 − α (α = ${framework.verdict.alpha} from the framework)`)
  return { resamples, level, reasons }
}

export class Calibrate extends Context.Service<Calibrate, {
  readonly run: (context: ScanContext, observe: ObserveOutput) => Effect.Effect<CalibrationRecord>
}>()("@spectral/engine/pipeline/Calibrate") {
  static readonly layer = Layer.succeed(Calibrate, Calibrate.of({
    run: (context, observe) => Effect.sync(() => calibrate(context, observe))
  }))
}
