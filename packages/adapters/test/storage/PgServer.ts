/**
 * What the PostgreSQL-server suites receive from the global setup (`storage.globalSetup.ts`): three
 * connection URLs to one throwaway database, or the reason there is none.
 */
import type { PgServerInfo } from "../../src/testing/ThrowawayPostgres.ts"

export type { PgServerInfo }

declare module "vitest" {
  export interface ProvidedContext {
    spectralPgServer: PgServerInfo | null
    spectralPgServerSkipReason: string
    /** An initialised, unmigrated PGlite data folder to copy. */
    spectralPgliteTemplate: string
  }
}

/** CI sets this: without a server the suite fails instead of skipping. */
export const serverRequired = (): boolean => process.env["SPECTRAL_REQUIRE_PG_SERVER"] === "1"
