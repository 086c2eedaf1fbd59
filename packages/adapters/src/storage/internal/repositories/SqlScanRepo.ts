/**
 * ScanRepo on SQL: scans (`spectral.scans`, inserted once, then updated), each phase's output
 * (`spectral.scan_phase_outputs`, wrapped so any JSON value round-trips), the verdict and the rubric
 * divergence of a scan, and the redaction of one stimulus's content from the saved phase outputs (in
 * one workspace transaction, by the engine's `redactStimulusContent`). Does not own the per-scan
 * rows (SqlScanTraceRepo, SqlFailureClusterRepo).
 */
import { redactStimulusContent, ScanRepo, StorageError } from "@spectral/engine"
import { PhaseName, RubricDivergenceRecord, Scan, VerdictResult } from "@spectral/engine/contracts"
import { Effect, Option, Schema } from "effect"
import { corrupt, decodeRow, decodeRows, type DocRow, encodeDoc, type SqlRepoContext } from "./SqlRepoContext.ts"

/** Wrapper for a phase output, so any JSON value (and `undefined`) round-trips. */
const PhaseOutputRow = Schema.Struct({ phase: PhaseName, output: Schema.Struct({ value: Schema.optional(Schema.Unknown) }) })

export const makeSqlScanRepo = ({ inWorkspace, json, single, sql }: SqlRepoContext): ScanRepo["Service"] => {
  const encodeScan = encodeDoc(Scan, "scan")
  const decodeScan = decodeRow(Scan, "scan")
  const decodeScans = decodeRows(Scan, "scan")
  const encodeVerdict = encodeDoc(VerdictResult, "verdict")
  const decodeVerdict = decodeRow(VerdictResult, "verdict")
  const encodeDivergence = encodeDoc(RubricDivergenceRecord, "divergence")
  const decodeDivergence = decodeRow(RubricDivergenceRecord, "divergence")
  const decodePhaseOutput = Schema.decodeUnknownEffect(PhaseOutputRow)

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
      const doc = yield* encodeScan(value, value.id)
      const rows = yield* inWorkspace(
        value.workspaceId,
        "scan",
        value.id,
        sql`UPDATE spectral.scans
            SET state = ${value.state}, created_at = ${value.createdAt}, doc = ${json(doc)}, updated_at = now()
            WHERE workspace_id = ${value.workspaceId} AND id = ${value.id} RETURNING id`
      )
      if (rows.length === 0) return yield* StorageError.notFound("scan", value.id)
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
    savePhaseOutput: Effect.fn("SqlScanRepo.savePhaseOutput")(function*(workspaceId, scanId, phase, output) {
      yield* inWorkspace(
        workspaceId,
        "phase output",
        `${scanId}/${phase}`,
        sql`INSERT INTO spectral.scan_phase_outputs (workspace_id, scan_id, phase, output)
            VALUES (${workspaceId}, ${scanId}, ${phase}, ${json({ value: output })})
            ON CONFLICT (workspace_id, scan_id, phase) DO UPDATE SET output = EXCLUDED.output`
      )
    }),
    phaseOutputs: Effect.fn("SqlScanRepo.phaseOutputs")(function*(workspaceId, scanId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "phase output",
        scanId,
        sql<{ readonly phase: string; readonly output: unknown }>`SELECT phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} ORDER BY seq`
      )
      const decoded = yield* Effect.forEach(rows, (row) =>
        decodePhaseOutput(row).pipe(
          Effect.mapError((error) => corrupt("phase output", `${scanId}/${row.phase}`, error.message))
        ))
      return new Map(decoded.map((row) => [row.phase, row.output.value] as const))
    }),
    phaseOutputsOf: Effect.fn("SqlScanRepo.phaseOutputsOf")(function*(workspaceId, phase) {
      const rows = yield* inWorkspace(
        workspaceId,
        "phase output",
        `*/${phase}`,
        sql<{ readonly scan_id: string; readonly phase: string; readonly output: unknown }>`SELECT scan_id, phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND phase = ${phase} ORDER BY seq`
      )
      const found = new Map<string, unknown>()
      for (const row of rows) {
        const decoded = yield* decodePhaseOutput(row).pipe(
          Effect.mapError((error) => corrupt("phase output", `${row.scan_id}/${phase}`, error.message))
        )
        found.set(row.scan_id, decoded.output.value)
      }
      return found
    }),
    phaseOutput: Effect.fn("SqlScanRepo.phaseOutput")(function*(workspaceId, scanId, phase) {
      const rows = yield* inWorkspace(
        workspaceId,
        "phase output",
        `${scanId}/${phase}`,
        sql<{ readonly phase: string; readonly output: unknown }>`SELECT phase, output FROM spectral.scan_phase_outputs
            WHERE workspace_id = ${workspaceId} AND scan_id = ${scanId} AND phase = ${phase}`
      )
      if (rows[0] === undefined) return Option.none()
      const decoded = yield* decodePhaseOutput(rows[0]).pipe(
        Effect.mapError((error) => corrupt("phase output", `${scanId}/${phase}`, error.message))
      )
      return Option.some(decoded.output.value)
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
          return changed.length
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
