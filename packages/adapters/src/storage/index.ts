/** The SQL store: repositories on effect/sql + @effect/sql-pg, over a PostgreSQL server or embedded PGlite. */
export * from "./Migrations.ts"
export * from "./PgliteClient.ts"
export * from "./SqlFailure.ts"
export * from "./SqlStorage.ts"
export * from "./Storage.ts"
