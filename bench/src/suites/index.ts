/** Every benchmark suite. Add a suite by adding its module here. */
import type { Suite } from "../Suite.ts"

import { bootstrapSuite } from "./bootstrap.ts"
import { clusterSuite } from "./cluster.ts"
import { scanSuite } from "./scan.ts"
export const suites: ReadonlyArray<Suite> = [bootstrapSuite, clusterSuite, scanSuite]
