/**
 * Curation: Samples derived from stored traces (one per OTLP trace id) holding only the engine's
 * own analysis — structural metadata and stratification tags computed here, ground truth when the
 * host provides it — and a reference to the trace, never a copy of its content. Segment coverage
 * (a minimum of active samples per segment, flagging segments for refresh), versioned SampleSets
 * with a seeded, stratified working/holdout split, the readiness counts Preflight reports, and the
 * scheduled pass over incoming traffic (`curateIncoming`: fill each segment to a target, refresh
 * segments whose samples aged out, keep the pool in a new SampleSet version when it changed).
 */
import { Effect } from "effect"
import type { Sample, SampleSet, Trace } from "../contracts/index.ts"
import { nowIso } from "../clock/Time.ts"
import { type RetentionEvent, type RetentionRecord, RetentionRepo, SampleRepo, TraceRepo } from "../ports/Repositories.ts"
import { hashString } from "../random/Deterministic.ts"
import { assignAgents } from "./AgentInference.ts"
import { genAiView } from "./GenAiView.ts"

export const sampleIdOf = (traceId: string): string => `sample-${traceId}`

const band = (value: number, edges: ReadonlyArray<number>, names: ReadonlyArray<string>): string => {
  for (let i = 0; i < edges.length; i++) if (value < edges[i]!) return names[i]!
  return names[names.length - 1]!
}
const latencyBand = (ms: number) => band(ms, [1_000, 5_000, 30_000], ["lt1s", "1to5s", "5to30s", "gt30s"])
const tokenBand = (tokens: number) => band(tokens, [500, 2_000, 8_000], ["lt500", "500to2k", "2kto8k", "gt8k"])

export interface DeriveOptions {
  readonly workspaceId: string
  readonly createdAt: string
  /** The segment of a trace (default: its root agent). Receives only engine-computed metadata. */
  readonly segmentOf?: (metadata: Readonly<Record<string, string>>) => string
  /** Ground truth per OTLP trace id, when the host has it. */
  readonly groundTruth?: ReadonlyMap<string, Readonly<Record<string, unknown>>>
}

/** One sample per OTLP trace id among `spans` (spans of other traces are ignored by trace id). */
export const deriveSamples = (spans: ReadonlyArray<Trace>, options: DeriveOptions): ReadonlyArray<Sample> => {
  const agentOf = assignAgents(spans)
  const byTrace = new Map<string, Array<Trace>>()
  for (const span of spans) {
    let list = byTrace.get(span.traceId)
    if (list === undefined) byTrace.set(span.traceId, list = [])
    list.push(span)
  }
  const samples: Array<Sample> = []
  for (const [traceId, group] of byTrace) {
    const ids = new Set(group.map((s) => s.spanId))
    const root = group.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)) ?? group[0]!
    const agents = [...new Set(group.flatMap((s) => agentOf.get(s.id) ?? []))].sort()
    const rootAgent = agentOf.get(root.id) ?? agents[0] ?? "unattributed"
    let modelCalls = 0
    let errors = 0
    let tokens = 0
    const models = new Set<string>()
    let start = Infinity
    let end = -Infinity
    for (const span of group) {
      const view = genAiView(span)
      if (view.isModelCall) modelCalls++
      if (view.isError) errors++
      if (view.model !== undefined) models.add(view.model)
      tokens += (span.inputTokens ?? 0) + (span.outputTokens ?? 0)
      start = Math.min(start, Date.parse(span.startTime))
      end = Math.max(end, Date.parse(span.endTime))
    }
    const latency = Math.max(0, end - start)
    const structuralMetadata: Record<string, string> = {
      rootAgent,
      agents: agents.join(","),
      spanCount: String(group.length),
      modelCalls: String(modelCalls),
      errorSpans: String(errors),
      models: [...models].sort().join(","),
      latencyBand: latencyBand(latency),
      tokenBand: tokenBand(tokens)
    }
    const segment = options.segmentOf?.(structuralMetadata) ?? rootAgent
    const truth = options.groundTruth?.get(traceId)
    samples.push({
      id: sampleIdOf(traceId),
      workspaceId: options.workspaceId,
      state: "active",
      traceRef: { _tag: "Live", traceId },
      structuralMetadata,
      stratification: {
        segment,
        outcome: errors > 0 ? "error" : "ok",
        latencyBand: structuralMetadata.latencyBand!,
        shape: agents.length > 1 ? "multi_agent" : "single_agent"
      },
      ...(truth === undefined ? {} : { groundTruth: { ...truth } }),
      evaluationHistory: [],
      createdAt: options.createdAt
    })
  }
  return samples
}

