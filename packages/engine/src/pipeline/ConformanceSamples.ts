/**
 * Curated conformance samples as stimuli: an active Sample with ground truth whose trace is still
 * live becomes an EvalSet sample with provenance `conformance_sample`. Its input is read from the
 * trace (the sample never copies it); it is always in the working layer, because conformance
 * samples are convergence anchors, never holdout. Samples whose trace was purged (historical) cannot
 * be re-executed and are skipped.
 */
import type { EvalSetSample, GroundTruthValue, Sample, ScoringDimension, Trace } from "../contracts/index.ts"

const isGroundTruthValue = (value: unknown): value is GroundTruthValue =>
  typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value)) ||
  (Array.isArray(value) && value.every((v) => typeof v === "string"))

/** The input a trace carried: the root span's input (the user's message to the team). */
export const stimulusOfTrace = (spans: ReadonlyArray<Trace>, traceId: string): string | undefined => {
  const group = spans.filter((s) => s.traceId === traceId)
  const ids = new Set(group.map((s) => s.spanId))
  const root = group.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId))
  return root?.input ?? group.find((s) => s.input !== undefined)?.input
}

export const conformanceStimuli = (
  samples: ReadonlyArray<Sample>,
  spans: ReadonlyArray<Trace>,
  /** Dimensions of the world's samples, reused for the fields the ground truth names. */
  worldDimensions: ReadonlyArray<ScoringDimension>
): ReadonlyArray<EvalSetSample> =>
  samples.flatMap((sample) => {
    if (sample.state !== "active" || sample.groundTruth === undefined || sample.traceRef._tag !== "Live") return []
    const input = stimulusOfTrace(spans, sample.traceRef.traceId)
    if (input === undefined) return []
    const expected = Object.fromEntries(Object.entries(sample.groundTruth).filter(([, v]) => isGroundTruthValue(v))) as Record<string, GroundTruthValue>
    const fields = Object.keys(expected)
    if (fields.length === 0) return []
    const known = worldDimensions.filter((d) => fields.includes(d.field))
    const dimensions: ReadonlyArray<ScoringDimension> = known.length > 0
      ? known
      : fields.map((field) => ({ id: field, field, comparison: typeof expected[field] === "number" ? "numeric_tolerance" as const : "exact" as const, weight: 1 }))
    return [{
      id: sample.id,
      input,
      expected,
      intermediate: {},
      dimensions: [...dimensions],
      stimulusWeight: 1,
      segment: sample.stratification["segment"] ?? "conformance",
      stratification: sample.stratification,
      holdoutLayer: "working",
      provenance: "conformance_sample"
    } satisfies EvalSetSample]
  })
