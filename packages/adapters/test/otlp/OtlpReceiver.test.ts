import { cpSync, mkdtempSync, readFileSync } from "node:fs"
import { type AddressInfo, createServer as createNetServer } from "node:net"
import { tmpdir } from "node:os"
import { gzipSync } from "node:zlib"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it, layer } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { inject } from "vitest"
import "../storage/PgServer.ts"
import { Context, Deferred, Effect, Fiber, Layer, Logger, Redacted } from "effect"
import { HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import { context as otelContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api"
import { ExportResultCode } from "@opentelemetry/core"
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { resourceFromAttributes } from "@opentelemetry/resources"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace"
import {
  curateTraces,
  IngestKeyRepo,
  inferAgents,
  MemoryStorage,
  RetentionRepo,
  runRetentionSweep,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo,
  StorageError,
  TraceRepo
} from "@spectral/engine"
import type { Trace } from "@spectral/engine/contracts"
import { hashIngestKey, ingestDocuments, ingestOtlp, issueIngestKey, OtlpIngest, OtlpReceiver } from "../../src/otlp/index.ts"
import { Storage } from "../../src/storage/index.ts"
import { encodeProtobufRequest } from "../../src/testing/index.ts"

const here = dirname(fileURLToPath(import.meta.url))
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(here, "fixtures", name), "utf8"))

type Storage = Effect.Success<typeof MemoryStorage.make>

/** A receiver on a loopback port over memory storage; `trace` can be swapped to simulate faults. */
const startReceiver = (options: { maxBodyBytes?: number; maxConcurrentBatches?: number; traceRepo?: (s: Storage) => TraceRepo["Service"] } = {}) =>
  Effect.gen(function*() {
    const storage = yield* MemoryStorage.make
    const storageLayer = Layer.succeedContext(
      Context.make(TraceRepo, options.traceRepo?.(storage) ?? storage.trace).pipe(
        Context.add(RetentionRepo, storage.retention),
        Context.add(IngestKeyRepo, storage.ingestKey)
      )
    )
    const ingest = OtlpIngest.layer(options.maxConcurrentBatches === undefined ? {} : { maxConcurrentBatches: options.maxConcurrentBatches })
    const receiver = OtlpReceiver.layer({ port: 0, host: "127.0.0.1", ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }) }).pipe(
      Layer.provide(Layer.provideMerge(ingest, storageLayer))
    )
    const built = yield* Layer.build(receiver)
    const address = Context.get(built, HttpServer.HttpServer).address
    const port = "port" in address ? address.port : 0
    const keys = Effect.provideService(IngestKeyRepo, storage.ingestKey)
    const keyA = yield* keys(issueIngestKey("ws-a", "test"))
    const keyB = yield* keys(issueIngestKey("ws-b", "test"))
    return { storage, url: `http://127.0.0.1:${port}/v1/traces`, keyA, keyB }
  })

/** Spans made by the SDK itself: an agent span with a chat child using older GenAI names and message events. */
const sdkSpans = (resource: Record<string, string> = {}): Effect.Effect<ReadonlyArray<ReadableSpan>> => {
  const memory = new InMemorySpanExporter()
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "tax-app", ...resource }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })]
  })
  const tracer = provider.getTracer("test-instrumentation")
  const agent = tracer.startSpan("invoke_agent intake", {
    kind: SpanKind.INTERNAL,
    attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "intake", "agent.type": "extractor" }
  })
  const ctx = trace.setSpan(otelContext.active(), agent)
  const chat = tracer.startSpan("chat gpt-4o", {
    kind: SpanKind.CLIENT,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "openai",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.request.temperature": 0.3,
      "gen_ai.request.max_tokens": 400,
      "gen_ai.request.top_p": 0.9,
      "gen_ai.usage.prompt_tokens": 120,
      "gen_ai.usage.completion_tokens": 30
    }
  }, ctx)
  chat.addEvent("gen_ai.system.message", { content: "You extract filing facts." })
  chat.addEvent("gen_ai.user.message", { content: "I am single, no kids, income 52000." })
  chat.addEvent("gen_ai.choice", { message: JSON.stringify({ role: "assistant", content: "{\"filingStatus\":\"single\"}" }) })
  chat.setStatus({ code: SpanStatusCode.OK })
  chat.end()
  agent.end()
  return Effect.promise(() => provider.forceFlush()).pipe(Effect.map(() => memory.getFinishedSpans()))
}

const exportWith = (exporter: JsonExporter | ProtoExporter, spans: ReadonlyArray<ReadableSpan>) =>
  Effect.promise(() => new Promise<{ code: number; error?: Error }>((resolve) => exporter.export([...spans], resolve))).pipe(
    Effect.ensuring(Effect.promise(() => exporter.shutdown()))
  )

