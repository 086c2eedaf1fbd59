/**
 * Generic eval-set assembly: a world's `ScenarioGenerator` produces stimuli (text, ground truth,
 * intermediate facts, segment, stratification, weight); this module numbers them, assigns the
 * two-layer holdout (whole segments held out, then a random share of the rest) and wraps them
 * with the attribution envelope and hyperparameter bounds. Deterministic for a seed; the time
 * stamp is given by the caller (read from `Clock`), never taken here.
 */
import type { EvalSet, EvalSetSample, GroundTruthValue, HyperparameterBounds } from "@spectral/engine/contracts"
import { seededRandom } from "./SeededRandom.ts"
import type { PublishedWorldModel } from "./WorldModel.ts"

export interface GeneratedStimulus {
  readonly input: string
  readonly expected: Readonly<Record<string, GroundTruthValue>>
  readonly intermediate: Readonly<Record<string, Readonly<Record<string, GroundTruthValue>>>>
  readonly segment: string
  readonly stratification: Readonly<Record<string, string>>
  readonly stimulusWeight: number
  readonly provenance: "rule_grounded" | "exploratory_probe"
}

/** Produces natural-language stimuli for one world id from a published version of it. */
export interface ScenarioGenerator {
  readonly worldModelId: string
  /** Smallest and largest eval set it can produce. */
  readonly sizeRange: { readonly min: number; readonly max: number }
  readonly generate: (model: PublishedWorldModel, options: { readonly seed: number; readonly size: number }) => ReadonlyArray<GeneratedStimulus>
}

export interface HoldoutPolicy {
  /** Share of the segments held out whole (at least one when there are three or more segments). */
  readonly segmentShare: number
  /** Upper bound on the share of samples the held-out segments may take. */
  readonly maxSegmentSampleShare: number
  /** Share of the remaining samples held out at random. */
  readonly randomShare: number
}

export const defaultHoldoutPolicy: HoldoutPolicy = { segmentShare: 0.2, maxSegmentSampleShare: 0.3, randomShare: 0.2 }

export const defaultHyperparameterBounds: HyperparameterBounds = {
  temperature: { min: 0, max: 1.2 },
  maxTokens: { min: 64, max: 4096 }
}

export const hyperparameterBoundsOf = (model: PublishedWorldModel): HyperparameterBounds => {
  const invariant = model.definition.invariants.find((i) => i.kind === "hyperparameter_bounds")
  return invariant?.kind === "hyperparameter_bounds" ? invariant.bounds : defaultHyperparameterBounds
}

export interface BuildEvalSetOptions {
  readonly seed: number
  readonly size: number
  /** ISO-8601 time stamp, read from `Clock` by the caller. */
  readonly generatedAt: string
  readonly holdout?: HoldoutPolicy
}

/** Choose the held-out segments: a seeded shuffle, then as many as the policy allows. */
export const chooseHeldOutSegments = (
  counts: ReadonlyMap<string, number>,
  total: number,
  seed: number,
  policy: HoldoutPolicy
): ReadonlyArray<string> => {
  const segments = [...counts.keys()].sort()
  if (segments.length < 3) return []
  const rng = seededRandom(seed ^ 0x5e9)
  const wanted = Math.max(1, Math.floor(segments.length * policy.segmentShare))
  const chosen: Array<string> = []
  let taken = 0
  for (const segment of rng.shuffle(segments)) {
    if (chosen.length >= wanted) break
    const count = counts.get(segment) ?? 0
    if ((taken + count) / total > policy.maxSegmentSampleShare) continue
    chosen.push(segment)
    taken += count
  }
  return chosen.sort()
}

export const buildEvalSet = (model: PublishedWorldModel, generator: ScenarioGenerator, options: BuildEvalSetOptions): EvalSet => {
  const policy = options.holdout ?? defaultHoldoutPolicy
  const stimuli = generator.generate(model, { seed: options.seed, size: options.size })
  const counts = new Map<string, number>()
  for (const stimulus of stimuli) counts.set(stimulus.segment, (counts.get(stimulus.segment) ?? 0) + 1)
  const heldOutSegments = chooseHeldOutSegments(counts, stimuli.length, options.seed, policy)
  const held = new Set(heldOutSegments)
  const rest = stimuli.map((_, index) => index).filter((index) => !held.has(stimuli[index].segment))
  const randomCount = Math.min(Math.round(rest.length * policy.randomShare), Math.max(0, rest.length - 1))
  const randomHeld = new Set(seededRandom(options.seed ^ 0xa11).shuffle(rest).slice(0, randomCount))
  const { worldModelId, worldModelVersion } = model.authority
  const pad = String(stimuli.length).length
  const samples: Array<EvalSetSample> = stimuli.map((stimulus, index) => ({
    id: `${worldModelId}@${worldModelVersion}/s${options.seed}/${String(index).padStart(pad, "0")}`,
    input: stimulus.input,
    expected: { ...stimulus.expected },
    intermediate: Object.fromEntries(Object.entries(stimulus.intermediate).map(([k, v]) => [k, { ...v }])),
    dimensions: model.definition.dimensions,
    stimulusWeight: stimulus.stimulusWeight,
    segment: stimulus.segment,
    stratification: { ...stimulus.stratification },
    holdoutLayer: held.has(stimulus.segment) ? "segment_holdout" : randomHeld.has(index) ? "random_holdout" : "working",
    provenance: stimulus.provenance
  }))
  return {
    id: `evalset/${worldModelId}@${worldModelVersion}/seed-${options.seed}/n-${samples.length}`,
    samples,
    holdout: { heldOutSegments, randomShare: policy.randomShare },
    hyperparameterBounds: hyperparameterBoundsOf(model),
    attribution: {
      worldModelId,
      worldModelVersion,
      authority: model.authority,
      generatedAt: options.generatedAt,
      seed: options.seed
    }
  }
}
