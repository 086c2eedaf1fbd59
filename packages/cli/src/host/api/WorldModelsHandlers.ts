/**
 * Handlers of the `worldModels` group: the published world models (`WorldRegistry`) and each
 * version's ADR-030 metadata — the authority ref scans of it carry (id, version, rule-set hash),
 * whether worlds is currently authoritative for it, what its rule set holds, and this workspace's
 * scans attributed to it. Versions are metadata on the scan history, never a boundary in it.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ScanRepo } from "@spectral/engine"
import type { Scan } from "@spectral/engine/contracts"
import { type PublishedWorldModel, WorldRegistry } from "@spectral/worlds"
import { SpectralApi } from "./Api.ts"
import { callerWorkspace, stored } from "./ApiAccess.ts"
import { ApiNotFound } from "./ApiErrors.ts"
import type { WorldModelVersion } from "./ApiModels.ts"

const versionInfo = (model: PublishedWorldModel, current: string, scans: ReadonlyArray<Scan>): WorldModelVersion => {
  const { definition, authority } = model
  const attributed = scans
    .filter((s) => s.attribution?.worldModelId === authority.worldModelId && s.attribution.worldModelVersion === authority.worldModelVersion)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  return {
    worldModelId: authority.worldModelId,
    worldModelVersion: authority.worldModelVersion,
    authority,
    current: authority.worldModelVersion === current,
    title: definition.title,
    domain: definition.domain,
    description: definition.description,
    rules: definition.rules.length,
    dimensions: definition.dimensions.map((d) => d.id),
    segments: definition.segments,
    sources: definition.sources.map((s) => `${s.source} ${s.section}`),
    scans: {
      count: attributed.length,
      firstScanId: attributed[0]?.id ?? null,
      firstAt: attributed[0]?.createdAt ?? null,
      lastAt: attributed.at(-1)?.createdAt ?? null
    }
  }
}

export const WorldModelsHandlers = HttpApiBuilder.group(
  SpectralApi,
  "worldModels",
  Effect.fn(function*(handlers) {
    const registry = yield* WorldRegistry
    const scans = yield* ScanRepo

    const summaryOf = (worldModelId: string) =>
      Effect.gen(function*() {
        const found = (yield* registry.list).find((w) => w.worldModelId === worldModelId)
        if (found === undefined) {
          return yield* new ApiNotFound({ entity: "world model", id: worldModelId, message: `world model ${worldModelId} not found` })
        }
        return found
      })

    const versionOf = (worldModelId: string, version: string) =>
      registry.version(worldModelId, version).pipe(
        Effect.catchTag("WorldNotFound", () =>
          Effect.fail(new ApiNotFound({ entity: "world model version", id: `${worldModelId}@${version}`, message: `world model ${worldModelId} has no version ${version}` })))
      )

    return handlers
      .handle("list", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const all = yield* stored(scans.list(workspaceId))
          return yield* Effect.forEach(yield* registry.list, (world) =>
            Effect.gen(function*() {
              const current = yield* versionOf(world.worldModelId, world.current)
              return {
                worldModelId: world.worldModelId,
                title: current.definition.title,
                domain: current.definition.domain,
                versions: world.versions,
                current: world.current,
                scans: all.filter((s) => s.attribution?.worldModelId === world.worldModelId).length
              }
            }))
        }))
      .handle("versions", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const world = yield* summaryOf(params.worldModelId)
          const all = yield* stored(scans.list(workspaceId))
          return yield* Effect.forEach(world.versions, (version) =>
            Effect.map(versionOf(world.worldModelId, version), (model) => versionInfo(model, world.current, all)))
        }))
      .handle("version", ({ params }) =>
        Effect.gen(function*() {
          const workspaceId = yield* callerWorkspace(params.workspaceId, "read")
          const world = yield* summaryOf(params.worldModelId)
          const model = yield* versionOf(world.worldModelId, params.version)
          return versionInfo(model, world.current, yield* stored(scans.list(workspaceId)))
        }))
  })
)
