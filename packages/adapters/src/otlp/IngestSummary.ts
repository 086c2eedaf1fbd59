/**
 * What `spectral ingest FILE…` prints: ingest each OTLP/JSON document (Langfuse exports are
 * converted first) into a workspace, then infer the agents, their dependencies and hyperparameter
 * baselines from everything stored. `{"spans","rejected","agents":[{name, dependsOn, hyperparameters}]}`
 * with absent hyperparameters omitted.
 */
import { Effect } from "effect"
import { baselineValues, inferAgents, TraceRepo } from "@spectral/engine"
import type { WorkspaceAgent } from "@spectral/engine/contracts"
import { isLangfuseExport, langfuseToOtlpJson } from "./LangfuseExport.ts"
import { ingestOtlp } from "./OtlpIngest.ts"

export interface IngestSummary {
  readonly spans: number
  readonly rejected: number
  readonly agents: ReadonlyArray<{
    readonly name: string
    readonly dependsOn: ReadonlyArray<string>
    readonly hyperparameters: ReturnType<typeof baselineValues>
  }>
}

/** Needs OtlpIngest and TraceRepo. `documents` are parsed JSON files. */
export const ingestDocuments = Effect.fn("IngestSummary.ingestDocuments")(function*(
  workspaceId: string,
  documents: ReadonlyArray<unknown>,
  declared: ReadonlyArray<WorkspaceAgent> = []
) {
  let spans = 0
  let rejected = 0
  for (const document of documents) {
    const body = isLangfuseExport(document) ? langfuseToOtlpJson(document) : document
    const result = yield* ingestOtlp(workspaceId, "json", body)
    spans += result.accepted
    rejected += result.rejected
  }
  const traces = yield* (yield* TraceRepo).list(workspaceId)
  const inference = inferAgents(traces, { declared })
  return {
    spans,
    rejected,
    agents: inference.agents.map((agent) => ({
      name: agent.name,
      dependsOn: agent.dependsOn,
      hyperparameters: baselineValues(agent.hyperparameters)
    }))
  } satisfies IngestSummary
})
