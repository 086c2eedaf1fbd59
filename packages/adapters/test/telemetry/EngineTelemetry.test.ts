/**
 * The exporter boundary of the engine's telemetry (with `OtelBridge` mapping Effect's spans onto
 * the SDK's): spans leave the process only as their workspace's content class allows (platform: no content, operations: length markers, synthetic:
 * as they are), whatever the code that made them attached; the setting is checked, an unknown
 * class being an error that names it.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace"
import { ContentClass, EngineTelemetry } from "../../src/telemetry/index.ts"

const secret = "Maria Lopez, SSN 123-45-6789, moved to Ohio in March"

/** Spans for three workspaces, each a call with content under a phase span, one of them failing with the content. */
const program = (workspaceId: string) =>
  Effect.gen(function*() {
    yield* Effect.withSpan(
      Effect.annotateCurrentSpan({
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: secret }] }]),
        "gen_ai.output.messages": JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "ok" }] }]),
        "spectral.content.stimulus": secret
      }),
      "chat",
      { attributes: { "spectral.workspace.id": workspaceId } }
    )
    yield* Effect.logWarning(`retrying on ${secret}`).pipe(Effect.andThen(Effect.fail(new Error(`could not parse ${secret}`))), Effect.withSpan("Observe.run"), Effect.ignore)
  }).pipe(Effect.withSpan("ScanOrchestrator.run"))

const exportedBy = (policy: ContentClass.ContentClassPolicy, workspaceId: string) =>
  Effect.gen(function*() {
    const exporter = new InMemorySpanExporter()
    // Read before the layer is released: shutting the exporter down empties it.
    return yield* Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(EngineTelemetry.layer({ endpoint: exporter, contentClasses: policy, exportEachSpan: true }))
      yield* program(workspaceId).pipe(Effect.provideContext(context))
      return [...exporter.getFinishedSpans()]
    }))
  })

const byName = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.find((s) => s.name === name)!

const policy = (classes: Record<string, string>, defaultClass?: string) =>
  ContentClass.makePolicy({ ...(defaultClass === undefined ? {} : { defaultClass }), workspaces: classes })

describe("ContentClassSpanProcessor", () => {
  it.effect("platform (the default): content attributes, exception messages and error descriptions are dropped; the rest is kept", () =>
    Effect.gen(function*() {
      const spans = yield* exportedBy(yield* policy({}), "ws-customer")
      assert.sameMembers(spans.map((s) => s.name), ["chat", "Observe.run", "ScanOrchestrator.run"])
      assert.notInclude(JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events, st: s.status }))), "Maria Lopez")
      const chat = byName(spans, "chat")
      const root = byName(spans, "ScanOrchestrator.run")
      assert.strictEqual(chat.spanContext().traceId, root.spanContext().traceId, "one trace")
      assert.strictEqual(chat.parentSpanContext?.spanId, root.spanContext().spanId, "the call under the scan's span")
      assert.isUndefined(root.parentSpanContext)
      assert.strictEqual(chat.attributes["gen_ai.request.model"], "m")
      assert.strictEqual(chat.attributes["gen_ai.usage.input_tokens"], 12)
      assert.isUndefined(chat.attributes["gen_ai.input.messages"])
      assert.isUndefined(chat.attributes["spectral.content.stimulus"])
      const failed = byName(spans, "Observe.run")
      assert.strictEqual(failed.status.code, 2, "still marked as an error")
      assert.isUndefined(failed.status.message)
      assert.isTrue(failed.events.some((e) => e.name === "exception"), "the exception event stays, without its message")
      assert.isTrue(failed.events.some((e) => e.name === "log" && e.attributes?.["effect.logLevel"] === "WARN"), "the log line stays, without its text")
    }))

  it.effect("operations: content is replaced by its length; synthetic: exported as it is", () =>
    Effect.gen(function*() {
      const classes = yield* policy({ "ws-ops": "operations", "ws-gen": "synthetic" })
      const ops = yield* exportedBy(classes, "ws-ops")
      assert.notInclude(JSON.stringify(ops.map((s) => ({ a: s.attributes, e: s.events, st: s.status }))), "Maria Lopez")
      assert.strictEqual(byName(ops, "chat").attributes["spectral.content.stimulus"], `[redacted: ${secret.length} chars]`)
      assert.match(byName(ops, "Observe.run").status.message ?? "", /^\[redacted: \d+ chars\]$/)
      const synthetic = yield* exportedBy(classes, "ws-gen")
      assert.strictEqual(byName(synthetic, "chat").attributes["spectral.content.stimulus"], secret)
      assert.include(byName(synthetic, "Observe.run").status.message ?? "", "Maria Lopez")
      assert.isTrue(byName(synthetic, "Observe.run").events.some((e) => e.name === `retrying on ${secret}`))
    }))

  it.effect("a span without a workspace takes its trace's class; a workspace without a setting takes the default", () =>
    Effect.gen(function*() {
      // Default synthetic, the customer's workspace platform: the phase span (no workspace of its
      // own, ended after the call) is exported under platform too.
      const spans = yield* exportedBy(yield* policy({ "ws-customer": "platform" }, "synthetic"), "ws-customer")
      assert.isUndefined(byName(spans, "Observe.run").status.message)
      const other = yield* exportedBy(yield* policy({ "ws-customer": "platform" }, "synthetic"), "ws-lab")
      assert.strictEqual(byName(other, "chat").attributes["spectral.content.stimulus"], secret)
    }))

  it("SpanContent lets the engine attach content for synthetic workspaces only", () => {
    const classes = Effect.runSync(ContentClass.makePolicy({ workspaces: { a: "synthetic", b: "operations" } }))
    const content = EngineTelemetry.spanContentOf(classes)
    assert.deepStrictEqual([content.attach("a"), content.attach("b"), content.attach("c")], [true, false, false])
  })
})