const post = (url: string, body: string | Uint8Array, headers: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", body: body as never, headers })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

const otlpJson = (spans: ReadonlyArray<Record<string, unknown>>, resource: Array<Record<string, unknown>> = []) =>
  JSON.stringify({ resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope: { name: "t" }, spans }] }] })

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, "0")

/** A protobuf body with one span (ids from numbers), made without the SDK. */
const protobufSpan = (traceId: number, spanId: number, name: string, attributes: Record<string, unknown> = {}) =>
  encodeProtobufRequest({
    resourceSpans: [{
      resource: {},
      scopeSpans: [{
        scopeName: "t",
        spans: [{
          traceId: hex(traceId, 16), spanId: hex(spanId, 8), parentSpanId: "", name, kind: 1,
          startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes, events: [], statusCode: 0, statusMessage: ""
        }]
      }]
    }]
  })
const rawSpan = (i: number, overrides: Record<string, unknown> = {}) => ({
  traceId: hex(1000 + (i >> 2), 16),
  spanId: hex(5000 + i, 8),
  name: `span ${i}`,
  kind: 3,
  startTimeUnixNano: "1767225600000000000",
  endTimeUnixNano: "1767225600250000000",
  attributes: [{ key: "gen_ai.request.model", value: { stringValue: "gpt-4o" } }],
  ...overrides
})

describe("OTLP receiver with the OpenTelemetry SDK exporters", () => {
  it.effect("stores spans sent by the JSON exporter, with the GenAI mapping and parent links", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const spans = yield* sdkSpans()
      const result = yield* exportWith(new JsonExporter({ url, headers: { authorization: `Bearer ${keyA}` } }), spans)
      expect(result.code).toBe(ExportResultCode.SUCCESS)
      const stored = yield* storage.trace.list("ws-a")
      expect(stored).toHaveLength(2)
      const agent = stored.find((t) => t.name === "invoke_agent intake")!
      const chat = stored.find((t) => t.name === "chat gpt-4o")!
      expect(chat.parentSpanId).toBe(agent.spanId)
      expect(chat.traceId).toBe(agent.traceId)
      expect(chat.attributes["gen_ai.provider.name"]).toBe("openai")
      expect(chat.inputTokens).toBe(120)
      expect(chat.outputTokens).toBe(30)
      expect(chat.costUsd).toBeCloseTo((120 * 2.5 + 30 * 10) / 1e6)
      expect(JSON.parse(chat.input!)).toEqual([
        { role: "system", content: "You extract filing facts." },
        { role: "user", content: "I am single, no kids, income 52000." }
      ])
      expect(chat.output).toBe("{\"filingStatus\":\"single\"}")
      expect(chat.attributes["spectral.latency_ms"]).toBeGreaterThanOrEqual(0)
      const inference = inferAgents(stored)
      expect(inference.agents).toHaveLength(1)
      const intake = inference.agents[0]!
      expect(intake.name).toBe("intake")
      expect(intake.role).toBe("extractor")
      expect(intake.hyperparameters.temperature?.baseline).toBe(0.3)
      expect(intake.hyperparameters.maxTokens?.baseline).toBe(400)
      expect(intake.hyperparameters.topP?.baseline).toBe(0.9)
      // And samples from them, with retention tracking started.
      const samples = yield* curateTraces("ws-a").pipe(
        Effect.provideService(TraceRepo, storage.trace),
        Effect.provideService(SampleRepo, storage.sample),
        Effect.provideService(RetentionRepo, storage.retention)
      )
      expect(samples).toHaveLength(1)
      expect(samples[0]!.traceRef).toEqual({ _tag: "Live", traceId: chat.traceId })
    }))

  it.effect("stores spans sent by the protobuf exporter (also gzip-compressed), once when re-sent", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const spans = yield* sdkSpans()
      const first = yield* exportWith(new ProtoExporter({ url, headers: { authorization: `Bearer ${keyA}` } }), spans)
      expect(first.code).toBe(ExportResultCode.SUCCESS)
      const again = yield* exportWith(new ProtoExporter({ url, headers: { authorization: `Bearer ${keyA}` }, compression: "gzip" as never }), spans)
      expect(again.code).toBe(ExportResultCode.SUCCESS)
      const stored = yield* storage.trace.list("ws-a")
      expect(stored).toHaveLength(2)
      const chat = stored.find((t) => t.name === "chat gpt-4o")!
      expect(chat.attributes["gen_ai.request.temperature"]).toBe(0.3)
      expect(chat.attributes["gen_ai.request.max_tokens"]).toBe(400)
      expect(chat.agentName).toBeUndefined()
      expect(stored.find((t) => t.name === "invoke_agent intake")!.agentName).toBe("intake")
    }))

  it.effect("a wrong or missing key gets 401 and stores nothing", () =>
    Effect.gen(function*() {
      const { storage, url } = yield* startReceiver()
      const result = yield* exportWith(new JsonExporter({ url, headers: { authorization: "Bearer not-a-key" } }), yield* sdkSpans())
      expect(result.code).toBe(ExportResultCode.FAILED)
      const noKey = yield* post(url, otlpJson([rawSpan(0)]), { "content-type": "application/json" })
      expect(noKey.status).toBe(401)
      const wrong = yield* post(url, otlpJson([rawSpan(0)]), { "content-type": "application/json", authorization: "Bearer spk_wrong" })
      expect(wrong.status).toBe(401)
      expect(JSON.parse(wrong.text).code).toBe(16)
      expect(yield* storage.trace.list("ws-a")).toHaveLength(0)
      expect(yield* storage.trace.list("ws-b")).toHaveLength(0)
    }))

  it.effect("the workspace comes from the key, never from resource attributes", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const spans = yield* sdkSpans({ "spectral.workspace.id": "ws-b", "workspace.id": "ws-b", "tenant.id": "ws-b" })
      yield* exportWith(new JsonExporter({ url, headers: { authorization: `Bearer ${keyA}` } }), spans)
      expect(yield* storage.trace.list("ws-a")).toHaveLength(2)
      expect(yield* storage.trace.list("ws-b")).toHaveLength(0)
    }))
})

