/**
 * Test wiring for whole scans: the engine on in-memory storage, the tax world, the in-memory bus
 * and a simulated model that counts its calls by phase and can be told to crash.
 */
import { Effect, Layer, Ref, Schema } from "effect"
import { AiError, LanguageModel, type Response } from "effect/ai"
import { simulatedAnswer } from "@spectral/adapters"
import { CallContext, EventBus, GenerationParameters, MemoryStorage, ScanEngine } from "@spectral/engine"
import { Workspace } from "@spectral/engine/contracts"
import { WorldsEvalSetProvider } from "@spectral/worlds"
import { taxPrepWorkspace } from "../src/TaxPrepTeam.ts"

export interface CallLog {
  readonly calls: Ref.Ref<ReadonlyArray<string>>
  /** Answer HTTP 429 (as a provider error) to the calls whose index this returns true for. */
  readonly rateLimited?: (index: number, phase: string) => boolean
  /** Die (a crash, not a model error) on the call with this index, once. */
  readonly crashAt: Ref.Ref<number | undefined>
}

const textOf = (prompt: { readonly content: ReadonlyArray<{ readonly role: string; readonly content: unknown }> }, role: string) =>
  prompt.content.filter((m) => m.role === role).map((m) =>
    typeof m.content === "string" ? m.content : (m.content as ReadonlyArray<{ type: string; text?: string }>).map((p) => p.text ?? "").join("")
  ).join("\n")

/**
 * Every number in an agent's JSON answer off by 7, every flag flipped and the filing status moved
 * to the next one (the judge's answers are left alone): what a model that misreads a kind of
 * household does to every agent it reaches.
 */
const nextStatus: Record<string, string> = { single: "hoh", hoh: "mfs", mfs: "mfj", mfj: "qss", qss: "single" }
const misread = (text: string): string => {
  try {
    const value = JSON.parse(text) as Record<string, unknown>
    return JSON.stringify(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === "number" ? v + 7 : typeof v === "boolean" ? !v : k === "filingStatus" && typeof v === "string" ? nextStatus[v] ?? v : v])))
  } catch {
    return text
  }
}

export const countingModel = (log: CallLog, seed = 1, misreads?: (user: string) => boolean) =>
  Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function*() {
          const params = yield* GenerationParameters
          const context = yield* CallContext
          const index = (yield* Ref.get(log.calls)).length
          const crashAt = yield* Ref.get(log.crashAt)
          if (crashAt !== undefined && index === crashAt) {
            yield* Ref.set(log.crashAt, undefined)
            return yield* Effect.die(new Error(`simulated crash on model call ${index}`))
          }
          yield* Ref.update(log.calls, (calls) => [...calls, context.phase])
          if (log.rateLimited?.(index, context.phase) === true) {
            return yield* Effect.fail(AiError.make({
              module: "TestProvider",
              method: "generateText",
              reason: new AiError.UnknownError({ description: "HTTP 429 Too Many Requests: rate limit reached" })
            }))
          }
          const system = textOf(options.prompt, "system")
          const user = textOf(options.prompt, "user")
          const answer = simulatedAnswer(system, user, params, seed)
          const text = misreads !== undefined && context.purpose !== "judge" && misreads(user) ? misread(answer) : answer
          const parts: Array<Response.PartEncoded> = [
            { type: "text", text },
            { type: "finish", reason: "stop", usage: { inputTokens: { total: Math.ceil((system + user).length / 4) }, outputTokens: { total: Math.ceil(text.length / 4) } } }
          ]
          return parts
        }),
      streamText: () => Effect.die("not used") as never
    })
  )

export const makeLog = Effect.gen(function*() {
  return { calls: yield* Ref.make<ReadonlyArray<string>>([]), crashAt: yield* Ref.make<number | undefined>(undefined) } satisfies CallLog
})

/** The example workspace, smaller (fast scans), decoded. */
export const smallWorkspace = (patch: (raw: ReturnType<typeof taxPrepWorkspace>) => unknown = (raw) => raw) =>
  Schema.decodeUnknownSync(Workspace)(patch({
    ...taxPrepWorkspace("simulated-small"),
    framework: { ...taxPrepWorkspace("simulated-small").framework, evalSetSize: 48, optimization: { maxCandidates: 4, maxRounds: 2 } }
  }))

/** Engine + ports with the given model; storage and bus are fresh per build. */
export const scanLayer = <E>(model: Layer.Layer<LanguageModel.LanguageModel, E>) =>
  ScanEngine.layer().pipe(Layer.provideMerge(Layer.mergeAll(MemoryStorage.layer, WorldsEvalSetProvider.layer, EventBus.layerMemory, model)))
