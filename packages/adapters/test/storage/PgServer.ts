/**
 * What the PostgreSQL-server suites receive from the global setup (`storage.globalSetup.ts`): three
 * connection URLs to one throwaway database, or the reason there is none.
 */
export interface PgServerInfo {
  /** `throwaway`: a cluster started for this run; `external`: SPECTRAL_TEST_DATABASE_URL. */
  readonly source: "throwaway" | "external"
  /** A superuser (or the external URL): creates roles and databases, terminates backends. */
  readonly adminUrl: string
  /** The role that owns the schema and runs migrations (not a superuser on the throwaway cluster). */
  readonly ownerUrl: string
  /** The engine's role, `spectral_app`: not the owner, not a superuser, no BYPASSRLS. */
  readonly appUrl: string
}

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