describe("OTLP receiver responses (RELIABILITY.md, OTLP ingest)", () => {
  it.effect("10 spans with 2 invalid: 200, partialSuccess.rejectedSpans = 2, 8 stored", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const spans = Array.from({ length: 10 }, (_, i) =>
        i === 3 ? rawSpan(i, { traceId: "not-hex" }) : i === 7 ? rawSpan(i, { endTimeUnixNano: "1" }) : rawSpan(i))
      const response = yield* post(url, otlpJson(spans), { "content-type": "application/json", authorization: `Bearer ${keyA}` })
      expect(response.status).toBe(200)
      const body = JSON.parse(response.text)
      expect(Number(body.partialSuccess.rejectedSpans)).toBe(2)
      expect(body.partialSuccess.errorMessage).toContain("invalid traceId")
      expect(body.partialSuccess.errorMessage).toContain("before startTimeUnixNano")
      expect(yield* storage.trace.list("ws-a")).toHaveLength(8)
    }))

  it.effect("tolerates upper-case hex ids, 64-bit integers as strings and unknown fields (the spec's example file)", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const example = fixture("otlp-proto__examples-trace.json") as Record<string, unknown>
      const withUnknown = { ...example, someFutureField: { nested: true } }
      const response = yield* post(url, JSON.stringify(withUnknown), { "content-type": "application/json", authorization: `Bearer ${keyA}` })
      expect(response.status).toBe(200)
      expect(JSON.parse(response.text)).toEqual({})
      const [stored] = yield* storage.trace.list("ws-a")
      expect(stored!.traceId).toBe("5b8efff798038103d269b633813fc60c")
      expect(stored!.spanId).toBe("eee19b7ec3c1b174")
      expect(stored!.parentSpanId).toBe("eee19b7ec3c1b173")
      expect(stored!.startTime).toBe("2018-12-13T14:51:00.000Z")
      expect(stored!.attributes["spectral.latency_ms"]).toBe(1000)
      expect(stored!.attributes["my.span.attr"]).toBe("some value")
    }))

  it.effect("malformed bodies and wrong content types get 400 with a status body, nothing stored", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver()
      const auth = { authorization: `Bearer ${keyA}` }
      const badJson = yield* post(url, "{\"resourceSpans\": [", { ...auth, "content-type": "application/json" })
      expect(badJson.status).toBe(400)
      expect(JSON.parse(badJson.text)).toMatchObject({ code: 3 })
      const wrongShape = yield* post(url, JSON.stringify({ resourceSpans: "nope" }), { ...auth, "content-type": "application/json" })
      expect(wrongShape.status).toBe(400)
      const wrongType = yield* post(url, otlpJson([rawSpan(0)]), { ...auth, "content-type": "text/plain" })
      expect(wrongType.status).toBe(400)
      expect(JSON.parse(wrongType.text).message).toContain("content type")
      // A valid span followed by a truncated one: the whole body is malformed, so nothing is stored.
      const valid = protobufSpan(1, 2, "ok")
      const truncated = new Uint8Array([...valid, 0x0a, 0x40, 0x01])
      const badProto = yield* post(url, truncated, { ...auth, "content-type": "application/x-protobuf" })
      expect(badProto.status).toBe(400)
      expect(yield* storage.trace.list("ws-a")).toHaveLength(0)
    }))

  it.effect("a body over the limit gets 413 (declared or compressed), nothing stored", () =>
    Effect.gen(function*() {
      const { storage, url, keyA } = yield* startReceiver({ maxBodyBytes: 4096 })
      const big = otlpJson(Array.from({ length: 60 }, (_, i) => rawSpan(i)))
      expect(big.length).toBeGreaterThan(4096)
      const response = yield* post(url, big, { "content-type": "application/json", authorization: `Bearer ${keyA}` })
      expect(response.status).toBe(413)
      // Compresses below the limit but inflates beyond it.
      const zipped = gzipSync(Buffer.from(big))
      expect(zipped.length).toBeLessThan(4096)
      const bomb = yield* post(url, zipped, { "content-type": "application/json", "content-encoding": "gzip", authorization: `Bearer ${keyA}` })
      expect(bomb.status).toBe(413)
      expect(yield* storage.trace.list("ws-a")).toHaveLength(0)
    }))

  it.effect("overload and storage outage: 503 with Retry-After, never 200 then a drop", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const entered = yield* Deferred.make<void>()
      const { storage, url, keyA } = yield* startReceiver({
        maxConcurrentBatches: 1,
        traceRepo: (s) => ({
          ...s.trace,
          append: (ws, rows) => Deferred.succeed(entered, undefined).pipe(Effect.andThen(Deferred.await(gate)), Effect.andThen(s.trace.append(ws, rows)))
        })
      })
      const headers = { "content-type": "application/json", authorization: `Bearer ${keyA}` }
      const slow = yield* Effect.forkChild(post(url, otlpJson([rawSpan(0)]), headers))
      yield* Deferred.await(entered)
      const refused = yield* post(url, otlpJson([rawSpan(1)]), headers)
      expect(refused.status).toBe(503)
      expect(refused.headers.get("retry-after")).toBe("2")
      yield* Deferred.succeed(gate, undefined)
      const accepted = yield* Fiber.join(slow)
      expect(accepted.status).toBe(200)
      const spans = yield* storage.trace.list("ws-a")
      expect(spans.map((s) => s.spanId)).toEqual([hex(5000, 8)])

      const down = yield* startReceiver({
        traceRepo: (s) => ({ ...s.trace, append: () => Effect.fail(StorageError.unavailable("database down")) })
      })
      const outage = yield* post(down.url, otlpJson([rawSpan(0)]), { "content-type": "application/json", authorization: `Bearer ${down.keyA}` })
      expect(outage.status).toBe(503)
      expect(outage.headers.get("retry-after")).not.toBeNull()
    }))
})

