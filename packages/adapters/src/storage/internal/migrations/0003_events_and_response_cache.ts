/**
 * Migration 3: durable events and the model response cache, with the same row-level security as
 * migrations 1 and 2.
 * - `event_outbox`: events written in the publisher's transaction, delivered at least once by the
 *   dispatcher (`delivered_at` set once every subscriber has acknowledged or dead-lettered it;
 *   `attempts` counts failed handler runs per subscriber; `next_attempt_at` is the back-off).
 * - `processed_events`: one row per (subscriber, event) a handler applied, written in the same
 *   transaction as the handler's effects, so a redelivered event is applied once.
 * - `dead_letters`: events nobody can handle (unknown type or version, undecodable payload) and
 *   events whose handler kept failing, with their payload.
 * - `response_cache`: successful model responses keyed by the SHA-256 of the full request.
 * The dispatcher must find undelivered events of every workspace after a restart, which row-level
 * security hides from the app role: `spectral.workspaces_with_pending_events()` (SECURITY DEFINER,
 * owned by the migrating role, which alone may read the outbox across workspaces through the
 * `outbox_dispatch_discovery` policy) returns only the workspace ids that have due events.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["event_outbox", "processed_events", "dead_letters", "response_cache"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = []

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const isolation = `USING (workspace_id = current_setting('spectral.workspace_id', true))
        WITH CHECK (workspace_id = current_setting('spectral.workspace_id', true))`
  const statements = [
    `CREATE TABLE spectral.event_outbox (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      type text NOT NULL,
      version integer NOT NULL,
      doc jsonb NOT NULL,
      published_at timestamptz NOT NULL DEFAULT now(),
      attempts jsonb NOT NULL DEFAULT '{}'::jsonb,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX event_outbox_pending ON spectral.event_outbox (workspace_id, seq) WHERE delivered_at IS NULL`,
    `CREATE TABLE spectral.processed_events (
      workspace_id text COLLATE "C" NOT NULL,
      subscriber text COLLATE "C" NOT NULL,
      event_id text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL DEFAULT '{}'::jsonb,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, subscriber, event_id)
    )`,
    `CREATE TABLE spectral.dead_letters (
      workspace_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      event_id text COLLATE "C" NOT NULL,
      subscriber text COLLATE "C",
      reason text NOT NULL,
      type text NOT NULL,
      version integer,
      doc jsonb NOT NULL,
      error text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, id)
    )`,
    `CREATE INDEX dead_letters_in_order ON spectral.dead_letters (workspace_id, seq)`,
    `CREATE TABLE spectral.response_cache (
      workspace_id text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      stored_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, key)
    )`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} ${isolation}`,
      appendOnlyTables.includes(table)
        ? `GRANT SELECT, INSERT ON spectral.${table} TO spectral_app`
        : `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ]),
    // Only the migrating role (the owner) reads the outbox across workspaces, and only through the
    // function below; the app role may call the function, which returns workspace ids and nothing else.
    `CREATE POLICY outbox_dispatch_discovery ON spectral.event_outbox FOR SELECT TO CURRENT_USER USING (true)`,
    `CREATE FUNCTION spectral.workspaces_with_pending_events() RETURNS SETOF text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT DISTINCT workspace_id FROM spectral.event_outbox
            WHERE delivered_at IS NULL AND next_attempt_at <= now() $$`,
    `REVOKE ALL ON FUNCTION spectral.workspaces_with_pending_events() FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION spectral.workspaces_with_pending_events() TO spectral_app`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
