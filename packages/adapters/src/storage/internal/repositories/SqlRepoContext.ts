/**
 * What every SQL repository is built from: the PgClient, the workspace-scoped transaction each call
 * runs in (`set_config('spectral.workspace_id', ..., true)`, and with `assumeRole` also
 * `set_config('role', ..., true)`, so row-level security scopes it; the empty workspace id is
 * refused before any SQL; SQL failures become StorageErrors through `toStorageError`), the JSON
 * document codecs (a row that no longer decodes is a `Corrupt` StorageError), batching and the
 * workspace check on written rows. Owns no table and no query.
 */
import { StorageError } from "@spectral/engine"
import { isWorkspaceId } from "@spectral/engine/contracts"
import { Effect, Schema } from "effect"
import type { PgClient } from "@effect/sql-pg"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { toStorageError } from "../SqlFailure.ts"

export interface DocRow {
  readonly id: string
  readonly doc: unknown
}

export type Codec<A> = Schema.Codec<A, unknown>

export const corrupt = (entity: string, id: string, message: string) =>
  new StorageError({ reason: { _tag: "Corrupt", entity, id, message } })

/** The empty workspace id names no workspace: refused before any SQL runs. */
export const emptyWorkspaceRefused = (entity: string, id: string) =>
  StorageError.refused(entity, id, "the empty workspace id names no workspace")

export const decodeRow = <A>(schema: Codec<A>, entity: string) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (row: DocRow): Effect.Effect<A, StorageError> =>
    decode(row.doc).pipe(Effect.mapError((error) => corrupt(entity, row.id, error.message)))
}

export const decodeRows = <A>(schema: Codec<A>, entity: string) => {
  const decode = decodeRow(schema, entity)
  return (rows: ReadonlyArray<DocRow>): Effect.Effect<ReadonlyArray<A>, StorageError> => Effect.forEach(rows, decode)
}

export const encodeDoc = <A>(schema: Codec<A>, entity: string) => {
  const encode = Schema.encodeUnknownEffect(schema)
  return (value: A, id: string): Effect.Effect<unknown, StorageError> =>
    encode(value).pipe(Effect.mapError((error) => corrupt(entity, id, `refused to store an invalid value: ${error.message}`)))
}

export const chunks = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}

/** A row must name the workspace it is written under (row-level security would refuse it anyway). */
export const checkWorkspace = <A extends { readonly workspaceId: string }>(
  entity: string,
  workspaceId: string,
  rows: ReadonlyArray<A>,
  idOf: (row: A) => string = (row) => (row as unknown as { readonly id: string }).id
): Effect.Effect<void, StorageError> => {
  const stray = rows.find((row) => row.workspaceId !== workspaceId)
  return stray === undefined
    ? Effect.void
    : Effect.fail(StorageError.refused(entity, idOf(stray), `belongs to workspace "${stray.workspaceId}", not "${workspaceId}"`))
}

/** Last write wins for a repeated id, at the position of its first occurrence (like a Map). */
export const dedupeById = <A extends { readonly id: string }>(rows: ReadonlyArray<A>): ReadonlyArray<A> =>
  [...new Map(rows.map((row) => [row.id, row] as const)).values()]

export interface SqlRepoContext {
  readonly sql: PgClient.PgClient
  /** Rows per INSERT when writing a batch. */
  readonly batchSize: number
  /** The role switched to inside every transaction, if any. */
  readonly assumeRole: string | undefined
  /** One transaction scoped to one workspace; SQL failures become StorageErrors. */
  readonly inWorkspace: <A, E, R>(
    workspaceId: string,
    entity: string,
    id: string,
    body: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, Exclude<E, SqlError> | StorageError, R>
  /** The one row a lookup by key found, decoded; `NotFound` when there is none. */
  readonly single: <A>(
    rows: ReadonlyArray<DocRow>,
    decode: (row: DocRow) => Effect.Effect<A, StorageError>,
    entity: string,
    id: string
  ) => Effect.Effect<A, StorageError>
  /** A JSONB parameter. */
  readonly json: (value: unknown) => ReturnType<PgClient.PgClient["json"]>
}

export const makeSqlRepoContext = (
  sql: PgClient.PgClient,
  options: { readonly batchSize: number; readonly assumeRole: string | undefined }
): SqlRepoContext => {
  const { assumeRole, batchSize } = options

  const enterWorkspace = (workspaceId: string) =>
    assumeRole === undefined
      ? sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true)`
      : sql`SELECT set_config('spectral.workspace_id', ${workspaceId}, true), set_config('role', ${assumeRole}, true)`

  const inWorkspace = <A, E, R>(
    workspaceId: string,
    entity: string,
    id: string,
    body: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, SqlError> | StorageError, R> =>
    !isWorkspaceId(workspaceId)
      ? Effect.fail(emptyWorkspaceRefused(entity, id))
      : sql.withTransaction(Effect.andThen(enterWorkspace(workspaceId), body)).pipe(
        Effect.mapError((error) =>
          isSqlError(error) ? toStorageError(entity, id, error) : error as Exclude<E, SqlError>
        ),
        // effect/sql turns a failed ROLLBACK or COMMIT cleanup into a defect; when the connection is
        // gone (the usual reason) that is still just an unavailable database, so keep it typed.
        Effect.catchDefect((defect) =>
          isSqlError(defect) ? Effect.fail(toStorageError(entity, id, defect)) : Effect.die(defect)
        )
      )

  const single = <A>(
    rows: ReadonlyArray<DocRow>,
    decode: (row: DocRow) => Effect.Effect<A, StorageError>,
    entity: string,
    id: string
  ): Effect.Effect<A, StorageError> => rows[0] === undefined ? Effect.fail(StorageError.notFound(entity, id)) : decode(rows[0])

  const json = (value: unknown) => sql.json(value)

  return { sql, batchSize, assumeRole, inWorkspace, single, json }
}
