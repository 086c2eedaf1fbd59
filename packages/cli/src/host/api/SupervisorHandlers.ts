/**
 * Handlers of the `supervisor` group. `supervisor`: per agent the engine's `AgentStatus` (ACTIVE,
 * PLATEAU, FRONTIER, NO_DATA with its reason) from the workspace's completed scans, one continuous
 * history across world-model versions (`loadScanHistory`, `classifyAgents`); the declared agents no
 * scan scored are NO_DATA. `history`: per completed scan, oldest first, its world-model version
 * (authority ref), the composite score per authority and each agent's score with its interval. A
 * completed scan's summary never changes, so summaries are kept by scan id for the next request.
 */
import { Effect, Schema } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { classifyAgents, loadScanHistory, type ScanSummary, ScanRepo, ScanTraceRepo, SupervisorOptions, WorkspaceRepo } from "@spectral/engine"
import { CompositeScore, type Measure, type ScanHeader } from "@spectral/engine/contracts"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiInvalid } from "./ApiErrors.ts"
import type { HistoryEntry } from "./ApiModels.ts"

const decodeComposite = Schema.decodeUnknownEffect(CompositeScore)
const decodeOptions = Schema.decodeUnknownEffect(SupervisorOptions)

const valueOf = (measure: Measure): number | null => (measure._tag === "Present" ? measure.value : null)

export const SupervisorHandlers = HttpApiBuilder.group(
  SpectralApi,
  "supervisor",
  Effect.fn(function*(handlers) {
    const scans = yield* ScanRepo
    const workspaces = yield* WorkspaceRepo
    const rows = yield* Effect.context<ScanRepo | ScanTraceRepo>()
    const summaries = new Map<string, Map<string, ScanSummary>>()

    const historyOf = (workspaceId: string, completed?: ReadonlyArray<ScanHeader>) =>
      Effect.gen(function*() {
        const cached = summaries.get(workspaceId) ?? new Map<string, ScanSummary>()
        const loaded = yield* stored(
          loadScanHistory(workspaceId, { cached, ...(completed === undefined ? {} : { completed }) }).pipe(Effect.provideContext(rows))
        )
        for (const summary of loaded) cached.set(summary.scanId, summary)
        summaries.set(workspaceId, cached)
        return loaded
      })

    return handlers
      .handle("supervisor", ({ params, query }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const options = yield* decodeOptions({ ...query }).pipe(
            Effect.mapError((error) => new ApiInvalid({ message: `invalid supervisor query: ${error.message}` }))
          )
          const workspace = yield* stored(workspaces.get(workspaceId))
          const loaded = yield* historyOf(workspaceId)
          return { scans: loaded.length, agents: classifyAgents(loaded, { ...options, agents: workspace.agents.map((a) => a.id) }) }
        }))
      .handle("history", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const completed = yield* stored(scans.listCompleted(workspaceId))
          const loaded = yield* historyOf(workspaceId, completed)
          const byId = new Map(completed.map((scan) => [scan.id, scan]))
          // Every scan's composite per authority in one read (the verdict output's, nothing else of it).
          const composites = yield* stored(scans.phaseOutputFieldOf(workspaceId, "verdict", "composite"))
          return yield* Effect.forEach(loaded, (summary) =>
            Effect.gen(function*() {
              const scan = byId.get(summary.scanId)!
              // A verdict output without a composite is as corrupt as before: a defect, never a silent null.
              const composite = composites.has(scan.id) ? yield* Effect.orDie(decodeComposite(composites.get(scan.id))) : undefined
              return {
                scanId: scan.id,
                startedAt: scan.createdAt,
                finishedAt: scan.updatedAt,
                worldModel: scan.attribution?.authority ?? null,
                verdict: scan.verdict ?? null,
                composite: {
                  worldModel: composite === undefined ? null : valueOf(composite.worldModelScore),
                  rubric: composite === undefined ? null : valueOf(composite.rubricScore),
                  blended: composite === undefined ? scan.blendedScore ?? null : valueOf(composite.blendedScore)
                },
                agents: summary.agents.map((agent) => ({
                  agentId: agent.agentId,
                  estimate: agent.quality.estimate,
                  low: agent.quality.low,
                  high: agent.quality.high,
                  level: agent.quality.level,
                  costUsd: agent.costUsd
                }))
              } satisfies HistoryEntry
            }))
        }))
  })
)
