/**
 * How a failed SQL statement becomes the storage port's StorageError. A dropped connection, a
 * terminated backend, a timeout, a deadlock or a server that is starting, shutting down or out of
 * resources are `Unavailable` (retryable); a row-level-security or privilege refusal (SQLSTATE
 * 42501) is `Refused`; a constraint violation is `Conflict`; a value the database cannot store (a
 * data exception or a program limit) is `Corrupt`; any other error the server answered is
 * `Refused`. Only `Unavailable` is worth retrying. Owns no queries.
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

/**
 * SQLSTATE classes a retry can outlast: a connection problem (08), the server short of resources
 * (53) or stopping or cancelling (57), a system error (58), a rolled-back transaction (40:
 * serialization failures, deadlocks) and a lock not available (55P03).
 */
const transientClasses = ["08", "53", "57", "58", "40"]
const isTransient = (code: string) => transientClasses.includes(code.slice(0, 2)) || code === "55P03"

const refusedBy = (message: string) => `refused by the database (row-level security or privileges): ${message}`

export const toStorageError = (entity: string, id: string, error: SqlError): StorageError => {
  const code = sqlState(error)
  const message = describe(error)
  const withCode = code === undefined ? message : `${message} (SQLSTATE ${code})`
  switch (error.reason._tag) {
    case "AuthorizationError":
      return StorageError.refused(entity, id, refusedBy(message))
    case "UniqueViolation":
    case "ConstraintError":
      return StorageError.conflict(entity, id, message)
    case "ConnectionError":
    case "DeadlockError":
    case "SerializationError":
    case "LockTimeoutError":
    case "StatementTimeoutError":
      return StorageError.unavailable(withCode)
    default:
      if (code === "42501") return StorageError.refused(entity, id, refusedBy(message))
      if (code !== undefined && code.startsWith("23")) return StorageError.conflict(entity, id, message)
      // No SQLSTATE: the driver failed before the server answered (a lost connection, a timeout).
      if (code === undefined || isTransient(code)) return StorageError.unavailable(withCode)
      // A value the database cannot store (22: data exception, 54: a program limit such as nesting
      // depth or size): the same write fails the same way again.
      if (code.startsWith("22") || code.startsWith("54")) {
        return new StorageError({ reason: { _tag: "Corrupt", entity, id, message: `the database cannot store this value: ${withCode}` } })
      }
      // Anything else the server answered (a statement it rejects, an internal error) is not a
      // passing outage either: refused, so nobody retries it forever.
      return StorageError.refused(entity, id, `the database refused the statement: ${withCode}`)
  }
}
