/**
 * One workspace's transaction on the SQL store, shared by the unit of work, the durable event bus
 * and the response cache: `transactional(workspaceId, effect)` runs `effect` inside
 * `withTransaction` after `set_config('spectral.workspace_id', …, true)` (and, with `assumeRole`,
 * `set_config('role', …, true)`), so row-level security scopes everything it does; the empty
 * workspace id is refused before any SQL. Repository calls made inside join that transaction:
 * effect/sql keeps the open transaction in the fiber's context, and a nested `withTransaction`
 * becomes a savepoint on the same connection. SQL failures become StorageErrors
 * (`toStorageError`). Owns no tables.
 */
import type { StorageError, UnitOfWorkShape } from "@spectral/engine"
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { isWorkspaceId } from "@spectral/engine/contracts"
import { emptyWorkspaceRefused } from "./repositories/SqlRepoContext.ts"
import { toStorageError } from "./SqlFailure.ts"

export interface WorkspaceTransaction {
  /** Run `effect` in one transaction (or a savepoint of the caller's) scoped to `workspaceId`. */
  readonly transactional: <A, E, R>(
    workspaceId: string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, Exclude<E, SqlError> | StorageError, R>
  /** A transaction with no workspace set, as the app role (for the dispatcher's discovery call). */
  readonly unscoped: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, Exclude<E, SqlError> | StorageError, R>
}

export const makeWorkspaceTransaction = (
  sql: PgClient.PgClient,
  options: { readonly assumeRole?: string | undefined } = {}
): WorkspaceTransaction => {
  const assumeRole = options.assumeRole
  const enter = (workspaceId: string) =>
    assumeRole === undefined
      ? sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true)`
      : sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true), set_config('role', ${assumeRole}, true)`
  const enterUnscoped = assumeRole === undefined ? Effect.void : Effect.asVoid(sql`SELECT set_config('role', ${assumeRole}, true)`)

  const run = <A, E, R>(entity: string, id: string, body: Effect.Effect<A, E, R>) =>
    sql.withTransaction(body).pipe(
      Effect.mapError((error) => isSqlError(error) ? toStorageError(entity, id, error) : error as Exclude<E, SqlError>),
      // A failed ROLLBACK or COMMIT (the connection is gone) is a defect in effect/sql; keep it typed.
      Effect.catchDefect((defect) => isSqlError(defect) ? Effect.fail(toStorageError(entity, id, defect)) : Effect.die(defect))
    )

  return {
    transactional: (workspaceId, effect) =>
      isWorkspaceId(workspaceId)
        ? run("unit of work", workspaceId, Effect.andThen(enter(workspaceId), effect))
        : Effect.fail(emptyWorkspaceRefused("unit of work", "(empty workspace id)")),
    unscoped: (effect) => run("unit of work", "(no workspace)", Effect.andThen(enterUnscoped, effect))
  }
}

/** The engine's UnitOfWork on the SQL store: one transaction per unit, repository calls join it. */
export const makeSqlUnitOfWork = (transaction: WorkspaceTransaction): UnitOfWorkShape => ({
  transactional: (workspaceId, effect) => transaction.transactional(workspaceId, effect)
})