export interface SegmentCoverage {
  readonly segment: string
  readonly active: number
  readonly historical: number
  readonly archived: number
  /** Fewer active samples than the minimum: refresh this segment from incoming traffic. */
  readonly needsRefresh: boolean
}

export const segmentCoverage = (samples: ReadonlyArray<Sample>, minActivePerSegment: number): ReadonlyArray<SegmentCoverage> => {
  const bySegment = new Map<string, { active: number; historical: number; archived: number }>()
  for (const sample of samples) {
    const segment = sample.stratification["segment"] ?? "unsegmented"
    const row = bySegment.get(segment) ?? { active: 0, historical: 0, archived: 0 }
    row[sample.state]++
    bySegment.set(segment, row)
  }
  return [...bySegment.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([segment, row]) => ({ segment, ...row, needsRefresh: row.active < minActivePerSegment }))
}

export interface SampleSetOptions {
  readonly id: string
  readonly workspaceId: string
  readonly version: number
  readonly createdAt: string
  /** Share of each segment held out (default 0.2); a segment of two or more keeps at least one holdout. */
  readonly holdoutFraction?: number
  readonly seed: number
}

/** A SampleSet over the active samples, split per segment so both sides cover every segment. */
export const buildSampleSet = (samples: ReadonlyArray<Sample>, options: SampleSetOptions): SampleSet => {
  const fraction = options.holdoutFraction ?? 0.2
  const bySegment = new Map<string, Array<Sample>>()
  for (const sample of samples) {
    if (sample.state !== "active") continue
    const segment = sample.stratification["segment"] ?? "unsegmented"
    let list = bySegment.get(segment)
    if (list === undefined) bySegment.set(segment, list = [])
    list.push(sample)
  }
  const working: Array<string> = []
  const holdout: Array<string> = []
  for (const segment of [...bySegment.keys()].sort()) {
    const ordered = bySegment.get(segment)!
      .map((s) => ({ id: s.id, key: hashString(`${options.seed}:${s.id}`) }))
      .sort((a, b) => a.key - b.key || a.id.localeCompare(b.id))
    const held = ordered.length < 2 ? 0 : Math.max(1, Math.round(ordered.length * fraction))
    ordered.forEach((s, i) => (i < held ? holdout : working).push(s.id))
  }
  return {
    id: options.id,
    workspaceId: options.workspaceId,
    version: options.version,
    working,
    holdout,
    createdAt: options.createdAt
  }
}

export type CurationMode = "synthetic_only" | "conformance_only" | "blended"

export interface CurationReadiness {
  readonly mode: CurationMode
  readonly activeSamples: number
  readonly historicalSamples: number
}

/** The scan mode the curated pool allows: samples and an eval set blend; samples alone are conformance only. */
export const curationReadiness = (samples: ReadonlyArray<Sample>, evalSetAvailable: boolean): CurationReadiness => {
  const activeSamples = samples.filter((s) => s.state === "active").length
  const historicalSamples = samples.filter((s) => s.state === "historical").length
  const mode: CurationMode = activeSamples === 0 ? "synthetic_only" : evalSetAvailable ? "blended" : "conformance_only"
  return { mode, activeSamples, historicalSamples }
}

