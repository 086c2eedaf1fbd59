/**
 * Handlers of the `samples` group: the workspace's curated samples, a curation run over its incoming
 * traces now (`curateIncoming`, write scope: the same step the scheduled lifecycle runs), and its
 * versioned sample sets — every version, oldest first, of all sets or of one.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { curateIncoming, RetentionRepo, SampleRepo, TraceRepo } from "@spectral/engine"
import type { SampleSet } from "@spectral/engine/contracts"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { notFound } from "./ApiErrors.ts"

const byVersion = (a: SampleSet, b: SampleSet) => a.id.localeCompare(b.id) || a.version - b.version

export const SamplesHandlers = HttpApiBuilder.group(
  SpectralApi,
  "samples",
  Effect.fn(function*(handlers) {
    const samples = yield* SampleRepo
    const curation = yield* Effect.context<SampleRepo | TraceRepo | RetentionRepo>()
    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return yield* stored(samples.samples(workspaceId))
        }))
      .handle("curate", ({ params, payload }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "write")
          const run = yield* stored(curateIncoming(workspaceId, payload).pipe(Effect.provideContext(curation)))
          return {
            derived: run.derived.length,
            skipped: run.skipped,
            needsRefresh: run.needsRefresh,
            coverage: run.coverage.map((c) => ({ segment: c.segment, active: c.active, needsRefresh: c.needsRefresh })),
            sampleSet: run.sampleSet
          }
        }))
      .handle("sampleSets", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          return [...(yield* stored(samples.sampleSets(workspaceId)))].sort(byVersion)
        }))
      .handle("sampleSetVersions", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const versions = (yield* stored(samples.sampleSets(workspaceId))).filter((s) => s.id === params.sampleSetId).sort(byVersion)
          if (versions.length === 0) return yield* notFound("sample set", params.sampleSetId)
          return versions
        }))
  })
)
