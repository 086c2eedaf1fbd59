/**
 * How fast the scan cluster notices a dead runner: its shard locks are refreshed every 2 s and
 * expire after 6 s without refresh; survivors re-read assignments every second and check runner
 * health every 3 s. A dead runner's scans go on elsewhere after about 6–8 s (the library's defaults
 * take about 35 s); a runner stalled for more than 6 s (a long pause, a frozen VM) loses its shards
 * too. Runners look for stored messages (submissions they were not sent directly) every 500 ms.
 * Every member of a cluster (runners and submitters) uses the same settings.
 */
import type { ShardingConfig } from "effect/cluster"

export const sharding = {
  shardLockRefreshInterval: "2 seconds",
  shardLockExpiration: "6 seconds",
  refreshAssignmentsInterval: "1 second",
  runnerHealthCheckInterval: "3 seconds",
  // A submission stored for a runner is picked up within half a second (the default polls every 10 s).
  entityMessagePollInterval: "500 millis"
} satisfies Partial<ShardingConfig.ShardingConfig["Service"]>
