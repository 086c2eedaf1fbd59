/**
 * Migration 8: the world-evolution loop's durable state.
 * - `evolution_evidence` (workspace-scoped, append-only for the app role): one row per event the
 *   loop consumed in that workspace — scan, cluster, label, explanations, numbers — keyed by
 *   (workspace, event), so an event consumed twice is stored once.
 * - `evolution_cursors` (workspace-scoped): per workspace and consumer, the last stored event
 *   (outbox `seq`) the loop consumed.
 * - `evolution_patterns` and `evolution_candidates` (platform-level: no `workspace_id`, no row-level
 *   security): every workspace's evidence for a pattern summed into counts only (workspaces, events,
 *   members, weighted frequency and effect, segment and rule-scope counts, world versions), and the
 *   rule candidates raised from them with their promotion state and its history. Neither holds a
 *   workspace id, a scan id or any workspace's text. The app role may read, insert and update them,
 *   never delete.
 * - `spectral.workspaces_with_evolution_events()`: like the dispatcher's discovery function
 *   (migration 3), SECURITY DEFINER, returning only the ids of workspaces whose outbox holds
 *   failure-cluster or divergence events, so the loop can catch up after a restart.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const workspaceTables = ["evolution_evidence", "evolution_cursors"] as const

export const appendOnlyTables: ReadonlyArray<(typeof workspaceTables)[number]> = ["evolution_evidence"]

export const platformTables = ["evolution_patterns", "evolution_candidates"] as const

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const workspace = `NULLIF(current_setting('spectral.workspace_id', true), '')`
  const statements = [
    `CREATE TABLE spectral.evolution_evidence (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      event_id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      pattern_id text COLLATE "C" NOT NULL,
      usable boolean NOT NULL,
      doc jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, event_id)
    )`,
    `CREATE INDEX evolution_evidence_by_pattern ON spectral.evolution_evidence (workspace_id, pattern_id, seq)`,
    `CREATE TABLE spectral.evolution_cursors (
      workspace_id text COLLATE "C" NOT NULL CHECK (workspace_id <> ''),
      consumer text COLLATE "C" NOT NULL,
      position bigint NOT NULL,
      doc jsonb NOT NULL DEFAULT '{}'::jsonb,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, consumer)
    )`,
    `CREATE TABLE spectral.evolution_patterns (
      id text COLLATE "C" PRIMARY KEY,
      world_model_id text COLLATE "C" NOT NULL,
      doc jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE spectral.evolution_candidates (
      id text COLLATE "C" PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      world_model_id text COLLATE "C" NOT NULL,
      status text NOT NULL,
      doc jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX evolution_candidates_in_order ON spectral.evolution_candidates (seq)`,
    ...workspaceTables.flatMap((table) => [
      `ALTER TABLE spectral.${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE spectral.${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY workspace_isolation ON spectral.${table} USING (workspace_id = ${workspace}) WITH CHECK (workspace_id = ${workspace})`,
      appendOnlyTables.includes(table)
        ? `GRANT SELECT, INSERT ON spectral.${table} TO spectral_app`
        : `GRANT SELECT, INSERT, UPDATE, DELETE ON spectral.${table} TO spectral_app`
    ]),
    ...platformTables.map((table) => `GRANT SELECT, INSERT, UPDATE ON spectral.${table} TO spectral_app`),
    `CREATE FUNCTION spectral.workspaces_with_evolution_events() RETURNS SETOF text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
      AS $$ SELECT DISTINCT workspace_id FROM spectral.event_outbox
            WHERE type IN ('platform.failure_cluster.detected', 'rubric.divergence') AND workspace_id <> ''
            ORDER BY workspace_id $$`,
    `REVOKE ALL ON FUNCTION spectral.workspaces_with_evolution_events() FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION spectral.workspaces_with_evolution_events() TO spectral_app`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})
