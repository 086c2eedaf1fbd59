/**
 * In-memory drivers for every repository port, partitioned by workspace. For tests and for hosts
 * that embed the engine without a database; `@spectral/adapters` has the SQL drivers.
 */
import { Effect, Layer, Option } from "effect"
import type {
  ChangeSet,
  ChangeSetAuditEntry,
  EvalResult,
  PhaseName,
  Sample,
  SampleSet,
  Scan,
  ScanHeader,
  ScanSummary,
  ScanTrace,
  TemplateProposal,
  Trace
} from "../contracts/index.ts"
import {
  ChangeSetRepo,
  FailureClusterRepo,
  type IngestKey,
  IngestKeyRepo,
  type WorkspaceSecretRecord,
  WorkspaceSecretRepo,
  type ApiKey,
  ApiKeyRepo,
  type LegalHold,
  redactEvalResult,
  redactStimulusContent,
  type RetentionEvent,
  type RetentionPolicy,
  type RetentionRecord,
  repositoriesContext,
  RetentionRepo,
  SampleRepo,
  leaseHeldBy,
  ScanRepo,
  scanTracePageProblem,
  ScanTraceRepo,
  TemplateProposalRepo,
  TraceRepo,
  WorkspaceRepo
} from "./Repositories.ts"
import { joinPhaseOutput, phaseOutputField, splitPhaseOutput, type StoredPhaseOutputChunk } from "./PhaseOutputParts.ts"
import { StorageError } from "./StorageError.ts"

/** A map per workspace; a row stored under one workspace is invisible under another. */
class Partitioned<V> {
  private readonly byWorkspace = new Map<string, Map<string, V>>()
  table(workspaceId: string): Map<string, V> {
    let table = this.byWorkspace.get(workspaceId)
    if (table === undefined) {
      table = new Map()
      this.byWorkspace.set(workspaceId, table)
    }
    return table
  }
  /** Workspaces with at least one row. */
  workspaces(): ReadonlyArray<string> {
    return [...this.byWorkspace.entries()].filter(([, table]) => table.size > 0).map(([workspaceId]) => workspaceId)
  }
}

const copy = <A>(value: A): A => structuredClone(value)

/** Replace a stored row only while its status is `expected` (NotFound without one, Conflict otherwise). */
const compareAndSet = <A extends { readonly id: string; readonly workspaceId: string; readonly status: string }>(
  store: Partitioned<A>,
  entity: string,
  row: A,
  expected: string
): Effect.Effect<void, StorageError> =>
  Effect.suspend(() => {
    const table = store.table(row.workspaceId)
    const stored = table.get(row.id)
    if (stored === undefined) return Effect.fail(StorageError.notFound(entity, row.id))
    if (stored.status !== expected) return Effect.fail(StorageError.conflict(entity, row.id, `status is ${stored.status}, expected ${expected}`))
    table.set(row.id, copy(row))
    return Effect.void
  })

/**
 * Scan traces and eval results are built once by the pipeline and never mutated (their types are
 * readonly all the way down): the store keeps and hands out the same values instead of deep-copying
 * them on every write and read, which was a large share of a scan's allocation.
 */
const shared = <A>(value: A): A => value

/** What `ScanRepo.listCompleted` keeps of a scan (a copy: the stored scan is never handed out). */
const scanHeader = (scan: Scan): ScanHeader => copy({
  id: scan.id,
  workspaceId: scan.workspaceId,
  state: scan.state,
  ...(scan.attribution === undefined ? {} : { attribution: scan.attribution }),
  ...(scan.verdict === undefined ? {} : { verdict: scan.verdict }),
  ...(scan.blendedScore === undefined ? {} : { blendedScore: scan.blendedScore }),
  createdAt: scan.createdAt,
  updatedAt: scan.updatedAt
})

/**
 * A batch must only hold rows of the workspace it is written under; otherwise nothing of it is
 * stored (as on SQL, where row-level security refuses such a row).
 */
const inWorkspace = <A extends { readonly workspaceId: string }>(
  entity: string,
  workspaceId: string,
  rows: ReadonlyArray<A>,
  write: () => void,
  idOf: (row: A) => string = (row) => (row as unknown as { readonly id: string }).id
): Effect.Effect<void, StorageError> =>
  Effect.suspend(() => {
    const stray = rows.find((row) => row.workspaceId !== workspaceId)
    if (stray !== undefined) {
      return Effect.fail(StorageError.refused(entity, idOf(stray), `belongs to workspace "${stray.workspaceId}", not "${workspaceId}"`))
    }
    write()
    return Effect.void
  })

