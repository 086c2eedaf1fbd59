/** Every benchmark suite. Add a suite by adding its module here. */
import type { Suite } from "../Suite.ts"

import { bootstrapSuite } from "./bootstrap.ts"
import { clusterSuite } from "./cluster.ts"
import { optimizeSuite } from "./optimize.ts"
import { verdictSuite } from "./verdict.ts"
import { scanSuite } from "./scan.ts"
import { ingestSuite } from "./ingest.ts"
import { lifecycleSuite } from "./lifecycle.ts"
import { hostSuite } from "./host.ts"
import { runnersSuite } from "./runners.ts"
export const suites: ReadonlyArray<Suite> = [bootstrapSuite, clusterSuite, verdictSuite, scanSuite, optimizeSuite, ingestSuite, lifecycleSuite, hostSuite, runnersSuite]