describe("ingest library call and fixtures", () => {
  it.effect("old and new GenAI names map to the same baseline; real framework traces infer agents and dependencies", () =>
    Effect.gen(function*() {
      const summary = yield* ingestDocuments("ws-f", [
        fixture("langfuse__pydantic-ai-tools-2025-12-04.trace.json"),
        fixture("langfuse__microsoft-agent-2025-12-17.trace.json"),
        fixture("langfuse__koog-2025-08-26.trace.json"),
        fixture("langfuse__vercel-aisdk-2025-11-17.trace.json"),
        fixture("langfuse__pydantic-ai-2025-06-06.trace.json")
      ]).pipe(Effect.provide(OtlpIngest.layer().pipe(Layer.provideMerge(Layer.effectContext(Effect.map(MemoryStorage.make, (s) =>
        Context.make(TraceRepo, s.trace).pipe(Context.add(RetentionRepo, s.retention))))))))
      expect(summary.spans).toBe(12 + 4 + 11 + 3 + 3)
      expect(summary.rejected).toBe(0)
      const byName = new Map(summary.agents.map((a) => [a.name, a]))
      // gen_ai.system (old) and gen_ai.provider.name (new) both give the provider.
      expect(byName.get("joke_agent")!.hyperparameters).toEqual({ provider: "openai", model: "gpt-4o-mini", temperature: 0.7 })
      expect(byName.get("171105b7-59dd-49c0-9677-0b95395aa46a")!.hyperparameters).toEqual({ provider: "openai", model: "gpt-5-mini" })
      // The evaluator reads the joke agent's output: a dependency found from content, not span nesting.
      expect(byName.get("evaluator_agent")!.dependsOn).toEqual(["joke_agent"])
      // Koog names its agent only by gen_ai.agent.id, with indexed gen_ai.prompt.N.* content.
      expect(byName.get("f9f77d1a-437f-4ba6-890e-b592a50cbd21")!.hyperparameters).toEqual({ provider: "openai", model: "gpt-4o", temperature: 1 })
      expect(byName.get("qa_agent")!.hyperparameters).toEqual({ provider: "openai", model: "gpt-4o" })
      expect(byName.get("ai.generateText")!.hyperparameters).toEqual({ provider: "openai.responses", model: "gpt-5" })
    }))

  it.effect("after a retention sweep no content of a purged trace remains anywhere in storage", () =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      const layer = OtlpIngest.layer().pipe(Layer.provideMerge(Layer.succeedContext(
        Context.make(TraceRepo, storage.trace).pipe(
          Context.add(RetentionRepo, storage.retention),
          Context.add(SampleRepo, storage.sample),
          Context.add(ScanRepo, storage.scan),
          Context.add(ScanTraceRepo, storage.scanTrace)
        )
      )))
      const secret = "CUSTOMER-SSN-078-05-1120"
      const body = otlpJson([
        rawSpan(0, {
          attributes: [
            { key: "gen_ai.agent.name", value: { stringValue: "intake" } },
            { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
            { key: "gen_ai.input.messages", value: { stringValue: JSON.stringify([{ role: "user", parts: [{ type: "text", content: secret }] }]) } },
            { key: "customer.field", value: { stringValue: secret } }
          ],
          events: [{ name: "gen_ai.choice", timeUnixNano: "1767225600100000000", attributes: [{ key: "message", value: { stringValue: secret } }] }]
        }),
        rawSpan(1, { attributes: [{ key: "note", value: { stringValue: `another ${secret}` } }] })
      ])
      yield* Effect.gen(function*() {
        const result = yield* ingestOtlp("ws-a", "json", body)
        expect(result.accepted).toBe(2)
        const samples = yield* curateTraces("ws-a")
        expect(samples).toHaveLength(1)
        expect(JSON.stringify(storage.contents())).toContain(secret)
        yield* TestClock.adjust("91 days")
        const report = yield* runRetentionSweep("ws-a")
        expect(report.purgedSpans).toBe(2)
      }).pipe(Effect.provide(layer))
      const everything = JSON.stringify(storage.contents())
      expect(everything).not.toContain(secret)
      expect(everything).not.toContain("078-05-1120")
      const [sample] = yield* storage.sample.samples("ws-a")
      expect(sample!.state).toBe("historical")
      expect(sample!.traceRef._tag).toBe("Tombstone")
      expect(sample!.structuralMetadata.rootAgent).toBe("intake")
    }))
})

