/**
 * SampleRepo on SQL: curated samples (`spectral.samples`, batched upserts, last write wins per id)
 * and sample sets (`spectral.sample_sets`, one row per version — migration 5 — newest version first).
 * A sample references its trace and
 * never copies it; tombstoning is the retention repository's business.
 */
import { SampleRepo } from "@spectral/engine"
import { Sample, SampleSet } from "@spectral/engine/contracts"
import { Effect } from "effect"
import {
  checkWorkspace,
  chunks,
  decodeRows,
  dedupeById,
  type DocRow,
  encodeDoc,
  type SqlRepoContext
} from "./SqlRepoContext.ts"

export const makeSqlSampleRepo = ({ batchSize, inWorkspace, json, sql }: SqlRepoContext): SampleRepo["Service"] => {
  const encodeSample = encodeDoc(Sample, "sample")
  const decodeSamples = decodeRows(Sample, "sample")
  const encodeSampleSet = encodeDoc(SampleSet, "sample set")
  const decodeSampleSets = decodeRows(SampleSet, "sample set")

  return SampleRepo.of({
    upsertSamples: Effect.fn("SqlSampleRepo.upsertSamples")(function*(workspaceId, rows) {
      if (rows.length === 0) return
      yield* checkWorkspace("sample", workspaceId, rows)
      const docs = yield* Effect.forEach(dedupeById(rows), (row) => encodeSample(row, row.id))
      yield* inWorkspace(
        workspaceId,
        "sample",
        rows[0]!.id,
        Effect.forEach(
          chunks(docs, batchSize),
          (batch) =>
            sql`INSERT INTO spectral.samples (workspace_id, id, state, doc)
                SELECT ${workspaceId}, d->>'id', d->>'state', d
                FROM jsonb_array_elements(${json(batch)}) WITH ORDINALITY AS input(d, n) ORDER BY n
                ON CONFLICT (workspace_id, id) DO UPDATE SET state = EXCLUDED.state, doc = EXCLUDED.doc`,
          { discard: true }
        )
      )
    }),
    samples: Effect.fn("SqlSampleRepo.samples")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "sample",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.samples WHERE workspace_id = ${workspaceId} ORDER BY seq`
      )
      return yield* decodeSamples(rows)
    }),
    insertSampleSet: Effect.fn("SqlSampleRepo.insertSampleSet")(function*(value) {
      const doc = yield* encodeSampleSet(value, value.id)
      yield* inWorkspace(
        value.workspaceId,
        "sample set",
        value.id,
        sql`INSERT INTO spectral.sample_sets (workspace_id, id, version, doc)
            VALUES (${value.workspaceId}, ${value.id}, ${value.version}, ${json(doc)})
            ON CONFLICT (workspace_id, id, version) DO UPDATE SET doc = EXCLUDED.doc`
      )
    }),
    sampleSets: Effect.fn("SqlSampleRepo.sampleSets")(function*(workspaceId) {
      const rows = yield* inWorkspace(
        workspaceId,
        "sample set",
        "*",
        sql<DocRow>`SELECT id, doc FROM spectral.sample_sets WHERE workspace_id = ${workspaceId}
                    ORDER BY version DESC, seq`
      )
      return yield* decodeSampleSets(rows)
    })
  })
}
