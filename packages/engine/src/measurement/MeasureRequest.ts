/** What measuring one arm (a team configuration) on a set of stimuli takes. */
import type { AgentVersion, EvalSetSample, EvaluationFramework, WorkspaceAgent } from "../contracts/index.ts"
import type { ModelPhase } from "../ports/ModelCall.ts"

export interface MeasureRequest {
  readonly workspaceId: string
  readonly scanId: string
  readonly arm: string
  readonly agents: ReadonlyArray<WorkspaceAgent>
  readonly team: ReadonlyArray<AgentVersion>
  readonly samples: ReadonlyArray<EvalSetSample>
  readonly framework: EvaluationFramework
  readonly phase: ModelPhase
  readonly finalAgentIds: ReadonlyArray<string>
  readonly concurrency: number
}
