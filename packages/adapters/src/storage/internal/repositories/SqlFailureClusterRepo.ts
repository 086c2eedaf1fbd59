/**
 * FailureClusterRepo on SQL: a scan's failure clusters (`spectral.failure_clusters`), written once
 * per id and listed in insertion order (SqlScanRows).
 */
import { FailureClusterRepo } from "@spectral/engine"
import { FailureCluster } from "@spectral/engine/contracts"
import { Effect } from "effect"
import type { SqlRepoContext } from "./SqlRepoContext.ts"
import { scanRows } from "./SqlScanRows.ts"

export const makeSqlFailureClusterRepo = (context: SqlRepoContext): FailureClusterRepo["Service"] => {
  const clusters = scanRows(context, "failure_clusters", FailureCluster, "failure cluster")

  return FailureClusterRepo.of({
    insert: Effect.fn("SqlFailureClusterRepo.insert")(clusters.insert),
    list: Effect.fn("SqlFailureClusterRepo.list")(clusters.list)
  })
}