/**
 * Store derived samples and mark sample derivation complete for their traces (the retention clock
 * restarts there), moving each trace to REFERENCED with an audited event. A trace already
 * tombstoned gets no sample.
 */
const storeDerived = Effect.fnUntraced(function*(workspaceId: string, derived: ReadonlyArray<Sample>, now: string, actor: string) {
  const sampleRepo = yield* SampleRepo
  const retention = yield* RetentionRepo
  const records = new Map((yield* retention.records(workspaceId)).map((r) => [r.traceId, r]))
  const kept = derived.filter((sample) => records.get(sample.traceRef.traceId)?.state !== "TOMBSTONED")
  if (kept.length > 0) yield* sampleRepo.upsertSamples(workspaceId, kept)
  const updated: Array<RetentionRecord> = []
  const events: Array<RetentionEvent> = []
  for (const sample of kept) {
    const traceId = sample.traceRef.traceId
    const record: RetentionRecord = records.get(traceId) ?? { workspaceId, traceId, state: "ACTIVE", ingestedAt: now }
    updated.push({ ...record, state: "REFERENCED", derivationCompletedAt: record.derivationCompletedAt ?? now })
    if (record.state !== "REFERENCED") {
      events.push({
        id: `trace:${traceId}:${record.state}->REFERENCED@${now}`,
        workspaceId,
        subjectKind: "trace",
        subject: traceId,
        from: record.state,
        to: "REFERENCED",
        reason: `sample ${sample.id} derived; retention clock restarted`,
        actor,
        at: now
      })
    }
  }
  if (events.length > 0) yield* retention.appendEvents(workspaceId, events)
  if (updated.length > 0) yield* retention.saveRecords(workspaceId, updated)
  return kept
})

/**
 * Derive samples for every stored trace that has none yet, store them, and mark sample derivation
 * complete for those traces (the retention clock restarts there), moving them ACTIVE -> REFERENCED
 * with an audited event. Returns the new samples.
 */
export const curateTraces = Effect.fn("Curation.curateTraces")(function*(
  workspaceId: string,
  options: Omit<DeriveOptions, "workspaceId" | "createdAt"> = {}
) {
  const traces = yield* TraceRepo
  const sampleRepo = yield* SampleRepo
  const now = yield* nowIso
  const spans = yield* traces.list(workspaceId)
  const existing = new Set((yield* sampleRepo.samples(workspaceId)).map((s) => s.id))
  const pending = spans.filter((s) => !existing.has(sampleIdOf(s.traceId)))
  return yield* storeDerived(workspaceId, deriveSamples(pending, { ...options, workspaceId, createdAt: now }), now, "curation")
})

export interface CurationPolicy extends Omit<DeriveOptions, "workspaceId" | "createdAt"> {
  /** A segment with fewer active samples than this is flagged for refresh (default 5). */
  readonly minActivePerSegment?: number
  /** Incoming traces fill each segment up to this many active samples (default 50); the rest are not curated. */
  readonly targetPerSegment?: number
  /** The versioned sample set the pool is kept in (default `curated`). */
  readonly sampleSetId?: string
  readonly holdoutFraction?: number
  /** Seed of the working/holdout split (default 1). */
  readonly seed?: number
}

export interface CurationRun {
  /** Samples derived from incoming traces by this run. */
  readonly derived: ReadonlyArray<Sample>
  /** Incoming traces left uncurated (their segment is full): their retention clock runs from ingest. */
  readonly skipped: number
  readonly coverage: ReadonlyArray<SegmentCoverage>
  /** Segments still below the minimum after this run: no incoming traffic could refill them. */
  readonly needsRefresh: ReadonlyArray<string>
  /** The sample set holding the active pool: a new version when the pool changed, else the current one. */
  readonly sampleSet: { readonly id: string; readonly version: number; readonly created: boolean } | null
}

const sameMembers = (set: SampleSet, ids: ReadonlySet<string>): boolean =>
  set.working.length + set.holdout.length === ids.size && [...set.working, ...set.holdout].every((id) => ids.has(id))

