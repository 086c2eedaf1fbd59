/**
 * OTLP ingest benchmark: spans per second for OTLP/JSON and protobuf batches of 1,000 GenAI spans
 * (decode, validate, GenAI mapping, append into the in-memory store, retention tracking), on one
 * core, and peak memory (RSS growth) while ingesting 100,000 spans, measured in a child process so
 * the figure is not mixed with the other suites. Target: at least 20,000 spans/s into memory. The
 * same JSON batches into embedded Postgres (PGlite, the SQL driver) give the documented SQL figure.
 *
 * This module is also the child: `node ingest.ts --worker memory SPANS` prints JSON.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Effect, Layer } from "effect"
import { MemoryStorage } from "@spectral/engine"
import { decodeOtlp, OtlpIngest, type OtlpTraceRequest, Storage } from "@spectral/adapters"
import { encodeProtobufRequest } from "@spectral/adapters/testing"
import type { Suite } from "../Suite.ts"

const BatchSize = 1_000
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, "0")

/** One batch of GenAI spans: per trace an agent span and two chat calls with prompt/completion events. */
const makeBatch = (batch: number): OtlpTraceRequest => {
  const spans = []
  const base = 1_767_225_600_000_000_000n + BigInt(batch) * 1_000_000_000n
  for (let i = 0; i < BatchSize; i++) {
    const traceNo = batch * BatchSize + Math.floor(i / 3)
    const role = i % 3
    const agent = `agent-${traceNo % 5}`
    spans.push({
      traceId: hex(traceNo + 1, 16),
      spanId: hex(batch * BatchSize + i + 1, 8),
      parentSpanId: role === 0 ? "" : hex(batch * BatchSize + i - role + 1, 8),
      name: role === 0 ? `invoke_agent ${agent}` : "chat gpt-4o-mini",
      kind: role === 0 ? 1 : 3,
      startTimeUnixNano: base + BigInt(i) * 1_000_000n,
      endTimeUnixNano: base + BigInt(i) * 1_000_000n + 350_000_000n,
      attributes: role === 0
        ? { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent }
        : {
          "gen_ai.operation.name": "chat",
          "gen_ai.provider.name": "openai",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.request.temperature": 0.2,
          "gen_ai.request.max_tokens": 512,
          "gen_ai.usage.input_tokens": 300 + (i % 50),
          "gen_ai.usage.output_tokens": 80 + (i % 20),
          "gen_ai.input.messages": JSON.stringify([
            { role: "system", parts: [{ type: "text", content: "You are a careful tax intake assistant. Extract the filing facts." }] },
            { role: "user", parts: [{ type: "text", content: `Client ${traceNo}: single, ${i % 4} dependents, wages ${40_000 + i} dollars.` }] }
          ]),
          "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: `{"filingStatus":"single","dependents":${i % 4}}` }] }])
        },
      events: [],
      statusCode: 1,
      statusMessage: ""
    })
  }
  return { resourceSpans: [{ resource: { "service.name": "bench" }, scopeSpans: [{ scopeName: "bench", spans }] }] }
}

const anyValue = (v: unknown) =>
  typeof v === "string" ? { stringValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }

/** The batch as OTLP/JSON text, as the HTTP JSON exporter would send it. */
const toJsonText = (request: OtlpTraceRequest): string =>
  JSON.stringify({
    resourceSpans: request.resourceSpans.map((rs) => ({
      resource: { attributes: Object.entries(rs.resource).map(([key, value]) => ({ key, value: anyValue(value) })) },
      scopeSpans: rs.scopeSpans.map((ss) => ({
        scope: { name: ss.scopeName },
        spans: ss.spans.map((s) => ({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId === "" ? {} : { parentSpanId: s.parentSpanId }),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: Object.entries(s.attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
          status: { code: s.statusCode }
        }))
      }))
    }))
  })

const ingestLayer = OtlpIngest.layer().pipe(Layer.provideMerge(MemoryStorage.layer))

/** Decode and ingest every body; returns elapsed milliseconds. */
const run = (encoding: "json" | "protobuf", bodies: ReadonlyArray<string | Uint8Array>, layer: Layer.Layer<OtlpIngest, unknown> = ingestLayer) =>
  Effect.gen(function*() {
    const ingest = yield* OtlpIngest
    const started = performance.now()
    let accepted = 0
    for (const body of bodies) {
      const request = yield* decodeOtlp(encoding, body)
      accepted += (yield* ingest.ingest("bench", request)).accepted
    }
    const ms = performance.now() - started
    if (accepted !== bodies.length * BatchSize) return yield* Effect.die(new Error(`accepted ${accepted}`))
    return ms
  }).pipe(Effect.provide(layer))

