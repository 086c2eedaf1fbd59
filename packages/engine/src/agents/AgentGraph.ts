/**
 * The agent team as a graph: topological order of `dependsOn` (stable: declaration order breaks
 * ties), with a typed error naming the agents of a cycle or an unknown dependency.
 */
import { Effect, Schema } from "effect"
import type { WorkspaceAgent } from "../contracts/index.ts"

export class AgentGraphError extends Schema.TaggedError<AgentGraphError>()("AgentGraphError", {
  reason: Schema.Literals(["cycle", "unknown_dependency", "duplicate_agent", "empty_team"]),
  agents: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export const topologicalOrder = <A extends Pick<WorkspaceAgent, "id" | "dependsOn">>(
  agents: ReadonlyArray<A>
): Effect.Effect<ReadonlyArray<A>, AgentGraphError> =>
  Effect.suspend(() => {
    if (agents.length === 0) {
      return Effect.fail(new AgentGraphError({ reason: "empty_team", agents: [], message: "the workspace declares no agents" }))
    }
    const byId = new Map<string, A>()
    for (const agent of agents) {
      if (byId.has(agent.id)) {
        return Effect.fail(new AgentGraphError({ reason: "duplicate_agent", agents: [agent.id], message: `agent ${agent.id} is declared twice` }))
      }
      byId.set(agent.id, agent)
    }
    for (const agent of agents) {
      const missing = agent.dependsOn.filter((dep) => !byId.has(dep))
      if (missing.length > 0) {
        return Effect.fail(
          new AgentGraphError({
            reason: "unknown_dependency",
            agents: [agent.id, ...missing],
            message: `agent ${agent.id} depends on unknown agent(s) ${missing.join(", ")}`
          })
        )
      }
    }
    const order: Array<A> = []
    const state = new Map<string, "visiting" | "done">()
    const stack: Array<string> = []
    let cycle: ReadonlyArray<string> | undefined
    const visit = (id: string): void => {
      if (cycle !== undefined) return
      const mark = state.get(id)
      if (mark === "done") return
      if (mark === "visiting") {
        cycle = [...stack.slice(stack.indexOf(id)), id]
        return
      }
      state.set(id, "visiting")
      stack.push(id)
      for (const dep of byId.get(id)!.dependsOn) visit(dep)
      stack.pop()
      state.set(id, "done")
      if (cycle === undefined) order.push(byId.get(id)!)
    }
    for (const agent of agents) visit(agent.id)
    if (cycle !== undefined) {
      return Effect.fail(
        new AgentGraphError({ reason: "cycle", agents: cycle, message: `dependency cycle: ${cycle.join(" -> ")}` })
      )
    }
    return Effect.succeed(order)
  })

/** Agents no other agent depends on: their outputs make the team's final answer. */
export const sinkAgents = <A extends Pick<WorkspaceAgent, "id" | "dependsOn">>(agents: ReadonlyArray<A>): ReadonlyArray<A> =>
  agents.filter((agent) => !agents.some((other) => other.dependsOn.includes(agent.id)))