/**
 * One curation pass over incoming traffic (the scheduled lifecycle runs it): derive samples from
 * stored traces that have none, newest first, filling each segment up to `targetPerSegment`
 * active samples — so a segment whose samples aged into historical (their traces expired) is
 * refreshed from incoming traces — then keep the active pool in a versioned SampleSet: a new
 * version (the next integer) whenever its members changed. Traces past their window (ORPHANED,
 * TOMBSTONED) are not curated. Returns what it did and the coverage per segment.
 */
export const curateIncoming = Effect.fn("Curation.curateIncoming")(function*(workspaceId: string, policy: CurationPolicy = {}) {
  const minActive = policy.minActivePerSegment ?? 5
  const target = Math.max(minActive, policy.targetPerSegment ?? 50)
  const setId = policy.sampleSetId ?? "curated"
  const traces = yield* TraceRepo
  const sampleRepo = yield* SampleRepo
  const retention = yield* RetentionRepo
  const now = yield* nowIso
  const samples = yield* sampleRepo.samples(workspaceId)
  const existing = new Set(samples.map((s) => s.id))
  const records = new Map((yield* retention.records(workspaceId)).map((r) => [r.traceId, r]))
  const closed = (traceId: string) => {
    const state = records.get(traceId)?.state
    return state === "ORPHANED" || state === "TOMBSTONED"
  }
  const pending = (yield* traces.list(workspaceId)).filter((s) => !existing.has(sampleIdOf(s.traceId)) && !closed(s.traceId))
  const candidates = deriveSamples(pending, { ...policy, workspaceId, createdAt: now })
  const active = new Map<string, number>()
  for (const sample of samples) {
    if (sample.state !== "active") continue
    const segment = sample.stratification["segment"] ?? "unsegmented"
    active.set(segment, (active.get(segment) ?? 0) + 1)
  }
  const ingestedAt = (sample: Sample) => records.get(sample.traceRef.traceId)?.ingestedAt ?? ""
  const chosen: Array<Sample> = []
  for (const sample of [...candidates].sort((a, b) => ingestedAt(b).localeCompare(ingestedAt(a)) || a.id.localeCompare(b.id))) {
    const segment = sample.stratification["segment"] ?? "unsegmented"
    const count = active.get(segment) ?? 0
    if (count >= target) continue
    active.set(segment, count + 1)
    chosen.push(sample)
  }
  const derived = yield* storeDerived(workspaceId, chosen, now, "curation")
  const pool = new Map(samples.map((s) => [s.id, s]))
  for (const sample of derived) pool.set(sample.id, sample)
  const coverage = segmentCoverage([...pool.values()], minActive)
  const activeIds = new Set([...pool.values()].filter((s) => s.state === "active").map((s) => s.id))
  const versions = (yield* sampleRepo.sampleSets(workspaceId)).filter((set) => set.id === setId)
  const latest = versions.reduce<SampleSet | undefined>((best, set) => (best === undefined || set.version > best.version ? set : best), undefined)
  let sampleSet: CurationRun["sampleSet"] = latest === undefined ? null : { id: setId, version: latest.version, created: false }
  if (activeIds.size > 0 && (latest === undefined || !sameMembers(latest, activeIds))) {
    const version = (latest?.version ?? 0) + 1
    yield* sampleRepo.insertSampleSet(buildSampleSet([...pool.values()], {
      id: setId,
      workspaceId,
      version,
      createdAt: now,
      seed: policy.seed ?? 1,
      ...(policy.holdoutFraction === undefined ? {} : { holdoutFraction: policy.holdoutFraction })
    }))
    sampleSet = { id: setId, version, created: true }
  }
  return {
    derived,
    skipped: candidates.length - chosen.length,
    coverage,
    needsRefresh: coverage.filter((c) => c.needsRefresh).map((c) => c.segment),
    sampleSet
  } satisfies CurationRun
})
