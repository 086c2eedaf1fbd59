/**
 * The one error every repository port fails with, carrying a `reason` union (like effect/sql's
 * SqlError): NotFound, Conflict (a guarded update lost its race or a duplicate), Refused (a row of
 * another workspace, or a write the database's row-level security or privileges refuse),
 * Unavailable, or Corrupt.
 */
import { Schema } from "effect"

export const StorageErrorReason = Schema.Union([
  Schema.TaggedStruct("NotFound", { entity: Schema.String, id: Schema.String }),
  Schema.TaggedStruct("Conflict", { entity: Schema.String, id: Schema.String, message: Schema.String }),
  Schema.TaggedStruct("Unavailable", { message: Schema.String }),
  Schema.TaggedStruct("Refused", { entity: Schema.String, id: Schema.String, message: Schema.String }),
  Schema.TaggedStruct("Corrupt", { entity: Schema.String, id: Schema.String, message: Schema.String })
])
export type StorageErrorReason = typeof StorageErrorReason.Type

export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  reason: StorageErrorReason
}) {
  override get message(): string {
    const r = this.reason
    switch (r._tag) {
      case "NotFound":
        return `${r.entity} ${r.id} not found`
      case "Conflict":
        return `${r.entity} ${r.id}: ${r.message}`
      case "Unavailable":
        return `storage unavailable: ${r.message}`
      case "Refused":
        return `${r.entity} ${r.id} refused: ${r.message}`
      case "Corrupt":
        return `${r.entity} ${r.id} is corrupt: ${r.message}`
    }
  }
  static notFound(entity: string, id: string) {
    return new StorageError({ reason: { _tag: "NotFound", entity, id } })
  }
  static conflict(entity: string, id: string, message: string) {
    return new StorageError({ reason: { _tag: "Conflict", entity, id, message } })
  }
  static refused(entity: string, id: string, message: string) {
    return new StorageError({ reason: { _tag: "Refused", entity, id, message } })
  }
  static unavailable(message: string) {
    return new StorageError({ reason: { _tag: "Unavailable", message } })
  }
}
