import { readFileSync } from "node:fs"
import { gzipSync } from "node:zlib"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer } from "effect"
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
  makeMemoryStorage,
  RetentionRepo,
  runRetentionSweep,
  SampleRepo,
  ScanRepo,
  ScanTraceRepo,
  StorageError,
  TraceRepo
} from "@spectral/engine"
import { ingestDocuments, ingestOtlp, issueIngestKey, OtlpIngest, OtlpReceiver } from "../../src/otlp/index.ts"
import { encodeProtobufRequest } from "../../src/testing/index.ts"

const here = dirname(fileURLToPath(import.meta.url))
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(here, "fixtures", name), "utf8"))

type Storage = Effect.Success<typeof makeMemoryStorage>

/** A receiver on a loopback port over memory storage; `trace` can be swapped to simulate faults. */
const startReceiver = (options: { maxBodyBytes?: number; maxConcurrentBatches?: number; traceRepo?: (s: Storage) => TraceRepo["Service"] } = {}) =>
  Effect.gen(function*() {
    const storage = yield* makeMemoryStorage
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
      const valid = encodeProtobufRequest({
        resourceSpans: [{
          resource: {},
          scopeSpans: [{
            scopeName: "t",
            spans: [{
              traceId: hex(1, 16), spanId: hex(2, 8), parentSpanId: "", name: "ok", kind: 1,
              startTimeUnixNano: 1n, endTimeUnixNano: 2n, attributes: {}, events: [], statusCode: 0, statusMessage: ""
            }]
          }]
        }]
      })
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
      ]).pipe(Effect.provide(OtlpIngest.layer().pipe(Layer.provideMerge(Layer.effectContext(Effect.map(makeMemoryStorage, (s) =>
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
      const storage = yield* makeMemoryStorage
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
