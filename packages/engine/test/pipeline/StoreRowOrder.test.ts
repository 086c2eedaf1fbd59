/**
 * A scan's verdict does not depend on the order its store lists rows in. On Postgres a scan's traces
 * and results come back in insertion order, and candidates of one rung write concurrently, so that
 * order varies from run to run and from store to store. The same scan on a store that lists every
 * trace and result of a scan in another order (permuted by a hash of the trace id, `tracesPage`
 * paging through that same order) ends in the same verdict gate by gate, the same calls and spend,
 * the same clusters, systemic signals and change set as on the plain memory store. Inside a scan the
 * stored traces are read back by Diagnose's systemic signals (page by page); the second case
 * rate-limits both agents so that those signals come from the stored traces.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt, type Response } from "effect/ai"
import * as ScanEngine from "../../src/pipeline/ScanEngine.ts"
import { type ScanOutcome, ScanOrchestrator } from "../../src/pipeline/ScanOrchestrator.ts"
import { EventBus } from "../../src/ports/EventBus.ts"
import * as MemoryStorage from "../../src/ports/MemoryStorage.ts"
import { ScanTraceRepo, WorkspaceRepo } from "../../src/ports/Repositories.ts"
import { StorageError } from "../../src/ports/StorageError.ts"
import { hashHex } from "../../src/random/Deterministic.ts"
import type { Workspace } from "../../src/contracts/index.ts"
import { GenerationParameters } from "../../src/ports/ModelCall.ts"
import { toyAnswer, toyProvider, toyWorkspace } from "../optimize/ToyTeam.ts"

/** An order unrelated to insertion: by a hash of the key. */
const permuted = <A>(rows: ReadonlyArray<A>, key: (row: A) => string): ReadonlyArray<A> =>
  rows.map((row) => [hashHex(key(row)), row] as const).sort((a, b) => a[0].localeCompare(b[0])).map(([, row]) => row)

/** The memory ScanTraceRepo, listing a scan's traces and results (and paging its traces) in the permuted order. */
const permutedRows = Layer.effect(
  ScanTraceRepo,
  Effect.gen(function*() {
    const inner = yield* ScanTraceRepo
    return ScanTraceRepo.of({
      ...inner,
      traces: (workspaceId, scanId) => Effect.map(inner.traces(workspaceId, scanId), (rows) => permuted(rows, (t) => t.id)),
      results: (workspaceId, scanId) => Effect.map(inner.results(workspaceId, scanId), (rows) => permuted(rows, (r) => `${r.traceId}:${r.id}`)),
      tracesPage: (workspaceId, scanId, page) =>
        Effect.gen(function*() {
          const all = permuted((yield* inner.traces(workspaceId, scanId)).filter((t) => t.arm === page.arm), (t) => t.id)
          const at = page.after === undefined ? -1 : all.findIndex((t) => t.id === page.after)
          if (at < 0 && page.after !== undefined) return yield* Effect.fail(StorageError.notFound("scan trace", page.after))
          return all.slice(at + 1, at + 1 + page.limit)
        })
    })
  })
)

/** In an agent's prompt: the provider answers 429 on the orders N with N % 8 equal to the digit after it. */
const RATE_LIMITED = "RATE LIMITED ON ORDERS MOD 8 ="

const textOf = (prompt: Prompt.Prompt, role: "system" | "user"): string =>
  prompt.content
    .filter((m) => m.role === role)
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((part) => (part.type === "text" ? part.text : "")).join("")))
    .join("\n")

