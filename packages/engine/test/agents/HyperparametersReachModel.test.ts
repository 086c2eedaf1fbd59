/**
 * Every optimization target reaches the model: an agent's `modelVersion` and `retrieval` are in the
 * GenerationParameters of each of its calls (the judge's calls carry none), so a provider can send
 * them or refuse the call naming them (the OpenAI-compatible provider's own test covers that side).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { CallContext, GenerationParameters } from "../../src/ports/ModelCall.ts"
import { toyAnswer, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

const recordingModel = (seen: Array<{ purpose: string; parameters: GenerationParameters }>) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function*() {
          const parameters = yield* GenerationParameters
          seen.push({ purpose: (yield* CallContext).purpose, parameters })
          const text = toyAnswer(textOf(options.prompt, "system"), textOf(options.prompt, "user"), parameters.temperature, "reader")
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text },
            { type: "finish", reason: "stop", usage: { inputTokens: { total: 10 }, outputTokens: { total: 5 } } }
          ]
          return parts
        }),
      streamText: () => Stream.fail(AiError.make({ module: "Recorder", method: "streamText", reason: new AiError.InvalidRequestError({ description: "no streaming" } as never) }))
    })
  )

describe("hyperparameters reach the model call", () => {
  it.effect("an agent's modelVersion and retrieval are in every one of its calls' parameters", () =>
    Effect.gen(function*() {
      const seen: Array<{ purpose: string; parameters: GenerationParameters }> = []
      const base = toyWorkspace({ broken: "none", size: 24 })
      const workspace = {
        ...base,
        agents: base.agents.map((a) =>
          a.id === "reader" ? { ...a, hyperparameters: { ...a.hyperparameters, modelVersion: "2025-04-14", retrieval: { topK: 4, similarityThreshold: 0.7 } } } : a
        )
      }
      const layer = ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(24), recordingModel(seen))))
      yield* Effect.gen(function*() {
        yield* (yield* WorkspaceRepo).upsert(workspace)
        yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 3, concurrency: 4 })
      }).pipe(Effect.provide(layer))
      const reader = seen.filter((s) => s.purpose === "agent:reader")
      assert.isAtLeast(reader.length, 24)
      assert.isTrue(reader.every((s) => s.parameters.modelVersion === "2025-04-14"))
      assert.isTrue(reader.every((s) => s.parameters.retrieval?.topK === 4 && s.parameters.retrieval.similarityThreshold === 0.7))
      const calculator = seen.filter((s) => s.purpose === "agent:calculator")
      assert.isAtLeast(calculator.length, 24)
      assert.isTrue(calculator.every((s) => s.parameters.modelVersion === undefined && s.parameters.retrieval === undefined))
    }))
})