/** What a receiver logged: level and the text of each line. */
type LogLine = { readonly level: string; readonly text: string }

const capturingLogger = (lines: Array<LogLine>) =>
  Logger.layer([Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel, text: (Array.isArray(message) ? message : [message]).map(String).join(" ") })
  })])

/** A receiver on the embedded SQL store, the default a newcomer runs; keys are issued as asked. */
class SqlReceiver extends Context.Service<SqlReceiver, {
  readonly url: string
  readonly key: (workspaceId: string) => Effect.Effect<string, StorageError>
  readonly traces: (workspaceId: string) => Effect.Effect<ReadonlyArray<Trace>, StorageError>
  readonly logs: Array<LogLine>
}>()("@spectral/adapters/test/otlp/SqlReceiver") {
  static readonly layer = Layer.effect(SqlReceiver, Effect.gen(function*() {
    const dataDir = mkdtempSync(join(tmpdir(), "spectral-otlp-"))
    cpSync(inject("spectralPgliteTemplate"), dataDir, { recursive: true })
    const logs: Array<LogLine> = []
    const store = Storage.layerPglite({ dataDir })
    const receiver = OtlpReceiver.layer({ port: 0, host: "127.0.0.1" }).pipe(
      Layer.provide(OtlpIngest.layer()),
      Layer.provideMerge(store),
      Layer.provide(capturingLogger(logs))
    )
    const built = yield* Layer.build(receiver)
    const address = Context.get(built, HttpServer.HttpServer).address
    const onStore = <A, E>(effect: Effect.Effect<A, E, IngestKeyRepo | TraceRepo>) => Effect.provideContext(effect, built)
    return SqlReceiver.of({
      url: `http://127.0.0.1:${"port" in address ? address.port : 0}/v1/traces`,
      key: (workspaceId) => onStore(issueIngestKey(workspaceId, "test")),
      traces: (workspaceId) => onStore(Effect.flatMap(TraceRepo, (repo) => repo.list(workspaceId))),
      logs
    })
  }))
}

let workspaces = 0

/** The shared receiver, a fresh workspace and a key for it. */
const freshKey = Effect.gen(function*() {
  const receiver = yield* SqlReceiver
  const ws = `ws-otlp-${Date.now().toString(36)}-${workspaces++}`
  return { receiver, ws, key: yield* receiver.key(ws) }
})

