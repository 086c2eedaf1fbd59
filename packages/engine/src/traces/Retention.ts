/**
 * Retention of raw traces. Policies with defaults (traces 90 days, every other entity 365 days).
 * A trace's clock starts when it is ingested; deriving a sample from it restarts the clock at
 * derivation (seeds: the clock begins once the trace is processed and any derivation is complete),
 * so a trace nobody curates is still purged when its window from ingest ends. States of a trace:
 *   ACTIVE      content stored, no active sample references it
 *   REFERENCED  content stored, at least one active sample references it
 *   ORPHANED    its retention window has passed: the content is waiting for the sweep to purge it
 *               (it stays here while a legal hold covers it)
 *   TOMBSTONED  content purged; only this record (ids and times) remains
 * `planSweep` is the pure state machine; `runRetentionSweep` applies it through the ports: it purges
 * expired trace content, turns each affected sample's reference into a tombstone (the sample becomes
 * historical and keeps its metadata and evaluation history), archives samples past their own policy,
 * and records every transition as an audited event. A sample with ground truth may have run as a
 * conformance stimulus (its id is the stimulus id), so scans hold copies of the trace's content: the
 * sweep redacts that stimulus from every scan trace, eval result explanation and saved phase output
 * (scores, verdicts and ids stay) before the trace itself is purged. Events carry deterministic ids
 * and are written before the change they describe, so a sweep interrupted part way re-plans and
 * finishes idempotently.
 */
import { Effect } from "effect"
import { nowIso } from "../clock/Time.ts"
import type { Sample } from "../contracts/index.ts"
import {
  type LegalHold,
  type RetentionEvent,
  type RetentionPolicy,
  type RetentionRecord,
  RetentionRepo,
  type RetentionState,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo
} from "../ports/Repositories.ts"

export const DefaultRetentionDays: Readonly<Record<string, number>> = { trace: 90 }
export const DefaultPolicyDays = 365

const DayMs = 86_400_000

export const retentionDays = (policies: ReadonlyArray<RetentionPolicy>, entity: string): number =>
  policies.find((p) => p.entity === entity)?.days ?? DefaultRetentionDays[entity] ?? DefaultPolicyDays

export const isHeld = (holds: ReadonlyArray<LegalHold>, traceId: string): LegalHold | undefined => holdIndex(holds)(traceId)

/**
 * The first hold in force (in the holds' order) over a trace, looked up in constant time: a hold
 * may name thousands of traces, and a sweep asks for every record.
 */
const holdIndex = (holds: ReadonlyArray<LegalHold>): (traceId: string) => LegalHold | undefined => {
  const byTrace = new Map<string, number>()
  let everything = Infinity
  holds.forEach((hold, index) => {
    if (hold.releasedAt !== undefined) return
    for (const id of hold.traceIds) {
      if (id === "*") everything = Math.min(everything, index)
      else if (!byTrace.has(id)) byTrace.set(id, index)
    }
  })
  return (traceId) => holds[Math.min(everything, byTrace.get(traceId) ?? Infinity)]
}

/** What replaces a purged trace's content wherever a scan copied it (names the trace, never its content). */
export const redactionMarker = (traceId: string): string => `[redacted: trace ${traceId} purged by retention]`

/** When the trace's retention window ends: its days after sample derivation, or after ingest when never curated. */
export const expiresAt = (record: RetentionRecord, policies: ReadonlyArray<RetentionPolicy>): number =>
  Date.parse(record.derivationCompletedAt ?? record.ingestedAt) + retentionDays(policies, "trace") * DayMs

export interface SweepInput {
  readonly workspaceId: string
  readonly now: string
  readonly records: ReadonlyArray<RetentionRecord>
  readonly samples: ReadonlyArray<Sample>
  readonly policies: ReadonlyArray<RetentionPolicy>
  readonly holds: ReadonlyArray<LegalHold>
  readonly actor: string
}

export interface SweepPlan {
  /** OTLP trace ids whose stored content must be removed. */
  readonly purge: ReadonlyArray<string>
  readonly records: ReadonlyArray<RetentionRecord>
  readonly samples: ReadonlyArray<Sample>
  readonly events: ReadonlyArray<RetentionEvent>
  /** Expired traces a legal hold keeps (id -> hold id). */
  readonly held: ReadonlyArray<{ readonly traceId: string; readonly holdId: string }>
  /** Samples (= conformance stimulus ids) whose copies in scan artifacts are redacted, with their purged trace. */
  readonly redact: ReadonlyArray<{ readonly sampleId: string; readonly traceId: string }>
}

