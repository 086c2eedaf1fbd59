/**
 * ScanRepo on SQL: scans (`spectral.scans`, inserted once, then updated), each phase's output
 * (`spectral.scan_phase_outputs`, wrapped so any JSON value round-trips; its large arrays apart in
 * `spectral.scan_phase_parts`, chunks of at most 1,000 items, split and joined by the engine's
 * `splitPhaseOutput` / `joinPhaseOutput`; one field of them without the rest), the verdict and the
 * rubric divergence of a scan, the completed scans' headers (the `header` column Postgres computes
 * from the document) and their kept summaries (`spectral.scan_summaries`, by settings, written once
 * per scan), and the redaction of one stimulus's content from the saved phase outputs (in one
 * workspace transaction, by the engine's `redactStimulusContent`). Does not own the per-scan rows
 * (SqlScanTraceRepo, SqlFailureClusterRepo).
 */
import {
  joinPhaseOutput,
  phaseOutputField,
  phaseOutputFieldHasParts,
  redactStimulusContent,
  ScanRepo,
  splitPhaseOutput,
  StorageError,
  type StoredPhaseOutputChunk
} from "@spectral/engine"
import { PhaseName, PhaseOutputParts, RubricDivergenceRecord, Scan, ScanHeader, ScanSummary, VerdictResult } from "@spectral/engine/contracts"
import { Effect, Option, Schema } from "effect"
import type * as Statement from "effect/sql/Statement"
import { checkWorkspace, chunks, corrupt, decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

/** Wrapper for a phase output, so any JSON value (and `undefined`) round-trips. */
const PhaseOutputRow = Schema.Struct({ phase: PhaseName, output: Schema.Struct({ value: Schema.optional(Schema.Unknown) }) })
/** One stored chunk of a part of a phase output. */
const PhasePartRow = Schema.Struct({
  scan_id: Schema.String,
  phase: PhaseName,
  part: Schema.String,
  chunk: Schema.Int,
  items: Schema.Array(Schema.Unknown)
})
type PhasePartRow = typeof PhasePartRow.Type

/** Whether a phase's outputs can have parts at all (the others need no read of the parts table). */
const hasParts = (phase: PhaseName) => (PhaseOutputParts[phase]?.length ?? 0) > 0

export const makeSqlScanRepo = ({ batchSize, inWorkspace, json, single, sql }: SqlRepoContext): ScanRepo["Service"] => {
  const encodeScan = encodeDoc(Scan, "scan")
  const decodeScan = decodeRow(Scan, "scan")
  const decodeScans = decodeRows(Scan, "scan")
  const decodeHeaders = decodeRows(ScanHeader, "scan")
  const encodeSummary = encodeDoc(ScanSummary, "scan summary")
  const decodeSummaries = decodeRows(ScanSummary, "scan summary")
  const encodeVerdict = encodeDoc(VerdictResult, "verdict")
  const decodeVerdict = decodeRow(VerdictResult, "verdict")
  const encodeDivergence = encodeDoc(RubricDivergenceRecord, "divergence")
  const decodeDivergence = decodeRow(RubricDivergenceRecord, "divergence")
  const decodePhaseOutput = Schema.decodeUnknownEffect(PhaseOutputRow)
  const decodePartRow = Schema.decodeUnknownEffect(PhasePartRow)
  /** The chunks read back, decoded, by `scan/phase`. */
  const chunksBy = (rows: ReadonlyArray<unknown>, id: string) =>
    Effect.gen(function*() {
      const grouped = new Map<string, Array<StoredPhaseOutputChunk>>()
      for (const row of rows) {
        const part: PhasePartRow = yield* decodePartRow(row).pipe(
          Effect.mapError((error) => corrupt("phase output part", id, error.message))
        )
        const key = `${part.scan_id}/${part.phase}`
        const list = grouped.get(key) ?? []
        list.push({ part: part.part, chunk: part.chunk, items: part.items })
        grouped.set(key, list)
      }
      return grouped
    })

  /** One phase's saved output of every scan of the workspace that finished it, parts joined back. */
  const phaseOutputsOfAll = Effect.fnUntraced(function*(workspaceId: string, phase: PhaseName) {
    const { parts, rows } = yield* inWorkspace(
      workspaceId,
      "phase output",
      `*/${phase}`,
      Effect.all({
        rows: sql<{ readonly scan_id: string; readonly phase: string; readonly output: unknown }>`SELECT scan_id, phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND phase = ${phase} ORDER BY seq`,
        parts: hasParts(phase)
          ? sql`SELECT scan_id, phase, part, chunk, items FROM spectral.scan_phase_parts
              WHERE workspace_id = ${workspaceId} AND phase = ${phase} ORDER BY scan_id, part, chunk`
          : Effect.succeed([])
      })
    )
    const chunks = yield* chunksBy(parts, `*/${phase}`)
    const found = new Map<string, unknown>()
    for (const row of rows) {
      const decoded = yield* decodePhaseOutput(row).pipe(
        Effect.mapError((error) => corrupt("phase output", `${row.scan_id}/${phase}`, error.message))
      )
      found.set(row.scan_id, joinPhaseOutput(phase, decoded.output.value, chunks.get(`${row.scan_id}/${phase}`) ?? []))
    }
    return found
  })

  /** Write the row when it also meets `condition` (a fragment starting with AND): whether it did. */
  const write = (value: Scan, condition: Statement.Fragment) =>
    Effect.gen(function*() {
      const doc = yield* encodeScan(value, value.id)
      const rows = yield* inWorkspace(
        value.workspaceId,
        "scan",
        value.id,
        sql`UPDATE spectral.scans
            SET state = ${value.state}, created_at = ${value.createdAt}, doc = ${json(doc)}, updated_at = now()
            WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} ${condition}
            RETURNING id`
      )
      return rows.length > 0
    })

  return ScanRepo.of({
    insert: Effect.fn("SqlScanRepo.insert")(function*(value) {
      const doc = yield* encodeScan(value, value.id)
      const rows = yield* inWorkspace(
        value.workspaceId,
        "scan",
        value.id,
        sql`INSERT INTO spectral.scans (workspace_id, id, state, created_at, doc)
            VALUES (${value.workspaceId}, ${value.id}, ${value.state}, ${value.createdAt}, ${json(doc)})
            ON CONFLICT (workspace_id, id) DO NOTHING RETURNING id`
      )
      if (rows.length === 0) return yield* StorageError.conflict("scan", value.id, "already exists")
    }),
    update: Effect.fn("SqlScanRepo.update")(function*(value) {
      if (!(yield* write(value, sql``))) return yield* StorageError.notFound("scan", value.id)
    }),
    updateHeld: Effect.fn("SqlScanRepo.updateHeld")(function*(value, holder) {
      // The lease check and the write in one statement (no read between them to race with).
      const held = holder.owner === null
        ? sql`AND doc->'lease' IS NULL`
        : sql`AND doc->'lease'->>'owner' = ${holder.owner}
              AND (doc->'lease'->>'take') IS NOT DISTINCT FROM ${holder.take ?? null}
              ${holder.expiresAt === undefined ? sql`` : sql`AND doc->'lease'->>'expiresAt' = ${holder.expiresAt}`}`
      if (yield* write(value, held)) return true
      const exists = yield* inWorkspace(value.workspaceId, "scan", value.id, sql`SELECT id FROM spectral.scans WHERE workspace_id = ${value.workspaceId} AND id = ${value.id}`)
      if (exists.length === 0) return yield* StorageError.notFound("scan", value.id)
      return false
    }),
    get: Effect.fn("SqlScanRepo.get")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "scan",
        scanId,
        sql<DocRow>`SELECT id, doc FROM spectral.scans WHERE workspace_id = ${workspaceId} AND id = ${scanId}`
      )
      return yield* single(rows, decodeScan, "scan", scanId)
    }),
    list: Effect.fn("SqlScanRepo.list")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "scan",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.scans WHERE workspace_id = ${workspaceId}
                    ORDER BY created_at DESC, id DESC`
      )
      return yield* decodeScans(rows)
    }),
    listCompleted: Effect.fn("SqlScanRepo.listCompleted")(function*(workspaceId) {
      // The header column (migration 0010) holds only those fields: the rest of the document is not read.
      const rows = yield* inWorkspace(
        workspaceId,
        "scan",
        "*",
        sql<{ readonly id: string; readonly header: Record<string, unknown> }>`SELECT id, header FROM spectral.scans
                    WHERE workspace_id = ${workspaceId} AND state = 'completed'
                    ORDER BY created_at DESC, id DESC`
      )
      // An absent optional field comes back as JSON null: dropped, so the header decodes as the scan would.
      return yield* decodeHeaders(rows.map(({ header, id }) => ({
        id,
        doc: Object.fromEntries(Object.entries(header).filter(([, value]) => value !== null))
      })))
    }),
    summaries: Effect.fn("SqlScanRepo.summaries")(function*(workspaceId, settings) {
      const rows = yield* inWorkspace(
        workspaceId,
        "scan summary",
        settings,
        sql<DocRow>`SELECT scan_id AS id, doc FROM spectral.scan_summaries
                    WHERE workspace_id = ${workspaceId} AND settings = ${settings}`
      )
      const decoded = yield* decodeSummaries(rows)
      return new Map(decoded.map((summary) => [summary.scanId, summary] as const))
    }),
    saveSummaries: Effect.fn("SqlScanRepo.saveSummaries")(function*(workspaceId, settings, summaries) {
      if (summaries.length === 0) return
      yield* checkWorkspace("scan summary", workspaceId, summaries, (summary) => summary.scanId)
      const docs = yield* Effect.forEach(summaries, (summary) => encodeSummary(summary, summary.scanId))
      yield* inWorkspace(
        workspaceId,
        "scan summary",
        settings,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.scan_summaries (workspace_id, scan_id, settings, doc)
                SELECT ${workspaceId}, d->>'scanId', ${settings}, d FROM jsonb_array_elements(${json(batch)}) AS input(d)
                ON CONFLICT (workspace_id, settings, scan_id) DO NOTHING`,
          { discard: true }
        )
      )
    }),
    savePhaseOutput: Effect.fn("SqlScanRepo.savePhaseOutput")(function*(workspaceId, scanId, phase, output) {
      // The row holds the parts' references; the chunks are written afresh (a rewrite leaves no stale one).
      const { parts, stored } = splitPhaseOutput(phase, output)
      yield* inWorkspace(
        workspaceId,
        "phase output",
        `${scanId}/${phase}`,
        Effect.gen(function*() {
          yield* sql`INSERT INTO spectral.scan_phase_outputs (workspace_id, scan_id, phase, output)
              VALUES (${workspaceId}, ${scanId}, ${phase}, ${json({ value: stored })})
              ON CONFLICT (workspace_id, scan_id, phase) DO UPDATE SET output = EXCLUDED.output`
          yield* sql`DELETE FROM spectral.scan_phase_parts WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} AND phase = ${phase}`
          for (const { chunks, part } of parts) {
            for (const [chunk, items] of chunks.entries()) {
              yield* sql`INSERT INTO spectral.scan_phase_parts (workspace_id, scan_id, phase, part, chunk, items)
                  VALUES (${workspaceId}, ${scanId}, ${phase}, ${part}, ${chunk}, ${json(items)})`
            }
          }
        })
      )
    }),
    phaseOutputs: Effect.fn("SqlScanRepo.phaseOutputs")(function*(workspaceId, scanId) {
      const { parts, rows } = yield* inWorkspace(
        workspaceId,
        "phase output",
        scanId,
        Effect.all({
          rows: sql<{ readonly phase: string; readonly output: unknown }>`SELECT phase, output FROM spectral.scan_phase_outputs
              WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY seq`,
          parts: sql`SELECT scan_id, phase, part, chunk, items FROM spectral.scan_phase_parts
              WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY phase, part, chunk`
        })
      )
      const chunks = yield* chunksBy(parts, scanId)
      const decoded = yield* Effect.forEach(rows, (row) =>
        decodePhaseOutput(row).pipe(
          Effect.mapError((error) => corrupt("phase output", `${scanId}/${row.phase}`, error.message))
        ))
      return new Map(decoded.map((row) => [row.phase, joinPhaseOutput(row.phase, row.output.value, chunks.get(`${scanId}/${row.phase}`) ?? [])] as const))
    }),
    phaseOutputsOf: Effect.fn("SqlScanRepo.phaseOutputsOf")(phaseOutputsOfAll),
    phaseOutputFieldOf: Effect.fn("SqlScanRepo.phaseOutputFieldOf")(function*(workspaceId, phase, field) {
      // A field holding one of the phase's parts is joined back from its chunks: read those outputs whole.
      if (phaseOutputFieldHasParts(phase, field)) {
        const outputs = yield* phaseOutputsOfAll(workspaceId, phase)
        return new Map([...outputs].map(([scanId, output]) => [scanId, phaseOutputField(output, field)] as const))
      }
      const rows = yield* inWorkspace(
        workspaceId,
        "phase output",
        `*/${phase}`,
        sql<{ readonly scan_id: string; readonly kind: string | null; readonly field: unknown }>`SELECT scan_id,
              jsonb_typeof(CASE WHEN jsonb_typeof(output->'value') = 'object' THEN output->'value'->${field}::text END) AS kind,
              output->'value'->${field}::text AS field
            FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND phase = ${phase}
            ORDER BY seq`
      )
      // No kind: no such field (a JSON null is kind "null" and comes back as null).
      return new Map(rows.map((row) => [row.scan_id, row.kind === null ? undefined : row.field] as const))
    }),
    phaseOutput: Effect.fn("SqlScanRepo.phaseOutput")(function*(workspaceId, scanId, phase) {
      const { parts, rows } = yield* inWorkspace(
        workspaceId,
        "phase output",
        `${scanId}/${phase}`,
        Effect.all({
          rows: sql<{ readonly phase: string; readonly output: unknown }>`SELECT phase, output FROM spectral.scan_phase_outputs
              WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} AND phase = ${phase}`,
          parts: hasParts(phase)
            ? sql`SELECT scan_id, phase, part, chunk, items FROM spectral.scan_phase_parts
                WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} AND phase = ${phase} ORDER BY part, chunk`
            : Effect.succeed([])
        })
      )
      if (rows[0] === undefined) return Option.none()
      const decoded = yield* decodePhaseOutput(rows[0]).pipe(
        Effect.mapError((error) => corrupt("phase output", `${scanId}/${phase}`, error.message))
      )
      const chunks = yield* chunksBy(parts, `${scanId}/${phase}`)
      return Option.some(joinPhaseOutput(phase, decoded.output.value, chunks.get(`${scanId}/${phase}`) ?? []))
    }),
    redactPhaseOutputs: Effect.fn("SqlScanRepo.redactPhaseOutputs")(function*(workspaceId, stimulusId, marker) {
      return yield* inWorkspace(
        workspaceId,
        "phase output",
        stimulusId,
        Effect.gen(function*() {
          // Only outputs that mention the stimulus somewhere are read; the engine's redaction decides the rest.
          const rows = yield* sql<{ readonly scan_id: string; readonly phase: string; readonly output: unknown }>`
            SELECT scan_id, phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId}
              AND jsonb_path_exists(output, '$.** ? (@.stimulusId == $s || @.id == $s)', jsonb_build_object('s', ${stimulusId}::text))
            ORDER BY seq FOR UPDATE`
          const changed = rows.flatMap((row) => {
            const redacted = redactStimulusContent(row.output, stimulusId, marker)
            return JSON.stringify(redacted) === JSON.stringify(row.output) ? [] : [{ scanId: row.scan_id, phase: row.phase, output: redacted }]
          })
          if (changed.length > 0) {
            yield* sql`UPDATE spectral.scan_phase_outputs AS o SET output = input.d->'output'
                       FROM jsonb_array_elements(${json(changed)}) AS input(d)
                       WHERE o.workspace_id = ${workspaceId} AND o.scan_id = input.d->>'scanId' AND o.phase = input.d->>'phase'`
          }
          // The parts' chunks the same way, one chunk (at most 1,000 items) at a time.
          const partRows = yield* sql`
            SELECT scan_id, phase, part, chunk, items FROM spectral.scan_phase_parts
            WHERE workspace_id = ${workspaceId}
              AND jsonb_path_exists(items, '$.** ? (@.stimulusId == $s || @.id == $s)', jsonb_build_object('s', ${stimulusId}::text))
            ORDER BY scan_id, phase, part, chunk FOR UPDATE`
          const outputs = new Set(changed.map((c) => `${c.scanId}/${c.phase}`))
          for (const raw of partRows) {
            const row = yield* decodePartRow(raw).pipe(Effect.mapError((error) => corrupt("phase output part", stimulusId, error.message)))
            const redacted = redactStimulusContent(row.items, stimulusId, marker)
            if (JSON.stringify(redacted) === JSON.stringify(row.items)) continue
            yield* sql`UPDATE spectral.scan_phase_parts SET items = ${json(redacted)}
                       WHERE workspace_id = ${workspaceId} AND scan_id = ${row.scan_id} AND phase = ${row.phase}
                         AND part = ${row.part} AND chunk = ${row.chunk}`
            outputs.add(`${row.scan_id}/${row.phase}`)
          }
          return outputs.size
        })
      )
    }),
    saveVerdict: Effect.fn("SqlScanRepo.saveVerdict")(function*(value) {
      const doc = yield* encodeVerdict(value, value.scanId)
      yield* inWorkspace(
        value.workspaceId,
        "verdict",
        value.scanId,
        sql`INSERT INTO spectral.verdicts (workspace_id, scan_id, id, doc)
            VALUES (${value.workspaceId}, ${value.scanId}, ${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id, scan_id) DO UPDATE SET id = EXCLUDED.id, doc = EXCLUDED.doc`
      )
    }),
    verdict: Effect.fn("SqlScanRepo.verdict")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "verdict",
        scanId,
        sql<DocRow>`SELECT scan_id AS id, doc FROM spectral.verdicts WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId}`
      )
      return yield* single(rows, decodeVerdict, "verdict", scanId)
    }),
    saveDivergence: Effect.fn("SqlScanRepo.saveDivergence")(function*(value) {
      const doc = yield* encodeDivergence(value, value.scanId)
      yield* inWorkspace(
        value.workspaceId,
        "divergence",
        value.scanId,
        sql`INSERT INTO spectral.rubric_divergences (workspace_id, scan_id, id, doc)
            VALUES (${value.workspaceId}, ${value.scanId}, ${value.id}, ${json(doc)})
            ON CONFLICT (workspace_id, scan_id) DO UPDATE SET id = EXCLUDED.id, doc = EXCLUDED.doc`
      )
    }),
    divergence: Effect.fn("SqlScanRepo.divergence")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "divergence",
        scanId,
        sql<DocRow>`SELECT scan_id AS id, doc FROM spectral.rubric_divergences
                    WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId}`
      )
      return yield* single(rows, decodeDivergence, "divergence", scanId)
    })
  })
}