/** A JSON kvlist value nested `depth` levels deep around a string. */
const nestedKvlist = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { stringValue: "bottom" }
  for (let i = 0; i < depth; i++) value = { kvlistValue: { values: [{ key: `level${depth - i}`, value }] } }
  return value
}

/** Spans made by the SDK with values PostgreSQL cannot store as they are. */
const sdkSpansWithOddValues = (): Effect.Effect<ReadonlyArray<ReadableSpan>> => {
  const memory = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] })
  const tracer = provider.getTracer("odd-values")
  tracer.startSpan("clean", { attributes: { "gen_ai.request.model": "gpt-4o" } }).end()
  tracer.startSpan("with a NUL", { attributes: { note: "nul\u0000byte" } }).end()
  tracer.startSpan("with a lone surrogate", { attributes: { note: "half\ud83d" } }).end()
  return Effect.promise(() => provider.forceFlush()).pipe(Effect.map(() => memory.getFinishedSpans()))
}

layer(SqlReceiver.layer, { timeout: "120 seconds", excludeTestServices: true })("OTLP receiver on the embedded SQL store: bad values, limits, outages (RELIABILITY.md)", (it) => {
  it.effect("a NUL or a lone surrogate anywhere in a span: the span is stored escaped, the rest of the batch too, 200 says so", () =>
    Effect.gen(function*() {
      const { receiver, ws, key } = yield* freshKey
      const spans = [
        rawSpan(0),
        rawSpan(1, { attributes: [{ key: "note", value: { stringValue: "a\u0000b" } }] }),
        rawSpan(2, { name: "span 2 \udc00", attributes: [{ key: "lone", value: { stringValue: "x\ud800y" } }] }),
        rawSpan(3, {
          attributes: [
            { key: "k\u0000ey", value: { kvlistValue: { values: [{ key: "inner", value: { arrayValue: { values: [{ stringValue: "\u0000" }] } } }] } } },
            // A NUL only after the JSON text inside an attribute is parsed (the mapping reads the completion from it).
            { key: "gen_ai.output.messages", value: { stringValue: JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "ok\u0000" }] }]) } }
          ]
        })
      ]
      const response = yield* post(receiver.url, otlpJson(spans), { "content-type": "application/json", authorization: `Bearer ${key}` })
      expect(response.status).toBe(200)
      const body = JSON.parse(response.text)
      expect(Number(body.partialSuccess.rejectedSpans)).toBe(0)
      expect(body.partialSuccess.errorMessage).toContain("3 span(s) stored with NUL characters or lone surrogates escaped")
      const stored = new Map((yield* receiver.traces(ws)).map((t) => [t.spanId, t]))
      expect(stored.size).toBe(4)
      expect(stored.get(hex(5001, 8))!.attributes["note"]).toBe("a\\u0000b")
      expect(stored.get(hex(5002, 8))!.attributes["lone"]).toBe("x\\ud800y")
      expect(stored.get(hex(5002, 8))!.name).toBe("span 2 \\udc00")
      expect(stored.get(hex(5003, 8))!.attributes["k\\u0000ey"]).toEqual({ inner: ["\\u0000"] })
      expect(stored.get(hex(5003, 8))!.output).toBe("ok\\u0000")
    }))

  it.effect("the SDK exporters (JSON and protobuf) get SUCCESS for spans with a NUL or a lone surrogate, and every span is stored", () =>
    Effect.gen(function*() {
      const exporters = [
        (url: string, key: string) => new JsonExporter({ url, headers: { authorization: `Bearer ${key}` } }),
        (url: string, key: string) => new ProtoExporter({ url, headers: { authorization: `Bearer ${key}` } })
      ]
      for (const make of exporters) {
        const { receiver, ws, key } = yield* freshKey
        const result = yield* exportWith(make(receiver.url, key), yield* sdkSpansWithOddValues())
        expect(result.code).toBe(ExportResultCode.SUCCESS)
        const notes = (yield* receiver.traces(ws)).map((t) => t.attributes["note"]).filter((n) => n !== undefined) as Array<string>
        expect(notes).toHaveLength(2)
        expect(notes).toContain("nul\\u0000byte")
        // The JSON exporter keeps the lone half (escaped here); protobuf's UTF-8 has already replaced it.
        expect(notes.find((n) => n.startsWith("half"))).toMatch(/^half(\\ud83d|\ufffd+)$/)
      }
    }))

  it.effect("__proto__, constructor and other prototype names are stored as ordinary keys, in both encodings", () =>
    Effect.gen(function*() {
      const { receiver, ws, key } = yield* freshKey
      const attributes = [
        { key: "__proto__", value: { stringValue: "p" } },
        { key: "constructor", value: { stringValue: "c" } },
        { key: "hasOwnProperty", value: { stringValue: "h" } },
        { key: "obj", value: { kvlistValue: { values: [{ key: "__proto__", value: { kvlistValue: { values: [{ key: "polluted", value: { boolValue: true } }] } } }] } } }
      ]
      const json = yield* post(receiver.url, otlpJson([rawSpan(0, { attributes })]), { "content-type": "application/json", authorization: `Bearer ${key}` })
      expect(json.status).toBe(200)
      const protoAttributes = JSON.parse("{\"__proto__\": \"p\", \"toString\": \"t\"}") as Record<string, unknown>
      const proto = yield* post(receiver.url, protobufSpan(77, 78, "proto", protoAttributes), { "content-type": "application/x-protobuf", authorization: `Bearer ${key}` })
      expect(proto.status).toBe(200)
      const stored = new Map((yield* receiver.traces(ws)).map((t) => [t.name, t.attributes]))
      const own = (record: Record<string, unknown> | undefined, name: string) => Object.getOwnPropertyDescriptor(record ?? {}, name)?.value
      const fromJson = stored.get("span 0")
      expect([own(fromJson, "__proto__"), own(fromJson, "constructor"), own(fromJson, "hasOwnProperty")]).toEqual(["p", "c", "h"])
      expect(own(own(fromJson, "obj") as Record<string, unknown>, "__proto__")).toEqual({ polluted: true })
      expect(Object.getPrototypeOf(fromJson)).toBe(Object.prototype)
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
      expect([own(stored.get("proto"), "__proto__"), own(stored.get("proto"), "toString")]).toEqual(["p", "t"])
    }))

  it.effect("attributes nested past the documented depth (32) get 400 naming the limit, in both encodings; at the limit they are stored", () =>
    Effect.gen(function*() {
      const { receiver, ws, key } = yield* freshKey
      const headers = { "content-type": "application/json", authorization: `Bearer ${key}` }
      // 5,000 levels (20,000 JSON levels): written as text, since JSON.stringify itself overflows the stack on it.
      const deepValue = `${"{\"kvlistValue\":{\"values\":[{\"key\":\"l\",\"value\":".repeat(5000)}{"stringValue":"bottom"}${"}]}}".repeat(5000)}`
      const deepBody = otlpJson([rawSpan(0, { attributes: [{ key: "deep", value: "DEEP" }] })]).replace("\"DEEP\"", deepValue)
      const deep = yield* post(receiver.url, deepBody, headers)
      expect(deep.status).toBe(400)
      expect(JSON.parse(deep.text)).toEqual({ code: 3, message: expect.stringContaining("deeper than 32 levels") })
      const justPast = yield* post(receiver.url, otlpJson([rawSpan(1, { attributes: [{ key: "deep", value: nestedKvlist(33) }] })]), headers)
      expect(justPast.status).toBe(400)
      let array: unknown = "bottom"
      for (let i = 0; i < 1000; i++) array = [array]
      const deepProto = yield* post(receiver.url, protobufSpan(90, 91, "deep", { deep: array }), { ...headers, "content-type": "application/x-protobuf" })
      expect(deepProto.status).toBe(400)
      expect(yield* receiver.traces(ws)).toEqual([])
      const atLimit = yield* post(receiver.url, otlpJson([rawSpan(2, { attributes: [{ key: "deep", value: nestedKvlist(32) }] })]), headers)
      expect(atLimit.status).toBe(200)
      expect(yield* receiver.traces(ws)).toHaveLength(1)
    }))

  it.effect("an unsupported Content-Encoding: 401 without a key (the key is checked first), 415 with one", () =>
    Effect.gen(function*() {
      const { receiver, key } = yield* freshKey
      const body = otlpJson([rawSpan(0)])
      const anonymous = yield* post(receiver.url, body, { "content-type": "application/json", "content-encoding": "br" })
      expect(anonymous.status).toBe(401)
      for (const coding of ["br", "gzip, br", "zstd"]) {
        const refused = yield* post(receiver.url, body, { "content-type": "application/json", "content-encoding": coding, authorization: `Bearer ${key}` })
        expect(refused.status).toBe(415)
        expect(refused.headers.get("accept-encoding")).toBe("gzip, deflate")
        expect(JSON.parse(refused.text).message).toContain("content encoding")
      }
    }))

  it.effect("every 4xx and 5xx is logged in one line that quotes no body content; a 200 logs nothing", () =>
    Effect.gen(function*() {
      const { receiver, key } = yield* freshKey
      const auth = { authorization: `Bearer ${key}` }
      const secret = "SECRET-BODY-CONTENT-4242"
      const before = receiver.logs.length
      const statuses = [
        (yield* post(receiver.url, secret, { "content-type": "application/json" })).status,
        (yield* post(receiver.url, `{"resourceSpans": ${secret}}`, { ...auth, "content-type": "application/json" })).status,
        (yield* post(receiver.url, secret, { ...auth, "content-type": "application/x-protobuf" })).status,
        (yield* post(receiver.url, secret, { ...auth, "content-type": "text/plain" })).status,
        (yield* post(receiver.url, secret, { ...auth, "content-type": "application/json", "content-encoding": "br" })).status
      ]
      expect(statuses).toEqual([401, 400, 400, 400, 415])
      const ok = yield* post(receiver.url, otlpJson([rawSpan(0)]), { ...auth, "content-type": "application/json" })
      expect(ok.status).toBe(200)
      const lines = receiver.logs.slice(before)
      expect(lines.map((line) => line.level)).toEqual(["Warn", "Warn", "Warn", "Warn", "Warn"])
      expect(lines.map((line) => /^OTLP \/v1\/traces (\d+):/.exec(line.text)?.[1])).toEqual(statuses.map(String))
      for (const line of lines) {
        expect(line.text).not.toContain("\n")
        expect(line.text).not.toContain(secret)
      }
    }))
})

