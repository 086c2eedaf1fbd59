/**
 * The SQL store: every repository port on effect/sql + @effect/sql-pg, over a PostgreSQL server or
 * embedded PGlite, with migrations as code and row-level security per workspace. `Storage` is the
 * entry point; see README.md here.
 */
export * as Storage from "./Storage.ts"
export {
  type EventOptions,
  type PgliteStoreOptions,
  PgliteUnavailable,
  type PgOptions,
  type Repositories,
  type SqlStore,
  StorageConfig,
  StorageSetupError
} from "./Storage.ts"