const runWorker = (spans: number): void => {
  const batches = Math.ceil(spans / BatchSize)
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const program = Effect.gen(function*() {
    const ingest = yield* OtlpIngest
    const started = performance.now()
    for (let b = 0; b < batches; b++) {
      const request = yield* decodeOtlp("json", toJsonText(makeBatch(b)))
      yield* ingest.ingest("bench", request)
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    return performance.now() - started
  }).pipe(Effect.provide(ingestLayer))
  const ms = Effect.runSync(program)
  process.stdout.write(JSON.stringify({ spans: batches * BatchSize, ms, baselineRssMb: baseline / 2 ** 20, peakRssMb: peak / 2 ** 20, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 }))
}

export const ingestSuite: Suite = {
  name: "ingest",
  description: "OTLP ingest: spans/s for JSON and protobuf batches of 1,000 into the in-memory store; peak memory for 100,000 spans",
  run: (options) =>
    Effect.gen(function*() {
      const batches = options.quick ? 5 : 30
      const requests = Array.from({ length: batches }, (_, b) => makeBatch(b))
      const jsonBodies = requests.map(toJsonText)
      const protoBodies = requests.map(encodeProtobufRequest)
      // Warm up both paths once (JIT), then measure on fresh stores.
      yield* run("json", jsonBodies.slice(0, 2))
      yield* run("protobuf", protoBodies.slice(0, 2))
      const jsonMs = yield* run("json", jsonBodies)
      const protoMs = yield* run("protobuf", protoBodies)
      const spans = batches * BatchSize
      const jsonRate = spans / (jsonMs / 1000)
      const protoRate = spans / (protoMs / 1000)
      const dir = mkdtempSync(join(tmpdir(), "spectral-ingest-bench-"))
      const pgBodies = jsonBodies.slice(0, options.quick ? 2 : 5)
      const pgMs = yield* run("json", pgBodies, OtlpIngest.layer().pipe(Layer.provideMerge(Storage.layerPglite({ dataDir: join(dir, "db") })))).pipe(
        Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      )
      const pgRate = (pgBodies.length * BatchSize) / (pgMs / 1000)
      const memorySpans = options.quick ? 20_000 : 100_000
      const child = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", "memory", String(memorySpans)], {
        encoding: "utf8",
        maxBuffer: 1 << 20
      })) as { spans: number; ms: number; baselineRssMb: number; peakRssMb: number; heapUsedMb: number }
      const jsonKb = jsonBodies[0]!.length / 1024
      const protoKb = protoBodies[0]!.length / 1024
      yield* Console.log(`| encoding | batches × spans | body per batch | ms | spans/s |`)
      yield* Console.log(`| --- | --- | --- | --- | --- |`)
      yield* Console.log(`| OTLP/JSON | ${batches} × ${BatchSize} | ${jsonKb.toFixed(0)} KiB | ${jsonMs.toFixed(0)} | ${jsonRate.toFixed(0)} |`)
      yield* Console.log(`| protobuf | ${batches} × ${BatchSize} | ${protoKb.toFixed(0)} KiB | ${protoMs.toFixed(0)} | ${protoRate.toFixed(0)} |`)
      yield* Console.log(`| OTLP/JSON into embedded Postgres (PGlite) | ${pgBodies.length} × ${BatchSize} | ${jsonKb.toFixed(0)} KiB | ${pgMs.toFixed(0)} | ${pgRate.toFixed(0)} |`)
      yield* Console.log(
        `\n${child.spans} spans (JSON, in-memory store, child process): ${(child.spans / (child.ms / 1000)).toFixed(0)} spans/s, ` +
          `peak RSS ${child.peakRssMb.toFixed(0)} MiB (+${(child.peakRssMb - child.baselineRssMb).toFixed(0)} MiB over the process baseline), heap used at end ${child.heapUsedMb.toFixed(0)} MiB`
      )
      yield* Console.log(`target: >= 20000 spans/s on one core into the in-memory store — ${Math.min(jsonRate, protoRate) >= 20_000 ? "met" : "NOT met"}`)
      return {
        jsonSpansPerSecond: jsonRate,
        protobufSpansPerSecond: protoRate,
        pgliteJsonSpansPerSecond: pgRate,
        memorySpans: child.spans,
        memoryPeakRssMb: child.peakRssMb,
        memoryRssGrowthMb: child.peakRssMb - child.baselineRssMb,
        memoryHeapUsedMb: child.heapUsedMb
      }
    })
}

if (process.argv[2] === "--worker" && process.argv[3] === "memory") runWorker(Number(process.argv[4] ?? 100_000))
