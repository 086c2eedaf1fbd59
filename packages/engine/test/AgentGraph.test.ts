import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { sinkAgents, topologicalOrder } from "../src/agents/AgentGraph.ts"
import { renderPrompt } from "../src/agents/PromptRenderer.ts"
import type { PromptTemplate } from "../src/contracts/index.ts"

const agent = (id: string, dependsOn: ReadonlyArray<string> = []) => ({ id, dependsOn })

describe("agent graph", () => {
  it.effect("orders agents so every dependency runs first, keeping declaration order otherwise", () =>
    Effect.gen(function*() {
      const order = yield* topologicalOrder([agent("advisor", ["intake", "lookup"]), agent("intake"), agent("lookup", ["intake"]), agent("auditor")])
      assert.deepStrictEqual(order.map((a) => a.id), ["intake", "lookup", "advisor", "auditor"])
    }))

  it.effect("a cycle is a typed error naming the agents in it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(topologicalOrder([agent("a", ["c"]), agent("b", ["a"]), agent("c", ["b"]), agent("d")]))
      assert.strictEqual(error.reason, "cycle")
      assert.deepStrictEqual([...error.agents].sort(), ["a", "a", "b", "c"].sort())
      assert.include(error.message, "->")
    }))

  it.effect("an unknown dependency and a duplicate agent are typed errors", () =>
    Effect.gen(function*() {
      const unknown = yield* Effect.flip(topologicalOrder([agent("advisor", ["intak"])]))
      assert.strictEqual(unknown.reason, "unknown_dependency")
      assert.include(unknown.message, "intak")
      const duplicate = yield* Effect.flip(topologicalOrder([agent("x"), agent("x")]))
      assert.strictEqual(duplicate.reason, "duplicate_agent")
    }))

  it("the final answer comes from agents nothing depends on", () => {
    assert.deepStrictEqual(sinkAgents([agent("intake"), agent("advisor", ["intake"])]).map((a) => a.id), ["advisor"])
  })
})

describe("prompt rendering", () => {
  const template: PromptTemplate = {
    basePrompt: "Decide the filing status.",
    contextSelection: { mode: "full", maxChars: 20, truncation: "head" },
    chainOfThought: "full",
    fewShotExamples: [{ input: "married, lives apart", output: "{\"filingStatus\":\"hoh\"}" }],
    upstreamInjection: { mode: "fields", fields: ["maritalStatus"], label: "Facts" },
    guidance: ["Check the considered-unmarried test."],
    outputFields: ["filingStatus"]
  }

  it("renders guidance, reasoning, examples, selected upstream fields and truncated context", () => {
    const prompt = renderPrompt(template, "I'm married but my husband moved out in March.", [
      { agentId: "intake", output: { maritalStatus: "married", secret: "not injected" } }
    ])
    assert.include(prompt.system, "Decide the filing status.")
    assert.include(prompt.system, "- Check the considered-unmarried test.")
    assert.include(prompt.system, "step by step")
    assert.include(prompt.system, "exactly these fields: filingStatus.")
    assert.include(prompt.user, "Example 1:")
    assert.include(prompt.user, "Facts (from intake):\n{\"maritalStatus\":\"married\"}")
    assert.notInclude(prompt.user, "not injected")
    assert.isTrue(prompt.user.endsWith("Input:\nI'm married but my h"), "context truncated to 20 characters")
    assert.notInclude(prompt.user, "March")
  })
})
