/**
 * How a failed SQL statement becomes the storage port's StorageError. A dropped connection, a
 * terminated backend, a timeout, a deadlock or a server that is starting or shutting down are
 * `Unavailable` (retryable); a row-level-security or privilege refusal (SQLSTATE 42501) is
 * `Refused`; a constraint violation is `Conflict`. Owns no queries.
 */
import { StorageError } from "@spectral/engine"
import type { SqlError } from "effect/sql/SqlError"

/** The SQLSTATE a PostgreSQL error carries on its cause, when it has one. */
export const sqlState = (error: SqlError): string | undefined => {
  const cause = error.reason.cause
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return undefined
}

const describe = (error: SqlError): string => {
  const cause = error.reason.cause
  const detail = cause instanceof Error && cause.message !== "" ? cause.message : undefined
  const own = error.reason.message ?? error.message
  if (detail === undefined || own.includes(detail)) return own
  return detail.includes(own) ? detail : `${own}: ${detail}`
}

export const toStorageError = (entity: string, id: string, error: SqlError): StorageError => {
  const code = sqlState(error)
  const message = describe(error)
  switch (error.reason._tag) {
    case "AuthorizationError":
      return StorageError.refused(entity, id, `refused by the database (row-level security or privileges): ${message}`)
    case "UniqueViolation":
    case "ConstraintError":
      return StorageError.conflict(entity, id, message)
    default:
      if (code === "42501") return StorageError.refused(entity, id, `refused by the database (row-level security or privileges): ${message}`)
      if (code !== undefined && code.startsWith("23")) return StorageError.conflict(entity, id, message)
      return StorageError.unavailable(code === undefined ? message : `${message} (SQLSTATE ${code})`)
  }
}
