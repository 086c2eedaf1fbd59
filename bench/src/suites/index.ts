/** Every benchmark suite. Add a suite by adding its module here. */
import type { Suite } from "../Suite.ts"

export const suites: ReadonlyArray<Suite> = []
