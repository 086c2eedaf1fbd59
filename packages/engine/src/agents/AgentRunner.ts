/**
 * AgentRunner: runs a team configuration on one stimulus, agents in topological order of
 * `dependsOn`, each upstream output injected per the template. The default renders the structured
 * PromptTemplate and calls the language model with the agent's Hyperparameters; hosts that call
 * their own agents provide another layer.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import type { AgentRun, AgentVersion, RunStatus, WorkspaceAgent } from "../contracts/index.ts"
import type { ModelPhase } from "../ports/ModelCall.ts"
import { type BudgetExhausted, BudgetLedger } from "./BudgetLedger.ts"
import { callModel, extractJsonObject, ModelCallFailed } from "./ModelCaller.ts"
import { renderPrompt } from "./PromptRenderer.ts"

export interface TeamMember {
  readonly agent: WorkspaceAgent
  readonly version: AgentVersion
}

export interface TeamRunRequest {
  readonly workspaceId: string
  /** Members in topological order. */
  readonly team: ReadonlyArray<TeamMember>
  readonly stimulus: string
  readonly epoch: number
  readonly phase: ModelPhase
  /** Replace an agent's output by a given one instead of running it (credit assignment). */
  readonly overrides?: Readonly<Record<string, Record<string, unknown>>>
}

export interface TeamRunResult {
  readonly runs: ReadonlyArray<AgentRun>
  readonly status: RunStatus
  readonly outputs: Readonly<Record<string, Record<string, unknown>>>
}

/**
 * A clock reading as an ISO timestamp. Runs started in the same millisecond (most of a simulated or
 * cached scan's) share one formatting: the last reading's string is kept.
 */
const isoAt = (() => {
  let lastMillis = Number.NaN
  let lastIso = ""
  return (millis: number): string => {
    if (millis !== lastMillis) {
      lastIso = new Date(millis).toISOString()
      lastMillis = millis
    }
    return lastIso
  }
})()

export class AgentRunner extends Context.Service<AgentRunner, {
  readonly runTeam: (request: TeamRunRequest) => Effect.Effect<TeamRunResult, BudgetExhausted>
}>()("@spectral/engine/agents/AgentRunner") {
  static readonly layerNoDeps = Layer.effect(
    AgentRunner,
    Effect.gen(function*() {
      // The two services the calls need, provided one by one: providing the whole layer context
      // would copy every service of the engine into each run's context.
      const model = yield* LanguageModel.LanguageModel
      const ledger = yield* BudgetLedger
      const runOne = Effect.fnUntraced(function*(
        request: TeamRunRequest,
        member: TeamMember,
        outputs: Readonly<Record<string, Record<string, unknown>>>
      ) {
        const { agent, version } = member
        const upstream = agent.dependsOn.map((id) => ({ agentId: id, output: outputs[id] ?? {} }))
        const prompt = renderPrompt(version.template, request.stimulus, upstream)
        const hp = version.hyperparameters
        const startedAt = isoAt(yield* Clock.currentTimeMillis)
        const answer = yield* callModel(prompt.system, prompt.user, {
          provider: hp.provider,
          model: hp.model,
          temperature: hp.temperature,
          maxTokens: hp.maxTokens,
          topP: hp.topP,
          seed: hp.seed,
          modelVersion: hp.modelVersion,
          retrieval: hp.retrieval,
          epoch: request.epoch
        }, { workspaceId: request.workspaceId, phase: request.phase, purpose: `agent:${agent.id}`, agentName: agent.name }).pipe(
          Effect.catchTag("ModelCallFailed", Effect.succeed)
        )
        if (answer instanceof ModelCallFailed) {
          const run: AgentRun = {
            agentId: agent.id,
            agentVersion: version.version,
            rawOutput: "",
            status: answer.kind === "parse" ? "parse_failure" : "infra_failure",
            error: answer.message,
            latencyMs: 0,
            startedAt,
            inputTokens: 0,
            outputTokens: 0,
            costUsd: 0,
            cached: false
          }
          return run
        }
        const a = answer
        const parsed = extractJsonObject(a.text)
        const missing = parsed === undefined
          ? version.template.outputFields
          : version.template.outputFields.filter((field) => !(field in parsed))
        const truncated = a.finishReason === "length"
        const status: RunStatus = parsed === undefined || missing.length > 0 || truncated ? "parse_failure" : "ok"
        const run: AgentRun = {
          agentId: agent.id,
          agentVersion: version.version,
          rawOutput: a.text,
          ...(parsed !== undefined && status === "ok" ? { output: parsed } : {}),
          status,
          ...(status === "parse_failure"
            ? {
              error: truncated
                ? "answer truncated (finish_reason length)"
                : parsed === undefined
                ? "answer is not a JSON object"
                : `answer lacks field(s) ${missing.join(", ")}`
            }
            : {}),
          latencyMs: a.latencyMs,
          startedAt,
          inputTokens: a.inputTokens,
          outputTokens: a.outputTokens,
          costUsd: a.costUsd,
          cached: a.cached
        }
        return run
      })

      const runTeam = Effect.fnUntraced(function*(request: TeamRunRequest) {
        const runs: Array<AgentRun> = []
        const outputs: Record<string, Record<string, unknown>> = {}
        let status: RunStatus = "ok"
        for (const member of request.team) {
          const override = request.overrides?.[member.agent.id]
          if (override !== undefined) {
            outputs[member.agent.id] = override
            continue
          }
          const run = yield* runOne(request, member, outputs)
          runs.push(run)
          if (run.status !== "ok" || run.output === undefined) {
            status = run.status === "ok" ? "parse_failure" : run.status
            break
          }
          outputs[member.agent.id] = run.output
        }
        return { runs, status, outputs } satisfies TeamRunResult
      }, Effect.provideService(LanguageModel.LanguageModel, model), Effect.provideService(BudgetLedger, ledger))

      return AgentRunner.of({ runTeam })
    })
  )
}
