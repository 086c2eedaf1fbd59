import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import { renderedRunPrompt } from "../../src/agents/PromptRenderer.ts"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { GenerationParameters } from "../../src/ports/ModelCall.ts"
import { JUDGE_MARKER } from "../../src/scoring/RubricScorer.ts"
import { toyAnswer, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

/** The toy model, recording every agent prompt exactly as the provider received it. */
const recordingModel = (sent: Map<string, number>) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function*() {
          const params = yield* GenerationParameters
          const system = textOf(options.prompt, "system")
          const user = textOf(options.prompt, "user")
          if (!system.startsWith(JUDGE_MARKER)) sent.set(`${system}\n---\n${user}`, (sent.get(`${system}\n---\n${user}`) ?? 0) + 1)
          const text = toyAnswer(system, user, params.temperature, "reader")
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text },
            { type: "finish", reason: "stop", usage: { inputTokens: { total: 10 }, outputTokens: { total: 5 } } }
          ]
          return parts
        }),
      streamText: () => Stream.fail(AiError.make({ module: "Recorder", method: "streamText", reason: new AiError.InvalidRequestError({ description: "no streaming" } as never) }))
    })
  )

describe("stored traces keep the stimulus and re-create their prompts", () => {
  it.effect("every baseline run's prompt is re-created byte for byte from its template, the trace's stimulus and its upstream outputs; no rendered prompt is stored", () =>
    Effect.gen(function*() {
      const sent = new Map<string, number>()
      const workspace = toyWorkspace({ broken: "reader", size: 24 })
      const layer = ScanEngine.layer().pipe(
        Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(24), recordingModel(sent)))
      )
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        const outcome = yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
        const traces = yield* (yield* ScanTraceRepo).traces(workspace.id, outcome.scan.id)
        const baseline = traces.filter((t) => t.arm === "baseline")
        assert.isAtLeast(baseline.length, 24)
        let recreated = 0
        for (const trace of baseline) {
          assert.isDefined(trace.input)
          for (const run of trace.runs) {
            assert.isUndefined(run.prompt, "a new trace stores no rendered prompt")
            const agent = workspace.agents.find((a) => a.id === run.agentId)!
            const text = renderedRunPrompt(trace, run.agentId, agent.template, agent.dependsOn)
            assert.isDefined(text)
            assert.isTrue(sent.has(text!), `the prompt re-created for ${trace.id}/${run.agentId} is not one the model was sent:\n${text}`)
            recreated += 1
          }
        }
        // Both agents ran on each baseline stimulus (the calculator's prompt holds the reader's output).
        assert.isAtLeast(recreated, 2 * 24)
        assert.isTrue(baseline.some((t) => t.runs.some((r) => r.agentId === "calculator")))
        // The templates' text lives in the agent versions, not once per run in every trace.
        assert.notInclude(JSON.stringify(traces), "Read the quantity and the unit price.")
      }).pipe(Effect.provide(layer))
    }))

  it("a trace stored before 0.2 returns its stored prompt; one with neither prompt nor stimulus returns undefined", () => {
    const agent = toyWorkspace({ broken: "none" }).agents[1]!
    assert.strictEqual(renderedRunPrompt({ runs: [{ agentId: "reader", prompt: "old text" }] }, "reader", agent.template, []), "old text")
    assert.isUndefined(renderedRunPrompt({ runs: [{ agentId: "reader" }] }, "reader", agent.template, []))
  })
})