describe("OTLP receiver when the database is down or refuses a span", () => {
  it.effect("the database unreachable: 503 with Retry-After and a status body, logged as an error (exporters retry 503, not 500)", () =>
    Effect.gen(function*() {
      const logs: Array<LogLine> = []
      // A port nothing listens on: every query fails to connect.
      const closedPort = yield* Effect.promise(() => new Promise<number>((resolve) => {
        const server = createNetServer().listen(0, "127.0.0.1", () => {
          const port = (server.address() as AddressInfo).port
          server.close(() => resolve(port))
        })
      }))
      const store = Storage.layerNoDeps().pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(`postgres://spectral_app@127.0.0.1:${closedPort}/spectral`), connectTimeout: "2 seconds" }))
      )
      const built = yield* Layer.build(OtlpReceiver.layer({ port: 0, host: "127.0.0.1" }).pipe(
        Layer.provide(OtlpIngest.layer()),
        Layer.provide(store),
        Layer.provide(capturingLogger(logs))
      ))
      const address = Context.get(built, HttpServer.HttpServer).address
      const url = `http://127.0.0.1:${"port" in address ? address.port : 0}/v1/traces`
      const response = yield* post(url, otlpJson([rawSpan(0)]), { "content-type": "application/json", authorization: "Bearer spk_any" })
      expect(response.status).toBe(503)
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0)
      expect(JSON.parse(response.text)).toMatchObject({ code: 14 })
      expect(logs.map((line) => line.level)).toEqual(["Error"])
    }))

  it.effect("a span the store refuses (for a reason a retry would not change) is rejected alone; the rest of its batch is stored", () =>
    Effect.gen(function*() {
      const badSpan = hex(5002, 8)
      const { storage, url, keyA } = yield* startReceiver({
        traceRepo: (s) => ({
          ...s.trace,
          append: (ws, rows) =>
            rows.some((row) => row.spanId === badSpan)
              ? Effect.fail(new StorageError({ reason: { _tag: "Corrupt", entity: "trace", id: badSpan, message: "cannot store this value" } }))
              : s.trace.append(ws, rows)
        })
      })
      const response = yield* post(url, otlpJson([rawSpan(0), rawSpan(1), rawSpan(2), rawSpan(3)]), { "content-type": "application/json", authorization: `Bearer ${keyA}` })
      expect(response.status).toBe(200)
      const body = JSON.parse(response.text)
      expect(Number(body.partialSuccess.rejectedSpans)).toBe(1)
      expect(body.partialSuccess.errorMessage).toContain(`span ${badSpan}: could not be stored`)
      expect((yield* storage.trace.list("ws-a")).map((t) => t.spanId).sort()).toEqual([hex(5000, 8), hex(5001, 8), hex(5003, 8)])
    }))

  it.effect("no key is issued for the empty workspace id, and a stored key naming it authenticates nothing", () =>
    Effect.gen(function*() {
      const { storage, url } = yield* startReceiver()
      const issued = yield* Effect.flip(issueIngestKey("", "test").pipe(Effect.provideService(IngestKeyRepo, storage.ingestKey)))
      expect(issued.reason._tag).toBe("Refused")
      yield* storage.ingestKey.save({ workspaceId: "", keyHash: hashIngestKey("spk_empty"), label: "legacy", createdAt: "2025-01-01T00:00:00.000Z" })
      const response = yield* post(url, otlpJson([rawSpan(0)]), { "content-type": "application/json", authorization: "Bearer spk_empty" })
      expect(response.status).toBe(401)
      expect(yield* storage.trace.list("")).toEqual([])
    }))
})
