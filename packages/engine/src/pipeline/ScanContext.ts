/**
 * What every phase of one scan knows: the workspace, the scan row, the team in topological order,
 * the configuration measured as the baseline, and where it came from. Built once by the orchestrator.
 */
import type { AgentVersion, ChangeSet, Scan, Workspace, WorkspaceAgent } from "../contracts/index.ts"

export interface ScanContext {
  readonly workspace: Workspace
  readonly scan: Scan
  /** Agents in topological order of `dependsOn`. */
  readonly agents: ReadonlyArray<WorkspaceAgent>
  /** The agents whose outputs form the team's final answer. */
  readonly finalAgentIds: ReadonlyArray<string>
  /** The configuration measured as the baseline. */
  readonly baseline: ReadonlyArray<AgentVersion>
  /** The newest change set before this scan (the new change set's `baseline`), if any. */
  readonly previousChangeSet: ChangeSet | undefined
  /** The change set whose configuration is `baseline` (the latest accepted one), if any. */
  readonly baselineChangeSet: ChangeSet | undefined
  readonly concurrency: number
}

export const BASELINE_ARM = "baseline"
