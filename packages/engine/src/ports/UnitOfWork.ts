/**
 * UnitOfWork: run storage writes and event publication for one workspace as one atomic unit. The
 * SQL driver runs them in one transaction (so a state change and its outbox rows commit together);
 * without a driver (the default, and the memory store) they run as they come. The orchestrator
 * wraps each phase boundary in it.
 */
import { Context, type Effect, Layer } from "effect"
import type { StorageError } from "./StorageError.ts"

export interface UnitOfWorkShape {
  readonly transactional: <A, E, R>(workspaceId: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
}

export const UnitOfWork = Context.Reference<UnitOfWorkShape>("@spectral/engine/ports/UnitOfWork", {
  defaultValue: () => ({ transactional: (_workspaceId, effect) => effect })
})

/** Provide a UnitOfWork driver (for example the SQL store's transaction). */
export const layerUnitOfWork = (shape: UnitOfWorkShape) => Layer.succeed(UnitOfWork, shape)