/** The toy model (reader broken), answering HTTP 429 to an agent on every eighth order where its prompt says so. */
const rateLimitingToyModel = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: (options) =>
      Effect.gen(function*() {
        const params = yield* GenerationParameters
        const system = textOf(options.prompt, "system")
        const user = textOf(options.prompt, "user")
        const limitedOn = system.match(/RATE LIMITED ON ORDERS MOD 8 = (\d)/)?.[1]
        if (limitedOn !== undefined && Number(user.match(/Order (\d+):/)?.[1] ?? -1) % 8 === Number(limitedOn)) {
          return yield* AiError.make({ module: "ToyModel", method: "generateText", reason: new AiError.InvalidRequestError({ description: "HTTP 429 too many requests" } as never) })
        }
        const text = toyAnswer(system, user, params.temperature, "reader")
        const parts: Array<Response.PartEncoded> = [
          { type: "text", text },
          { type: "finish", reason: "stop", usage: { inputTokens: { total: Math.ceil((system.length + user.length) / 4) }, outputTokens: { total: Math.ceil(text.length / 4) } } }
        ]
        return parts
      }),
    streamText: () => Stream.fail(AiError.make({ module: "ToyModel", method: "streamText", reason: new AiError.InvalidRequestError({ description: "no streaming" } as never) }))
  })
)

const engine = (rows: "insertion" | "permuted") => {
  const base = Layer.mergeAll(MemoryStorage.layer, EventBus.layerMemory, toyProvider(48), rateLimitingToyModel)
  return ScanEngine.layer().pipe(Layer.provideMerge(rows === "insertion" ? base : Layer.provideMerge(permutedRows, base)))
}

const toy = toyWorkspace({ broken: "reader", size: 48 })

/** The toy team with each agent rate-limited on every eighth order (other orders for each): a signal read off the stored traces. */
const rateLimited: Workspace = {
  ...toy,
  framework: { ...toy.framework, verdict: { ...toy.framework.verdict, maxInfraFailureRate: 0.5 } },
  agents: toy.agents.map((a) => ({ ...a, template: { ...a.template, basePrompt: `${a.template.basePrompt} ${RATE_LIMITED} ${a.id === "reader" ? 0 : 1}` } }))
}

const scanOn = (rows: "insertion" | "permuted", workspace: Workspace) =>
  Effect.gen(function*() {
    yield* (yield* WorkspaceRepo).upsert(workspace)
    return yield* (yield* ScanOrchestrator).run({ workspaceId: workspace.id, seed: 4, concurrency: 8 })
  }).pipe(Effect.provide(engine(rows)))

/** What a user reads off a scan: the verdict gate by gate, the spend, the clusters, the signals and the change set. */
const readOff = (outcome: ScanOutcome) => ({
  outcome: outcome.verdict.outcome,
  checks: outcome.verdict.checks.map((c) => ({ gate: c.gate, check: c.check, status: c.status, value: c.value })),
  calls: outcome.spend.total.calls,
  tokens: outcome.spend.total.tokens,
  clusters: outcome.diagnosis.clusters.map((c) => ({ label: c.label, members: [...c.memberTraceIds].sort() })),
  systemicSignals: outcome.diagnosis.systemicSignals,
  changeSet: outcome.changeSet === null ? null : { agents: outcome.changeSet.agents, reasoning: outcome.changeSet.explainability.reasoning }
})

describe("store row order", () => {
  for (const [name, workspace] of [["the toy team", toy], ["the toy team rate-limited", rateLimited]] as const) {
    it.live(`${name}: the same scan on a store listing its traces and results in another order ends in the same verdict, calls and spend`, () =>
      Effect.gen(function*() {
        const plain = yield* scanOn("insertion", workspace)
        const shuffled = yield* scanOn("permuted", workspace)
        assert.isAbove(plain.diagnosis.evaluatedCount, 0)
        assert.isAbove(plain.spend.total.calls, 0)
        if (workspace === rateLimited) {
          assert.isTrue(plain.diagnosis.systemicSignals?.some((s) => s.kind === "rate_limit_bunching"), "the 429s show in the stored traces")
        }
        assert.deepStrictEqual(readOff(shuffled), readOff(plain))
        assert.closeTo(shuffled.spend.total.usd, plain.spend.total.usd, 1e-9)
      }))
  }
})