describe("content-class settings", () => {
  it.effect("an unknown class is an error naming it and the workspace", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ContentClass.makePolicy({ workspaces: { "ws-a": "public" } }))
      assert.strictEqual(error._tag, "UnknownContentClass")
      assert.strictEqual(error.contentClass, "public")
      assert.strictEqual(error.workspaceId, "ws-a")
      assert.include(error.message, "\"public\"")
      const bad = yield* Effect.flip(ContentClass.makePolicy({ defaultClass: "secret" }))
      assert.strictEqual(bad.contentClass, "secret")
    }))

  it.effect("the environment's setting is read and checked even with export off", () =>
    Effect.gen(function*() {
      const withEnv = (env: Record<string, string>) => Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))
      const parsed = yield* ContentClass.policyConfig.pipe(withEnv({
        SPECTRAL_TELEMETRY_CONTENT_CLASS: "operations",
        SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES: "ws-a=synthetic, ws-b=platform"
      }))
      assert.strictEqual(parsed.defaultClass, "operations")
      assert.deepStrictEqual([...parsed.workspaces], [["ws-a", "synthetic"], ["ws-b", "platform"]])
      const malformed = yield* Effect.flip(ContentClass.policyConfig.pipe(withEnv({ SPECTRAL_TELEMETRY_WORKSPACE_CONTENT_CLASSES: "ws-a" })))
      assert.strictEqual(malformed._tag, "MalformedContentClassSetting")
      const off = yield* Effect.exit(Layer.build(EngineTelemetry.layerConfig).pipe(Effect.scoped, withEnv({ SPECTRAL_TELEMETRY_CONTENT_CLASS: "nope" })))
      assert.isTrue(Exit.isFailure(off))
      assert.include(String(Exit.isFailure(off) ? off.cause : ""), "nope")
    }))

  it("OTEL_EXPORTER_OTLP_HEADERS values are URL-decoded; the traces path is appended to the endpoint", () => {
    assert.deepStrictEqual(EngineTelemetry.parseHeaders("authorization=Bearer%20k1,x-team = a"), { authorization: "Bearer k1", "x-team": "a" })
    assert.strictEqual(EngineTelemetry.tracesUrl("http://127.0.0.1:4318/"), "http://127.0.0.1:4318/v1/traces")
  })
})