/** Maps and sets as plain objects and arrays, so a dump serialises to JSON in full. */
const plain = (value: unknown): unknown =>
  value instanceof Map
    ? Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]))
    : value instanceof Set
    ? [...value].map(plain)
    : Array.isArray(value)
    ? value.map(plain)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
    : value

/** One phase output as the memory store keeps it: its row (each part replaced by its reference) and its parts' chunks. */
interface SavedPhaseOutput {
  readonly stored: unknown
  readonly chunks: ReadonlyArray<StoredPhaseOutputChunk>
}

export const make = Effect.sync(() => {
  const workspaces = new Partitioned<unknown>()
  const scans = new Partitioned<Scan>()
  /** By settings, then by scan id. */
  const summaries = new Partitioned<Map<string, ScanSummary>>()
  /** Per workspace and scan, each phase's saved output. */
  const phases = new Partitioned<Map<PhaseName, SavedPhaseOutput>>()
  const phaseValue = (phase: PhaseName, saved: SavedPhaseOutput) => joinPhaseOutput(phase, saved.stored, saved.chunks)
  const verdicts = new Partitioned<unknown>()
  const divergences = new Partitioned<unknown>()
  const traces = new Partitioned<ScanTrace>()
  /** Per workspace and scan: the scan's trace ids in insertion order, and where each id is in it (for `tracesPage`). */
  const traceOrder = new Partitioned<{ readonly ids: Array<string>; readonly position: Map<string, number> }>()
  const results = new Partitioned<EvalResult>()
  const clusters = new Partitioned<unknown>()
  const changeSets = new Partitioned<ChangeSet>()
  const audits = new Partitioned<Array<ChangeSetAuditEntry>>()
  const samples = new Partitioned<Sample>()
  const sampleSets = new Partitioned<SampleSet>()
  const rawTraces = new Partitioned<Trace>()
  const retentionRecords = new Partitioned<RetentionRecord>()
  const retentionEvents = new Partitioned<Array<RetentionEvent>>()
  const retentionEventIds = new Map<string, Set<string>>()
  const retentionPolicies = new Partitioned<RetentionPolicy>()
  const legalHolds = new Partitioned<LegalHold>()
  const ingestKeys = new Map<string, IngestKey>()
  const apiKeys = new Map<string, ApiKey>()
  const proposals = new Partitioned<TemplateProposal>()
  const secrets = new Partitioned<WorkspaceSecretRecord>()
  const stores: Record<string, Partitioned<unknown>> = {
    workspaces, scans, phases, verdicts, divergences, traces, results, clusters, changeSets, audits, samples, sampleSets,
    rawTraces, retentionRecords, retentionEvents, retentionPolicies, legalHolds, proposals, secrets, summaries
  } as never

  const get = <V>(store: Partitioned<V>, entity: string, workspaceId: string, id: string) =>
    Effect.suspend(() => {
      const value = store.table(workspaceId).get(id)
      return value === undefined ? Effect.fail(StorageError.notFound(entity, id)) : Effect.succeed(copy(value))
    })
  const byScan = <V extends { readonly scanId: string }>(store: Partitioned<V>, workspaceId: string, scanId: string) =>
    Effect.sync(() => [...store.table(workspaceId).values()].filter((row) => row.scanId === scanId).map(shared))

  return {
    workspace: WorkspaceRepo.of({
      upsert: (workspace) => Effect.sync(() => void workspaces.table(workspace.id).set(workspace.id, copy(workspace))),
      get: (workspaceId) => get(workspaces, "workspace", workspaceId, workspaceId) as never
    }),
    scan: ScanRepo.of({
      insert: (scan) =>
        Effect.suspend(() =>
          scans.table(scan.workspaceId).has(scan.id)
            ? Effect.fail(StorageError.conflict("scan", scan.id, "already exists"))
            : Effect.sync(() => void scans.table(scan.workspaceId).set(scan.id, copy(scan)))
        ),
      update: (scan) =>
        Effect.suspend(() =>
          scans.table(scan.workspaceId).has(scan.id)
            ? Effect.sync(() => void scans.table(scan.workspaceId).set(scan.id, copy(scan)))
            : Effect.fail(StorageError.notFound("scan", scan.id))
        ),
      updateHeld: (scan, holder) =>
        Effect.suspend(() => {
          const stored = scans.table(scan.workspaceId).get(scan.id)
          if (stored === undefined) return Effect.fail(StorageError.notFound("scan", scan.id))
          if (!leaseHeldBy(stored, holder)) return Effect.succeed(false)
          scans.table(scan.workspaceId).set(scan.id, copy(scan))
          return Effect.succeed(true)
        }),
      get: (workspaceId, scanId) => get(scans, "scan", workspaceId, scanId),
      list: (workspaceId) =>
        Effect.sync(() =>
          [...scans.table(workspaceId).values()].map(copy).sort((a, b) =>
            a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)
          )
        ),
      listCompleted: (workspaceId) =>
        Effect.sync(() =>
          [...scans.table(workspaceId).values()].filter((scan) => scan.state === "completed").map(scanHeader).sort((a, b) =>
            a.createdAt === b.createdAt ? b.id.localeCompare(a.id) : b.createdAt.localeCompare(a.createdAt)
          )
        ),
      summaries: (workspaceId, settings) =>
        Effect.sync(() => new Map([...(summaries.table(workspaceId).get(settings) ?? [])].map(([id, summary]) => [id, copy(summary)] as const))),
      saveSummaries: (workspaceId, settings, saved) =>
        inWorkspace("scan summary", workspaceId, saved, () => {
          const table = summaries.table(workspaceId)
          const kept = table.get(settings) ?? new Map<string, ScanSummary>()
          for (const summary of saved) if (!kept.has(summary.scanId)) kept.set(summary.scanId, copy(summary))
          table.set(settings, kept)
        }, (summary) => summary.scanId),
      savePhaseOutput: (workspaceId, scanId, phase, output) =>
        Effect.sync(() => {
          const table = phases.table(workspaceId)
          const outputs = table.get(scanId) ?? new Map<PhaseName, SavedPhaseOutput>()
          // By reference: a phase output is built once and never mutated (redaction replaces it). Its
          // parts are kept apart in chunks, as the SQL driver stores them; a rewrite replaces them all.
          const { parts, stored } = splitPhaseOutput(phase, output)
          outputs.set(phase, { stored, chunks: parts.flatMap(({ chunks, part }) => chunks.map((items, chunk) => ({ part, chunk, items }))) })
          table.set(scanId, outputs)
        }),
      phaseOutputs: (workspaceId, scanId) =>
        Effect.sync(() => new Map([...(phases.table(workspaceId).get(scanId) ?? [])].map(([phase, saved]) => [phase, phaseValue(phase, saved)] as const))),
      phaseOutputsOf: (workspaceId, phase) =>
        Effect.sync(() => {
          const found = new Map<string, unknown>()
          for (const [scanId, outputs] of phases.table(workspaceId)) {
            const saved = outputs.get(phase)
            if (saved !== undefined) found.set(scanId, phaseValue(phase, saved))
          }
          return found
        }),
      phaseOutputFieldOf: (workspaceId, phase, field) =>
        Effect.sync(() => {
          const found = new Map<string, unknown>()
          for (const [scanId, outputs] of phases.table(workspaceId)) {
            const saved = outputs.get(phase)
            if (saved !== undefined) found.set(scanId, phaseOutputField(phaseValue(phase, saved), field))
          }
          return found
        }),
      phaseOutput: (workspaceId, scanId, phase) =>
        Effect.sync(() => {
          const saved = phases.table(workspaceId).get(scanId)?.get(phase)
          return saved === undefined ? Option.none() : Option.some(phaseValue(phase, saved))
        }),
      redactPhaseOutputs: (workspaceId, stimulusId, marker) =>
        Effect.sync(() => {
          const redact = (value: unknown) => {
            const redacted = redactStimulusContent(value, stimulusId, marker)
            return JSON.stringify(redacted) === JSON.stringify(value) ? undefined : redacted
          }
          let changed = 0
          for (const outputs of phases.table(workspaceId).values()) {
            for (const [phase, saved] of outputs) {
              const stored = redact(saved.stored)
              let chunksChanged = false
              const chunks = saved.chunks.map((c) => {
                const items = redact(c.items)
                if (items === undefined || !Array.isArray(items)) return c
                chunksChanged = true
                return { ...c, items }
              })
              if (stored === undefined && !chunksChanged) continue
              outputs.set(phase, { stored: stored ?? saved.stored, chunks })
              changed++
            }
          }
          return changed
        }),
      saveVerdict: (verdict) => Effect.sync(() => void verdicts.table(verdict.workspaceId).set(verdict.scanId, copy(verdict))),
      verdict: (workspaceId, scanId) => get(verdicts, "verdict", workspaceId, scanId) as never,
      saveDivergence: (record) => Effect.sync(() => void divergences.table(record.workspaceId).set(record.scanId, copy(record))),
      divergence: (workspaceId, scanId) => get(divergences, "divergence", workspaceId, scanId) as never
    }),
    scanTrace: ScanTraceRepo.of({
      insertTraces: (workspaceId, rows) =>
        inWorkspace("scan trace", workspaceId, rows, () => {
          const table = traces.table(workspaceId)
          const orders = traceOrder.table(workspaceId)
          for (const row of rows) {
            if (table.has(row.id)) continue
            table.set(row.id, shared(row))
            let order = orders.get(row.scanId)
            if (order === undefined) orders.set(row.scanId, order = { ids: [], position: new Map() })
            order.position.set(row.id, order.ids.length)
            order.ids.push(row.id)
          }
        }),
      insertResults: (workspaceId, rows) =>
        inWorkspace("eval result", workspaceId, rows, () => {
          const table = results.table(workspaceId)
          for (const row of rows) if (!table.has(row.id)) table.set(row.id, shared(row))
        }),
      traces: (workspaceId, scanId) => byScan(traces, workspaceId, scanId),
      tracesPage: (workspaceId, scanId, page) =>
        Effect.suspend(() => {
          const problem = scanTracePageProblem(page)
          if (problem !== undefined) return Effect.fail(StorageError.refused("scan trace page", scanId, problem))
          const order = traceOrder.table(workspaceId).get(scanId)
          const after = page.after === undefined ? -1 : order?.position.get(page.after)
          if (after === undefined) return Effect.fail(StorageError.notFound("scan trace", page.after!))
          const table = traces.table(workspaceId)
          const out: Array<ScanTrace> = []
          const ids = order?.ids ?? []
          for (let i = after + 1; i < ids.length && out.length < page.limit; i++) {
            const row = table.get(ids[i]!)
            if (row !== undefined && row.arm === page.arm) out.push(shared(row))
          }
          return Effect.succeed(out)
        }),
      results: (workspaceId, scanId) => byScan(results, workspaceId, scanId),
      redactStimulus: (workspaceId, stimulusId, marker) =>
        Effect.sync(() => {
          const traceTable = traces.table(workspaceId)
          const traceIds = new Set<string>()
          let scanTraces = 0
          for (const [id, row] of traceTable) {
            if (row.stimulusId !== stimulusId) continue
            traceIds.add(id)
            const redacted = redactStimulusContent(row, stimulusId, marker) as ScanTrace
            if (JSON.stringify(redacted) === JSON.stringify(row)) continue
            traceTable.set(id, redacted)
            scanTraces++
          }
          const resultTable = results.table(workspaceId)
          let evalResults = 0
          for (const [id, row] of resultTable) {
            if (!traceIds.has(row.traceId)) continue
            const redacted = redactEvalResult(row, marker)
            if (redacted.explanation === row.explanation) continue
            resultTable.set(id, redacted)
            evalResults++
          }
          return { scanTraces, evalResults }
        })
    }),
    cluster: FailureClusterRepo.of({
      insert: (workspaceId, rows) =>
        inWorkspace("failure cluster", workspaceId, rows, () => {
          const table = clusters.table(workspaceId)
          for (const row of rows) if (!table.has(row.id)) table.set(row.id, copy(row))
        }),
      list: (workspaceId, scanId) => byScan(clusters as Partitioned<{ scanId: string }>, workspaceId, scanId) as never
    }),
    changeSet: ChangeSetRepo.of({
      insert: (changeSet) =>
        Effect.suspend(() => {
          const table = changeSets.table(changeSet.workspaceId)
          if (table.has(changeSet.id)) return Effect.fail(StorageError.conflict("change set", changeSet.id, "already exists"))
          if ([...table.values()].some((row) => row.version === changeSet.version)) {
            return Effect.fail(StorageError.conflict("change set", changeSet.id, `version ${changeSet.version} already exists`))
          }
          table.set(changeSet.id, copy(changeSet))
          return Effect.void
        }),
      update: (changeSet, expected) => compareAndSet(changeSets, "change set", changeSet, expected),
      get: (workspaceId, changeSetId) => get(changeSets, "change set", workspaceId, changeSetId),
      list: (workspaceId) => Effect.sync(() => [...changeSets.table(workspaceId).values()].map(copy).sort((a, b) => b.version - a.version)),
      appendAudit: (entry) =>
        Effect.sync(() => {
          // Append-only and idempotent on the entry id (a repeated id is ignored, as on SQL).
          const table = audits.table(entry.workspaceId)
          if ([...table.values()].some((list) => list.some((stored) => stored.id === entry.id))) return
          const list = table.get(entry.changeSetId) ?? []
          list.push(copy(entry))
          table.set(entry.changeSetId, list)
        }),
      audit: (workspaceId, changeSetId) => Effect.sync(() => (audits.table(workspaceId).get(changeSetId) ?? []).map(copy))
    }),
    sample: SampleRepo.of({
      upsertSamples: (workspaceId, rows) =>
        inWorkspace("sample", workspaceId, rows, () => {
          for (const row of rows) samples.table(workspaceId).set(row.id, copy(row))
        }),
      samples: (workspaceId) => Effect.sync(() => [...samples.table(workspaceId).values()].map(copy)),
      // Every version of a sample set is kept (a change set names the version it was measured on).
      insertSampleSet: (sampleSet) =>
        Effect.sync(() => void sampleSets.table(sampleSet.workspaceId).set(`${sampleSet.id}@${sampleSet.version}`, copy(sampleSet))),
      sampleSets: (workspaceId) => Effect.sync(() => [...sampleSets.table(workspaceId).values()].map(copy).sort((a, b) => b.version - a.version))
    }),
    trace: TraceRepo.of({
      append: (workspaceId, rows) =>
        Effect.suspend(() => {
          const stray = rows.find((row) => row.workspaceId !== workspaceId)
          if (stray !== undefined) {
            return Effect.fail(StorageError.refused("trace", stray.id, `belongs to workspace "${stray.workspaceId}", not "${workspaceId}"`))
          }
          const table = rawTraces.table(workspaceId)
          let added = 0
          for (const row of rows) {
            const key = `${row.traceId}/${row.spanId}`
            if (!table.has(key)) {
              table.set(key, copy(row))
              added++
            }
          }
          return Effect.succeed(added)
        }),
      list: (workspaceId) => Effect.sync(() => [...rawTraces.table(workspaceId).values()].map(copy))
    }),
    retention: RetentionRepo.of({
      track: (workspaceId, rows) =>
        inWorkspace("retention record", workspaceId, rows, () => {
          const table = retentionRecords.table(workspaceId)
          for (const row of rows) if (!table.has(row.traceId)) table.set(row.traceId, copy(row))
        }, (row) => row.traceId),
      saveRecords: (workspaceId, rows) =>
        inWorkspace("retention record", workspaceId, rows, () => {
          const table = retentionRecords.table(workspaceId)
          for (const row of rows) table.set(row.traceId, copy(row))
        }, (row) => row.traceId),
      records: (workspaceId) => Effect.sync(() => [...retentionRecords.table(workspaceId).values()].map(copy)),
      appendEvents: (workspaceId, rows) =>
        inWorkspace("retention event", workspaceId, rows, () => {
          const table = retentionEvents.table(workspaceId)
          const list = table.get("all") ?? []
          let ids = retentionEventIds.get(workspaceId)
          if (ids === undefined) retentionEventIds.set(workspaceId, ids = new Set())
          for (const row of rows) {
            if (ids.has(row.id)) continue
            ids.add(row.id)
            list.push(copy(row))
          }
          table.set("all", list)
        }),
      events: (workspaceId) => Effect.sync(() => (retentionEvents.table(workspaceId).get("all") ?? []).map(copy)),
      setPolicy: (policy) => Effect.sync(() => void retentionPolicies.table(policy.workspaceId).set(policy.entity, copy(policy))),
      policies: (workspaceId) => Effect.sync(() => [...retentionPolicies.table(workspaceId).values()].map(copy)),
      saveHold: (hold) => Effect.sync(() => void legalHolds.table(hold.workspaceId).set(hold.id, copy(hold))),
      holds: (workspaceId) => Effect.sync(() => [...legalHolds.table(workspaceId).values()].map(copy)),
      purgeTraces: (workspaceId, traceIds) =>
        Effect.sync(() => {
          const purge = new Set(traceIds)
          const table = rawTraces.table(workspaceId)
          let removed = 0
          for (const [key, row] of table) {
            if (purge.has(row.traceId)) {
              table.delete(key)
              removed++
            }
          }
          return removed
        }),
      workspacesToSweep: () =>
        Effect.sync(() => {
          const live = (workspaceId: string) =>
            [...retentionRecords.table(workspaceId).values()].some((r) => r.state !== "TOMBSTONED") ||
            [...samples.table(workspaceId).values()].some((s) => s.state !== "archived")
          return [...new Set([...retentionRecords.workspaces(), ...samples.workspaces()])].filter(live).sort()
        })
    }),
    ingestKey: IngestKeyRepo.of({
      save: (key) => Effect.sync(() => void ingestKeys.set(key.keyHash, copy(key))),
      findByHash: (keyHash) =>
        Effect.suspend(() => {
          const key = ingestKeys.get(keyHash)
          return key === undefined ? Effect.fail(StorageError.notFound("ingest key", "(hash)")) : Effect.succeed(copy(key))
        }),
      list: (workspaceId) => Effect.sync(() => [...ingestKeys.values()].filter((k) => k.workspaceId === workspaceId).map(copy))
    }),
    templateProposal: TemplateProposalRepo.of({
      insert: (proposal) =>
        Effect.suspend(() => {
          const table = proposals.table(proposal.workspaceId)
          if (table.has(proposal.id)) return Effect.fail(StorageError.conflict("template proposal", proposal.id, "already exists"))
          table.set(proposal.id, copy(proposal))
          return Effect.void
        }),
      update: (proposal, expected) => compareAndSet(proposals, "template proposal", proposal, expected),
      get: (workspaceId, proposalId) => get(proposals, "template proposal", workspaceId, proposalId),
      list: (workspaceId) => Effect.sync(() => [...proposals.table(workspaceId).values()].map(copy))
    }),
    secret: WorkspaceSecretRepo.of({
      put: (record) => Effect.sync(() => void secrets.table(record.workspaceId).set(record.name, copy(record))),
      get: (workspaceId, name) => get(secrets, "workspace secret", workspaceId, name),
      list: (workspaceId) =>
        Effect.sync(() => [...secrets.table(workspaceId).values()].map(copy).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
      remove: (workspaceId, name) =>
        Effect.suspend(() =>
          secrets.table(workspaceId).delete(name) ? Effect.void : Effect.fail(StorageError.notFound("workspace secret", name))
        )
    }),
    apiKey: ApiKeyRepo.of({
      save: (key) => Effect.sync(() => void apiKeys.set(key.keyHash, copy(key))),
      findByHash: (keyHash) =>
        Effect.suspend(() => {
          const key = apiKeys.get(keyHash)
          return key === undefined ? Effect.fail(StorageError.notFound("api key", "(hash)")) : Effect.succeed(copy(key))
        }),
      list: (workspaceId) => Effect.sync(() => [...apiKeys.values()].filter((k) => k.workspaceId === workspaceId).map(copy))
    }),
    /** Everything stored, every store and workspace (for tests that must search all of storage). */
    contents: (): unknown => ({
      ingestKeys: [...ingestKeys.values()].map(copy),
      apiKeys: [...apiKeys.values()].map(copy),
      retentionEventIds: plain(retentionEventIds),
      stores: Object.fromEntries(
        Object.entries(stores).map(([name, store]) => [name, plain((store as unknown as { byWorkspace: unknown }).byWorkspace)])
      )
    })
  }
})

/** Every repository port, in memory (one shared store per layer build). */
export const layer = Layer.effectContext(Effect.map(make, repositoriesContext))
