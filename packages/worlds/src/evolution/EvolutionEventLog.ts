/**
 * Where the evolution loop catches up from: the events a host stored (the SQL store's outbox,
 * migration 3), read per workspace after a position. A stored event is handed over undecoded (the
 * loop decodes it with the `SpectralEvent` schema, so a malformed one is reported, not cast).
 * The memory implementation serves a fixed list (tests); the SQL one is in `@spectral/adapters`.
 */
import { Context, Effect, Layer } from "effect"
import type { SpectralEvent } from "@spectral/engine/contracts"
import type { EvolutionStoreError } from "./EvolutionCandidateRepo.ts"

export interface StoredEvent {
  /** Increasing within a workspace. */
  readonly position: number
  readonly eventId: string
  readonly document: unknown
}

export class EvolutionEventLog extends Context.Service<EvolutionEventLog, {
  /** Workspaces that have stored events the loop reads (ids only). */
  readonly workspaces: Effect.Effect<ReadonlyArray<string>, EvolutionStoreError>
  /** The workspace's stored failure-cluster and divergence events after `position`, oldest first. */
  readonly after: (workspaceId: string, position: number, limit: number) => Effect.Effect<ReadonlyArray<StoredEvent>, EvolutionStoreError>
}>()("@spectral/worlds/evolution/EvolutionEventLog") {
  /** A fixed list of documents (decoded or not), positioned in list order per workspace. */
  static readonly fromDocuments = (documents: ReadonlyArray<{ readonly workspaceId: string; readonly id: string; readonly document: unknown }>) => {
    const byWorkspace = new Map<string, Array<StoredEvent>>()
    documents.forEach((d, index) => {
      const list = byWorkspace.get(d.workspaceId) ?? []
      list.push({ position: index + 1, eventId: d.id, document: d.document })
      byWorkspace.set(d.workspaceId, list)
    })
    return EvolutionEventLog.of({
      workspaces: Effect.succeed([...byWorkspace.keys()].sort()),
      after: (workspaceId, position, limit) =>
        Effect.succeed((byWorkspace.get(workspaceId) ?? []).filter((e) => e.position > position).slice(0, limit))
    })
  }

  static readonly layerEvents = (events: ReadonlyArray<SpectralEvent>) =>
    Layer.succeed(EvolutionEventLog, EvolutionEventLog.fromDocuments(events.map((e) => ({ workspaceId: e.workspaceId, id: e.id, document: e }))))
}
