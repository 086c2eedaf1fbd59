/**
 * The SQL store: every repository port on effect/sql + @effect/sql-pg, over a PostgreSQL server or
 * embedded PGlite, with migrations as code and row-level security per workspace. See README.md here.
 */
export * as Migrations from "./Migrations.ts"
export { PgliteClient, type PgliteOptions, PgliteUnavailable } from "./PgliteClient.ts"
export { makeSqlStorage, type Repositories, SqlStorage, type SqlStorageOptions } from "./SqlStorage.ts"
export { makeSqlResponseCache, SqlResponseCache } from "./SqlResponseCache.ts"
export { makeSqlUnitOfWork, makeWorkspaceTransaction, SqlUnitOfWork, type WorkspaceTransaction } from "./WorkspaceTransaction.ts"
export {
  type EventOptions,
  type PgliteStoreOptions,
  type PgOptions,
  type SqlStore,
  Storage,
  StorageConfig,
  StorageSetupError
} from "./Storage.ts"
