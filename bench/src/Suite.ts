/**
 * The shape every benchmark suite has: a name, a description, and a run that prints its table
 * and returns named figures (numbers) so runs can be compared with `--json FILE`.
 */
import type { Effect } from "effect"

export interface SuiteOptions {
  /** `--quick`: smaller sizes, for a smoke run; figures are then not comparable to a full run. */
  readonly quick: boolean
}

export interface Suite {
  readonly name: string
  readonly description: string
  readonly run: (options: SuiteOptions) => Effect.Effect<Record<string, number>, unknown>
}
