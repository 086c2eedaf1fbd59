/** The engine's ports: storage, events, and what travels with a model call. */
export * from "./StorageError.ts"
export * from "./Repositories.ts"
export * from "./PhaseOutputParts.ts"
/** The in-memory driver of every repository port: `MemoryStorage.layer`, `MemoryStorage.make`. */
export * as MemoryStorage from "./MemoryStorage.ts"
export * from "./EventBus.ts"
export * from "./PhaseEvents.ts"
export * from "./UnitOfWork.ts"
export * from "./ModelCall.ts"