export const planSweep = (input: SweepInput): SweepPlan => {
  const nowMs = Date.parse(input.now)
  const events: Array<RetentionEvent> = []
  const transition = (kind: RetentionEvent["subjectKind"], subject: string, from: string | null, to: string, reason: string) =>
    events.push({
      // Terminal transitions happen once per subject, so their id is stable across a re-planned sweep;
      // ACTIVE <-> REFERENCED can flip back and forth, so those ids carry the time.
      id: to === "ACTIVE" || to === "REFERENCED"
        ? `${kind}:${subject}:${from ?? "none"}->${to}@${input.now}`
        : `${kind}:${subject}:${from ?? "none"}->${to}`,
      workspaceId: input.workspaceId,
      subjectKind: kind,
      subject,
      from,
      to,
      reason,
      actor: input.actor,
      at: input.now
    })
  // Samples past their own policy are archived first (they stop referencing their trace actively).
  const sampleDays = retentionDays(input.policies, "sample")
  const samples = new Map(input.samples.map((s) => [s.id, s]))
  const changedSamples = new Set<string>()
  for (const sample of input.samples) {
    if (sample.state === "archived") continue
    if (Date.parse(sample.createdAt) + sampleDays * DayMs <= nowMs) {
      samples.set(sample.id, { ...sample, state: "archived" })
      changedSamples.add(sample.id)
      transition("sample", sample.id, sample.state, "archived", `sample retention of ${sampleDays} days passed`)
    }
  }
  const referencing = new Map<string, Array<string>>()
  // Every sample that ever referenced a trace, tombstoned ones included: a sweep interrupted after
  // tombstoning a sample but before purging its trace must still redact that sample's scan copies.
  const everReferencing = new Map<string, Array<string>>()
  for (const sample of samples.values()) {
    const ever = everReferencing.get(sample.traceRef.traceId) ?? []
    ever.push(sample.id)
    everReferencing.set(sample.traceRef.traceId, ever)
    if (sample.traceRef._tag !== "Live") continue
    const list = referencing.get(sample.traceRef.traceId) ?? []
    list.push(sample.id)
    referencing.set(sample.traceRef.traceId, list)
  }
  const traceDays = retentionDays(input.policies, "trace")
  const holdOf = holdIndex(input.holds)
  const purge: Array<string> = []
  const records: Array<RetentionRecord> = []
  const held: Array<{ traceId: string; holdId: string }> = []
  const redact: Array<{ sampleId: string; traceId: string }> = []
  for (const record of input.records) {
    if (record.state === "TOMBSTONED") continue
    const refs = referencing.get(record.traceId) ?? []
    const referenced = refs.some((id) => samples.get(id)!.state === "active")
    const end = expiresAt(record, input.policies)
    let state: RetentionState = record.state
    const move = (to: RetentionState, reason: string) => {
      if (state === to) return
      transition("trace", record.traceId, state, to, reason)
      state = to
    }
    // Not `nowMs < end`: a time that does not parse (NaN) keeps the trace rather than purging it.
    if (!(nowMs >= end)) {
      move(referenced ? "REFERENCED" : "ACTIVE", referenced ? "referenced by an active sample" : "no active sample references it")
      if (state !== record.state) records.push({ ...record, state })
      continue
    }
    move("ORPHANED", `trace retention of ${traceDays} days passed`)
    const hold = holdOf(record.traceId)
    if (hold !== undefined) {
      held.push({ traceId: record.traceId, holdId: hold.id })
      if (state !== record.state) records.push({ ...record, state })
      continue
    }
    move("TOMBSTONED", "content purged by the retention sweep")
    purge.push(record.traceId)
    records.push({ ...record, state, tombstonedAt: input.now })
    for (const id of refs) {
      const sample = samples.get(id)!
      const next: Sample = {
        ...sample,
        state: sample.state === "active" ? "historical" : sample.state,
        traceRef: { _tag: "Tombstone", traceId: record.traceId, removedAt: input.now, reason: `trace retention of ${traceDays} days passed` }
      }
      samples.set(id, next)
      changedSamples.add(id)
      transition("sample", id, sample.state, next.state === sample.state ? `${next.state}+tombstone` : next.state, `trace ${record.traceId} purged; reference is now a tombstone`)
    }
    for (const id of everReferencing.get(record.traceId) ?? []) {
      redact.push({ sampleId: id, traceId: record.traceId })
      transition("sample", id, "scan copies", "redacted", `content of trace ${record.traceId} redacted from scan traces, eval results and phase outputs of stimulus ${id}`)
    }
  }
  return {
    purge,
    records,
    samples: [...changedSamples].map((id) => samples.get(id)!),
    events,
    held,
    redact
  }
}

export interface SweepReport {
  readonly purgedTraces: number
  readonly purgedSpans: number
  readonly tombstonedSamples: number
  /** Scan artifacts whose copy of purged content was replaced by the redaction marker. */
  readonly redacted: { readonly scanTraces: number; readonly evalResults: number; readonly phaseOutputs: number }
  readonly transitions: number
  readonly held: ReadonlyArray<{ readonly traceId: string; readonly holdId: string }>
}

