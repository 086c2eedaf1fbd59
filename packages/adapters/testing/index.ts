export * from "./ThrowawayPostgres.ts"