/** One retention sweep of a workspace, at `Clock`'s time. */
export const runRetentionSweep = Effect.fn("Retention.runRetentionSweep")(function*(workspaceId: string, actor = "retention-sweep") {
  const repo = yield* RetentionRepo
  const sampleRepo = yield* SampleRepo
  const scanRepo = yield* ScanRepo
  const scanTraceRepo = yield* ScanTraceRepo
  const now = yield* nowIso
  const plan = planSweep({
    workspaceId,
    now,
    records: yield* repo.records(workspaceId),
    samples: yield* sampleRepo.samples(workspaceId),
    policies: yield* repo.policies(workspaceId),
    holds: yield* repo.holds(workspaceId),
    actor
  })
  if (plan.events.length > 0) yield* repo.appendEvents(workspaceId, plan.events)
  // Samples first: a sample never points at content that is gone without saying so.
  if (plan.samples.length > 0) yield* sampleRepo.upsertSamples(workspaceId, plan.samples)
  // Scan copies next, while the trace record is not yet TOMBSTONED: an interrupted sweep re-plans them.
  const redacted = { scanTraces: 0, evalResults: 0, phaseOutputs: 0 }
  for (const { sampleId, traceId } of plan.redact) {
    const marker = redactionMarker(traceId)
    const rows = yield* scanTraceRepo.redactStimulus(workspaceId, sampleId, marker)
    redacted.scanTraces += rows.scanTraces
    redacted.evalResults += rows.evalResults
    redacted.phaseOutputs += yield* scanRepo.redactPhaseOutputs(workspaceId, sampleId, marker)
  }
  const purgedSpans = plan.purge.length > 0 ? yield* repo.purgeTraces(workspaceId, plan.purge) : 0
  if (plan.records.length > 0) yield* repo.saveRecords(workspaceId, plan.records)
  return {
    purgedTraces: plan.purge.length,
    purgedSpans,
    tombstonedSamples: plan.samples.filter((s) => s.traceRef._tag === "Tombstone").length,
    redacted,
    transitions: plan.events.length,
    held: plan.held
  } satisfies SweepReport
})

/** Place a legal hold (audited); traces it covers are never purged while it is in force. */
export const placeLegalHold = Effect.fn("Retention.placeLegalHold")(function*(
  hold: Omit<LegalHold, "placedAt" | "releasedAt">,
  actor: string
) {
  const repo = yield* RetentionRepo
  const now = yield* nowIso
  const placed: LegalHold = { ...hold, placedAt: now }
  yield* repo.appendEvents(hold.workspaceId, [{
    id: `legal_hold:${hold.id}:none->placed`,
    workspaceId: hold.workspaceId,
    subjectKind: "legal_hold",
    subject: hold.id,
    from: null,
    to: "placed",
    reason: hold.reason,
    actor,
    at: now
  }])
  yield* repo.saveHold(placed)
  return placed
})

export const releaseLegalHold = Effect.fn("Retention.releaseLegalHold")(function*(workspaceId: string, holdId: string, actor: string) {
  const repo = yield* RetentionRepo
  const now = yield* nowIso
  const hold = (yield* repo.holds(workspaceId)).find((h) => h.id === holdId)
  if (hold === undefined || hold.releasedAt !== undefined) return
  yield* repo.appendEvents(workspaceId, [{
    id: `legal_hold:${holdId}:placed->released`,
    workspaceId,
    subjectKind: "legal_hold",
    subject: holdId,
    from: "placed",
    to: "released",
    reason: "released",
    actor,
    at: now
  }])
  yield* repo.saveHold({ ...hold, releasedAt: now })
})

/** Start tracking ingested traces as ACTIVE (idempotent; audited once per trace). */
export const trackIngested = Effect.fn("Retention.trackIngested")(function*(workspaceId: string, traceIds: ReadonlyArray<string>) {
  if (traceIds.length === 0) return
  const repo = yield* RetentionRepo
  const now = yield* nowIso
  const fresh = [...new Set(traceIds)]
  // Both writes are idempotent (events by id, records by trace id): a re-sent trace changes nothing.
  yield* repo.appendEvents(workspaceId, fresh.map((traceId) => ({
    id: `trace:${traceId}:none->ACTIVE`,
    workspaceId,
    subjectKind: "trace" as const,
    subject: traceId,
    from: null,
    to: "ACTIVE",
    reason: "ingested",
    actor: "ingest",
    at: now
  })))
  yield* repo.track(workspaceId, fresh.map((traceId) => ({ workspaceId, traceId, state: "ACTIVE" as const, ingestedAt: now })))
})
